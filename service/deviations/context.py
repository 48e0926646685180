"""The deviation a task belongs to, shown on the inbox's task page (inbox/views.py calls task_context)."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select

from service.deviations.models import Deviation
from service.extensions import db
from service.processes.models import HumanTask


def task_context(task: HumanTask) -> Markup | None:
    """HTML with the report, each party's state and the history; None for tasks of other processes."""
    deviation = db.session.scalar(select(Deviation).where(Deviation.instance_id == task.instance_id))
    if deviation is None:
        return None
    return Markup(render_template("deviations/_context.html", deviation=deviation, task=task))
