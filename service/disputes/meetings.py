"""Levels 2 and 3 of a dispute are decided at a meeting of a joint body, never by one party (issue #20).

Level 2 is the agreement's joint steering group (a JointBody of kind styrgrupp serving the agreement), level 3
the county's joint group (kind lansniva) after the officials' preparation (county_preparation). The level's
task (steering_decision, county_decision in bpmn/dispute.bpmn) waits for the meeting: the body's secretary puts
the dispute on the agenda, records the attendance and the decision (service.bodies.operations
.record_meeting_decision), and the decision completes the waiting task in the same transaction. Anyone
completing the task directly, a party's member or the secretary alone, is refused (DisputeHooks.prepare
calls ``refuse_direct_decision``).

A level with no body: level 2 always needs one (the agreement's coordinator or an admin sets it up; the
waiting dispute is decided at the body's first meeting that takes it up, or escalates when the level's time
runs out); level 3 without a county body is decided by the county organisation's Länsnivå role as before (an
organisation outside the parties). Disputes already running on an older version of the diagram follow the
same rule: the hook applies to every version, and a meeting decision completes their waiting task just the
same, so they need no instance migration.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from service import access
from service.bodies.models import BodyKind, BodyMember, JointBody, Meeting, MeetingDecision
from service.bodies.operations import CaseType, bodies_of, register_case_type
from service.disputes.models import Dispute, DisputeLevel, DisputeStatus
from service.errors import InvalidTransition
from service.extensions import db
from service.parties.models import N_, User
from service.processes.models import HumanTask, TaskStatus

CASE_TYPE = "dispute"
DECIDING_TASKS = {"steering_decision": DisputeLevel.STEERING_GROUP, "county_decision": DisputeLevel.COUNTY}
BODY_KINDS = {DisputeLevel.STEERING_GROUP: BodyKind.STYRGRUPP, DisputeLevel.COUNTY: BodyKind.LANSNIVA}
ESCALATE = "escalate"
_LANDING = "disputes.landing_meeting_decision"  # session.info key: the dispute a meeting decision completes now


def deciding_body(dispute: Dispute, level: DisputeLevel) -> JointBody | None:
    """The body deciding the dispute at ``level``: the one named when it was opened, else the agreement's."""
    named = dispute.steering_body_id if level == DisputeLevel.STEERING_GROUP else dispute.county_body_id
    if named is not None:
        return db.session.get(JointBody, named)
    bodies = bodies_of(dispute.agreement_id, BODY_KINDS[level]) if level in BODY_KINDS else []
    return bodies[0] if bodies else None


def needs_meeting(dispute: Dispute, level: DisputeLevel) -> bool:
    return level == DisputeLevel.STEERING_GROUP or (level == DisputeLevel.COUNTY and deciding_body(dispute, level) is not None)


def refuse_direct_decision(dispute: Dispute, task: HumanTask, data: dict[str, Any]) -> None:
    """Let the level's decision through only as the meeting decision being landed now."""
    level = DECIDING_TASKS[task.bpmn_id]
    if db.session.info.get(_LANDING) == dispute.id:  # set only by land_decision, never by a request's data
        return
    if needs_meeting(dispute, level):
        body = deciding_body(dispute, level)
        where = body.name if body is not None else _("avtalets styrgrupp")
        raise InvalidTransition(_("Tvisten avgörs av %(body)s på ett möte, aldrig av en part ensam. Organets "
                                  "sekreterare för in mötets beslut (§) på mötessidan.", body=where))


def land_decision(decision: MeetingDecision, by: User) -> None:
    """The meeting's decision on a dispute completes the level's waiting task (resolve or escalate)."""
    dispute = db.session.get(Dispute, decision.case_id)
    if dispute is None or not dispute.is_open:
        raise InvalidTransition(_("Tvisten är redan avgjord."))
    level = DisputeLevel(dispute.level)
    body = deciding_body(dispute, level) if level in BODY_KINDS else None
    if body is None or body.id != decision.meeting.body_id:
        raise InvalidTransition(_("Tvisten väntar inte på beslut av det här organet."))
    task = _waiting_task(dispute, level)
    if task is None:
        raise InvalidTransition(_("Tvisten är inte beredd för beslut än."))
    if level == DisputeLevel.STEERING_GROUP:
        dispute.steering_body_id = body.id
    else:
        dispute.county_body_id = body.id
    _complete(task, _task_data(level, decision), dispute.id, by)


