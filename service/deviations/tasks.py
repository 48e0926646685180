"""Deadlines our diagrams cannot state, written onto the task list: the dispute levels' (from the dispute
record). A deadline that is in the task's data is better given by the task property ``dueAt``, as the
deviation diagram does."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from service.extensions import db
from service.processes.models import HumanTask, TaskStatus


def set_due_dates(instance_id: int, due: Mapping[str, datetime]) -> None:
    """Give READY task rows (by engine task id) without a due date the one the case computed."""
    if not due:
        return
    rows = db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY, HumanTask.task_id.in_(list(due))))
    for row in rows:
        if row.due_at is None:
            row.due_at = due[row.task_id]
