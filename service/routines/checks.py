"""Routine health: what shows that the collaboration's routines have stopped running by themselves (seed 004:
groups that could not work for a year because nothing was organised). Four findings, each shown to the
coordinator of the agreement it concerns (service/routines/views.py) and told once by the daily job:

- a task offered to a group (organisation and role) that has no enabled member;
- a deviation waiting for the analysis group past its 30 days;
- an agreement in force whose follow-up was not held in its agreed interval;
- a joint body that has not met in a year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from service.agreements.models import Agreement, AgreementStatus, FollowUp
from service.columns import now
from service.deviations.analysis import ESCALATE_AFTER
from service.deviations.models import Deviation, DeviationStatus
from service.engine.specs import due_at
from service.extensions import db
from service.parties.models import ROLE_LABELS, Membership, Role, User
from service.processes.models import HumanTask, TaskStatus

BODY_SILENCE = timedelta(days=365)
COORDINATOR_ROLES = (Role.CASE_OFFICER, Role.MANAGER, Role.DEVIATION_COORDINATOR)


@dataclass(frozen=True)
class Finding:
    kind: str  # task_without_members, analysis_overdue, follow_up_missed, body_silent
    subject: str  # unique per kind: what the notice remembers
    organisation_id: int  # whose coordinator is told
    text: str
    endpoint: str = ""  # the page to open (url_for), with its argument
    argument: tuple[str, int] | None = None


KIND_LABELS = {
    "task_without_members": "Uppgift till en grupp utan medlemmar",
    "analysis_overdue": "Avvikelse väntar på analys för länge",
    "follow_up_missed": "Uppföljning inte gjord i tid",
    "body_silent": "Organ som inte har haft möte på ett år",
}


def findings() -> list[Finding]:
    """Every current finding, of every kind."""
    return [*_tasks_without_members(), *_analyses_overdue(), *_follow_ups_missed(), *_silent_bodies()]


def findings_for(user: User) -> list[Finding]:
    """The findings for organisations ``user`` coordinates for (all of them for an administrator)."""
    if any(m.role == Role.ADMIN for m in user.memberships):
        return findings()
    mine = {m.organisation_id for m in user.memberships if m.role in COORDINATOR_ROLES}
    return [f for f in findings() if f.organisation_id in mine]


def _tasks_without_members() -> list[Finding]:
    members = select(Membership.id).join(User).where(
        Membership.organisation_id == HumanTask.organisation_id, Membership.role == HumanTask.role,
        User.is_enabled.is_(True)).exists()
    tasks = db.session.scalars(select(HumanTask).where(
        HumanTask.status == TaskStatus.READY, HumanTask.user_id.is_(None), HumanTask.claimed_by_id.is_(None),
        HumanTask.organisation_id.is_not(None), ~members).order_by(HumanTask.id)).all()
    return [Finding("task_without_members", f"task:{t.id}", _coordinator_of_task(t),
                    _("Uppgiften \"%(task)s\" (%(case)s) väntar hos %(role)s i %(org)s, men gruppen har inga medlemmar.",
                      task=t.name, case=t.case_title, role=_(ROLE_LABELS.get(Role(t.role), t.role))
                      if t.role in Role.__members__.values() else t.role, org=t.organisation.name),
                    "inbox.task_page", ("task_id", t.id)) for t in tasks]


def _coordinator_of_task(task: HumanTask) -> int:
    """The coordinating organisation of the agreement the task's case concerns, else the group's organisation."""
    from service.disputes.models import Dispute

    agreement_id = db.session.scalar(select(Deviation.agreement_id).where(Deviation.instance_id == task.instance_id)) \
        or db.session.scalar(select(Dispute.agreement_id).where(Dispute.instance_id == task.instance_id)) \
        or db.session.scalar(select(Agreement.id).where(Agreement.lifecycle_instance_id == task.instance_id))
    agreement = db.session.get(Agreement, agreement_id) if agreement_id else None
    return agreement.coordinator_organisation_id if agreement is not None else int(task.organisation_id or 0)


def _analyses_overdue() -> list[Finding]:
    limit = now() - ESCALATE_AFTER
    deviations = db.session.scalars(select(Deviation).where(
        Deviation.status == DeviationStatus.IN_ANALYSIS, Deviation.analysed_at.is_(None),
        Deviation.analysis_started_at < limit).order_by(Deviation.id)).all()
    found = []
    for d in deviations:
        agreement = db.session.get(Agreement, d.agreement_id) if d.agreement_id else None
        organisation = agreement.coordinator_organisation_id if agreement else d.analysis_organisation_id
        found.append(Finding("analysis_overdue", f"deviation:{d.id}", organisation,
                             _("Avvikelse %(number)s har väntat på analys sedan %(day)s.", number=d.case_number,
                               day=d.analysis_started_at.date().isoformat() if d.analysis_started_at else ""),
                             "deviations.deviation_page", ("deviation_id", d.id)))
    return found


def _follow_ups_missed() -> list[Finding]:
    agreements = db.session.scalars(select(Agreement).where(
        Agreement.status.in_((AgreementStatus.ACTIVE, AgreementStatus.UNDER_AMENDMENT))).order_by(Agreement.id)).all()
    last = dict(db.session.execute(select(FollowUp.agreement_id, func.max(FollowUp.period_end))
                                   .group_by(FollowUp.agreement_id)).all())
    found = []
    for agreement in agreements:
        since: datetime | None = last.get(agreement.id) or agreement.activated_at
        if since is None:
            continue
        expected = due_at(_interval(agreement), since)
        if expected < now():
            found.append(Finding("follow_up_missed", f"agreement:{agreement.id}:{expected.date().isoformat()}",
                                 agreement.coordinator_organisation_id,
                                 _("%(title)s: uppföljningen skulle ha gjorts senast %(day)s.", title=agreement.title,
                                   day=expected.date().isoformat()),
                                 "inbox.agreement_page", ("agreement_id", agreement.id)))
    return found


def _interval(agreement: Agreement) -> str:
    """The follow-up interval the agreement's text sets (its version, once it carries one), else the agreement's."""
    version = agreement.current_version
    return str(getattr(version, "follow_up_interval", None) or agreement.follow_up_interval or "P1Y")


def _silent_bodies() -> list[Finding]:
    from service.bodies.models import JointBody, Meeting

    today = now().date()
    latest = dict(db.session.execute(select(Meeting.body_id, func.max(Meeting.held_on)).where(Meeting.held_on <= today)
                                     .group_by(Meeting.body_id)).all())
    found = []
    for body in db.session.scalars(select(JointBody).order_by(JointBody.id)):
        met = latest.get(body.id)
        since = met or body.created_at.date()
        if today - since < BODY_SILENCE or not body.agreements:
            continue
        text = (_("%(body)s har inte haft något möte sedan %(day)s.", body=body.name, day=met.isoformat()) if met
                else _("%(body)s har inte haft något möte.", body=body.name))
        for organisation_id in {a.coordinator_organisation_id for a in body.agreements}:
            found.append(Finding("body_silent", f"body:{body.id}:{since.isoformat()}", organisation_id, text))
    return found
