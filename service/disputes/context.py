"""The dispute a task belongs to, shown on the inbox's task page (inbox/views.py calls task_context)."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select

from service.disputes.models import Dispute
from service.extensions import db
from service.processes.models import HumanTask


def task_context(task: HumanTask) -> Markup | None:
    """HTML with the question, the parties and the steps so far; None for tasks of other processes."""
    dispute = db.session.scalar(select(Dispute).where(Dispute.instance_id == task.instance_id))
    if dispute is None:
        return None
    return Markup(render_template("disputes/_context.html", dispute=dispute, task=task))
