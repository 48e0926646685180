"""Tell the coordinators about new routine-health findings (each once), and run the daily routine jobs:
overdue improvement actions remind their owners, new findings go to the coordinators."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from service.columns import now
from service.deviations.improvements import remind_overdue_improvements
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, User
from service.routines.checks import COORDINATOR_ROLES, KIND_LABELS, findings
from service.routines.models import RoutineNotice


def notify_new_findings() -> int:
    """Notify each finding's coordinators once; the number of findings told."""
    told = {(kind, subject) for kind, subject in db.session.execute(select(RoutineNotice.kind, RoutineNotice.subject))}
    count = 0
    with force_locale("sv"):
        for finding in findings():
            if (finding.kind, finding.subject) in told:
                continue
            notify(_coordinators(finding.organisation_id), NotificationKind.OTHER,
                   f"Rutinerna: {_(KIND_LABELS[finding.kind]).lower()}",
                   f"{finding.text}\n\nSe sidan Rutinernas hälsa i Samverkan.")
            db.session.add(RoutineNotice(kind=finding.kind, subject=finding.subject, notified_at=now()))
            told.add((finding.kind, finding.subject))
            count += 1
    db.session.flush()
    return count


def run_daily() -> tuple[int, int]:
    """The daily routine job: (improvement actions reminded, findings told)."""
    return remind_overdue_improvements(now().date()), notify_new_findings()


def _coordinators(organisation_id: int) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.organisation_id == organisation_id, Membership.role.in_(COORDINATOR_ROLES),
        User.is_enabled.is_(True)).order_by(User.id)).unique())
