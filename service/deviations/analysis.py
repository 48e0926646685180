"""The analysis group's time: a reminder after 14 days, and after 30 the steering side is told that nothing has
happened (seed 004: "Analysgruppens arbete har inte kommit igång under 2018"). The boundary timers
analysis_reminder and analysis_overdue on the user task analyse (bpmn/deviation.bpmn) wake the instance; the
record says whom to tell, once each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from service import audit
from service.columns import now
from service.deviations.models import Deviation, DeviationEntry, DeviationStatus, EntryKind
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, Role, User

REMIND_AFTER = timedelta(days=14)  # the timer analysis_reminder ("P14D")
ESCALATE_AFTER = timedelta(days=30)  # the timer analysis_overdue ("P30D"), the task's dueIn
STEERING_KINDS = ("styrgrupp", "samordningsgrupp")
ANALYSE_TASK = "analyse"


def follow_up_analysis(deviation: Deviation) -> None:
    """Remind the analysis group, or escalate, if its time has come and it has not been done yet."""
    started = deviation.analysis_started_at
    if deviation.status != DeviationStatus.IN_ANALYSIS or deviation.analysed_at is not None or started is None:
        return
    moment = now()
    if deviation.analysis_reminded_at is None and moment >= started + REMIND_AFTER:
        remind_analysis_group(deviation)
    if deviation.analysis_escalated_at is None and moment >= started + ESCALATE_AFTER:
        escalate_analysis(deviation)


def remind_analysis_group(deviation: Deviation) -> None:
    """Remind the analysis group that the deviation waits for its analysis."""
    from service.deviations.operations import deviation_link

    deviation.analysis_reminded_at = now()
    _entry(deviation, EntryKind.REMINDER, "Påminnelse till analysgruppen: avvikelsen väntar på analys.")
    notify(analysis_group(deviation), NotificationKind.DEADLINE_SOON,
           f"Påminnelse: avvikelse {deviation.case_number} väntar på analys",
           f"Avvikelse {deviation.case_number} har väntat på analysgruppen i 14 dagar. Efter 30 dagar får "
           f"styrgruppen veta att analysen inte är gjord.\n\nÖppna avvikelsen: {deviation_link(deviation)}",
           instance_id=deviation.instance_id)
    audit.record(None, "deviation.analysis_reminded", deviation, instance_id=deviation.instance_id)


def escalate_analysis(deviation: Deviation) -> None:
    """Tell the agreement's steering group and the coordinator that the analysis has not been done in time."""
    from service.deviations.operations import deviation_link

    deviation.analysis_escalated_at = now()
    _entry(deviation, EntryKind.ESCALATED, "Analysen gjordes inte inom 30 dagar; styrgruppen och samordnaren har fått veta.")
    recipients = steering_side(deviation)
    notify(recipients, NotificationKind.ESCALATED, f"Avvikelse {deviation.case_number} har inte analyserats",
           f"Analysgruppen har inte analyserat avvikelse {deviation.case_number} inom 30 dagar. Uppgiften ligger "
           f"kvar hos analysgruppen; se till att arbetet kommer igång.\n\nÖppna avvikelsen: {deviation_link(deviation)}",
           instance_id=deviation.instance_id)
    audit.record(None, "deviation.analysis_escalated", deviation, instance_id=deviation.instance_id,
                 recipients=[person.id for person in recipients])


def analysis_group(deviation: Deviation) -> list[User]:
    """The agreement's joint analysis group's members, else the analysing organisation's group members."""
    members = _body_members(deviation.agreement_id, ("analysgrupp",))
    return members or _role_holders({deviation.analysis_organisation_id}, (Role.ANALYSIS_GROUP_MEMBER,))


def steering_side(deviation: Deviation) -> list[User]:
    """The agreement's joint steering group and its coordinator's managers (the analysing party's managers
    when the deviation names no agreement)."""
    from service.agreements.models import Agreement

    agreement = db.session.get(Agreement, deviation.agreement_id) if deviation.agreement_id else None
    organisations = {agreement.coordinator_organisation_id if agreement else deviation.analysis_organisation_id}
    people = _body_members(deviation.agreement_id, STEERING_KINDS)
    people += _role_holders(organisations, (Role.MANAGER, Role.DEVIATION_COORDINATOR))
    return list({person.id: person for person in people}.values())


def _body_members(agreement_id: int | None, kinds: tuple[str, ...]) -> list[User]:
    if agreement_id is None:
        return []
    from service.bodies.models import BodyMember, JointBody, joint_body_agreements

    today = now().date()
    members = db.session.scalars(select(BodyMember).join(JointBody).join(
        joint_body_agreements, joint_body_agreements.c.body_id == JointBody.id).where(
        joint_body_agreements.c.agreement_id == agreement_id, JointBody.kind.in_(kinds))).all()
    return [m.user for m in members if m.is_in_term(today) and m.user.is_enabled]


# --- the joint analysis group works on the task analyse ----------------------------------------------------

def may_work_on(user: User, task: Any) -> bool:
    """A member (in term) of the joint analysis group of the deviation's agreement may analyse it."""
    if task.bpmn_id != ANALYSE_TASK:
        return False
    agreement_id = db.session.scalar(select(Deviation.agreement_id).where(Deviation.instance_id == task.instance_id))
    return any(member.id == user.id for member in _body_members(agreement_id, ("analysgrupp",)))


def visible_tasks(user: User) -> Any:
    """SQL condition on human_tasks: analyse tasks of deviations under agreements whose joint analysis group
    ``user`` is a member of."""
    from service.bodies.models import BodyMember, JointBody, joint_body_agreements
    from service.processes.models import HumanTask

    today = now().date()
    agreements = select(joint_body_agreements.c.agreement_id).join(
        JointBody, JointBody.id == joint_body_agreements.c.body_id).join(BodyMember, BodyMember.body_id == JointBody.id).where(
        JointBody.kind == "analysgrupp", BodyMember.user_id == user.id, BodyMember.term_from <= today,
        or_(BodyMember.term_to.is_(None), BodyMember.term_to >= today))
    instances = select(Deviation.instance_id).where(Deviation.agreement_id.in_(agreements))
    return and_(HumanTask.bpmn_id == ANALYSE_TASK, HumanTask.instance_id.in_(instances))


def register() -> None:
    """Let the agreement's joint analysis group's members hold the analysis task (besides the role group)."""
    from service import access

    access.register_task_rule(may_work_on, visible_tasks)


def _role_holders(organisation_ids: set[int], roles: tuple[Role, ...]) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.organisation_id.in_(organisation_ids), Membership.role.in_(roles), User.is_enabled.is_(True))
        .order_by(User.id)).unique())


def _entry(deviation: Deviation, kind: EntryKind, text: str) -> None:
    deviation.entries.append(DeviationEntry(kind=kind, text=text, created_at=now()))
