"""Admin view: the timers the scheduler will fire, and the notification outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from service.extensions import db
from service.notifications.operations import list_outbox
from service.notifications.sender import is_configured
from service.parties.models import Role
from service.processes.models import ProcessTimer, TimerStatus
from service.scheduler.models import scheduler_jobs

bp = Blueprint("scheduler_admin", __name__, template_folder="templates")
LIMIT = 200


@bp.get("/admin/schemalaggning")
@login_required
def schedule() -> str:
    """Show waiting timers with their scheduled jobs, and the notification outbox."""
    if not any(m.role == Role.ADMIN for m in current_user.memberships):
        abort(403)
    timers = db.session.scalars(select(ProcessTimer).where(ProcessTimer.status == TimerStatus.WAITING)
                                .order_by(ProcessTimer.due_at).limit(LIMIT)).all()
    # Read from the job store's table, so this works in any process, not only the scheduler's.
    jobs = {row.id: _moment(row.next_run_time) for row in db.session.execute(
        select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time).where(
            scheduler_jobs.c.id.in_([f"timer-{t.id}" for t in timers])))}
    outbox = list_outbox(LIMIT)
    return render_template("scheduler/schedule.html", timers=timers, jobs=jobs, outbox=outbox,
                           mail_configured=is_configured(current_app.config))


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
