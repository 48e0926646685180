"""Admin view: the timers the scheduler will fire, and the notification outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from service.extensions import db
from service.notifications.operations import list_outbox
from service.notifications.sender import (
    ADDRESS_REFUSED,
    FAILED,
    LOGIN_REFUSED,
    UNREACHABLE,
    is_configured,
    problem_kind,
    server_name,
)
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
                           mail_configured=is_configured(current_app.config), delivery_problem=delivery_problem)


# A failed delivery on the outbox page: what went wrong in plain words, with the server (the log has the rest).
PROBLEMS = {
    UNREACHABLE: "e-postservern svarar inte (%(server)s)",
    LOGIN_REFUSED: "e-postservern godtog inte inloggningen (%(server)s)",
    ADDRESS_REFUSED: "e-postservern tog inte emot adressen (%(server)s)",
    FAILED: "kunde inte skickas (%(server)s)",
}


def delivery_problem(last_error: str) -> str:
    """The outbox's "last error" column: a clear message in the reader's language, or nothing if none."""
    if not last_error:
        return ""
    return _(PROBLEMS[problem_kind(last_error)], server=server_name(current_app.config))


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