def _waiting_task(dispute: Dispute, level: DisputeLevel) -> HumanTask | None:
    bpmn_id = next(task for task, at in DECIDING_TASKS.items() if at == level)
    return db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == dispute.instance_id, HumanTask.bpmn_id == bpmn_id, HumanTask.status == TaskStatus.READY))


def _task_data(level: DisputeLevel, decision: MeetingDecision) -> dict[str, Any]:
    paragraph = f"§ {decision.paragraph} ({decision.meeting.body.name} {decision.meeting.held_on.isoformat()}): "
    data: dict[str, Any] = {"needs_instruction": decision.outcome == "resolve_with_instruction"}
    if level == DisputeLevel.STEERING_GROUP and decision.outcome == ESCALATE:
        return {**data, "outcome": ESCALATE, "motivation": paragraph + decision.text}
    if level == DisputeLevel.COUNTY and decision.outcome == ESCALATE:
        raise InvalidTransition(_("Länsnivån är tvistens sista nivå; den kan inte eskaleras vidare."))
    data["decision"] = paragraph + decision.text
    return {**data, "outcome": "resolve"} if level == DisputeLevel.STEERING_GROUP else data


def _complete(task: HumanTask, data: dict[str, Any], dispute_id: int, by: User) -> None:
    from service.processes.operations import complete_task

    db.session.info[_LANDING] = dispute_id
    try:
        complete_task(task.id, data, by=by)
    finally:
        db.session.info.pop(_LANDING, None)


def _title(dispute_id: int) -> str | None:
    dispute = db.session.get(Dispute, dispute_id)
    return None if dispute is None else f"{_('Tvist')} {dispute.case_number}: {dispute.question[:200]}"


def _url(dispute_id: int) -> str:
    from flask import url_for

    return url_for("disputes.dispute_page", dispute_id=dispute_id)


def _candidates(meeting: Meeting) -> list[tuple[int, str]]:
    """The open disputes waiting for this meeting's body at their level."""
    agreement_ids = [a.id for a in meeting.body.agreements]
    disputes = db.session.scalars(select(Dispute).where(Dispute.agreement_id.in_(agreement_ids),
                                                        Dispute.status == DisputeStatus.OPEN).order_by(Dispute.id))
    found = []
    for dispute in disputes:
        level = DisputeLevel(dispute.level)
        body = deciding_body(dispute, level) if level in BODY_KINDS else None
        if body is not None and body.id == meeting.body_id:
            found.append((dispute.id, f"{dispute.case_number}: {dispute.question[:120]}"))
    return found


# --- who works on the waiting task: the deciding body's secretary and chair ---------------------------------

def _recorder_bodies(user: User) -> Any:
    return select(BodyMember.body_id).where(BodyMember.user_id == user.id,
                                            or_(BodyMember.is_secretary, BodyMember.is_chair))


def may_work_on(user: User, task: Any) -> bool:
    if task.bpmn_id not in DECIDING_TASKS:
        return False
    dispute = db.session.scalar(select(Dispute).where(Dispute.instance_id == task.instance_id))
    body = deciding_body(dispute, DECIDING_TASKS[task.bpmn_id]) if dispute is not None else None
    return body is not None and any(m.user_id == user.id and (m.is_secretary or m.is_chair) for m in body.members)


def visible_tasks(user: User) -> Any:
    """SQL condition on human_tasks: the deciding tasks of disputes whose body ``user`` is secretary or chair of."""
    mine = _recorder_bodies(user)
    instances = select(Dispute.instance_id).where(or_(Dispute.steering_body_id.in_(mine), Dispute.county_body_id.in_(mine)))
    return and_(HumanTask.bpmn_id.in_(tuple(DECIDING_TASKS)), HumanTask.instance_id.in_(instances))


def register() -> None:
    """Let meetings decide disputes, and the deciding body's secretary and chair hold the waiting task."""
    register_case_type(CASE_TYPE, CaseType(label=N_("Tvist"), title=_title, land=land_decision, url=_url,
                                                   candidates=_candidates))
    access.register_task_rule(may_work_on, visible_tasks)
