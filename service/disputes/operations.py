"""Open disputes and record each level's outcome: the line organisation, the steering group, the county level.
bpmn/dispute.bpmn drives the order and the deadlines (hooks.py ties the two together)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from service import audit
from service.agreements.models import Agreement
from service.bodies.models import BodyKind
from service.bodies.operations import bodies_of
from service.columns import now
from service.deviations.case_numbers import DISPUTE_PREFIX, next_case_number
from service.deviations.identity import refuse_identity_numbers
from service.deviations.models import Deviation
from service.deviations.operations import local_date
from service.disputes.models import (
    DEFAULT_PERIODS,
    LEVELS,
    Dispute,
    DisputeLevel,
    DisputeLevelSetting,
    DisputeParty,
    DisputeStatus,
    DisputeStep,
    StepKind,
)
from service.engine.specs import due_at
from service.errors import InvalidTransition, NotPermitted, ValidationFailed
from service.extensions import db
from service.parties.models import Role, User
from service.processes.operations import start_process

DISPUTE_PROCESS = "dispute"
FORM_ERROR = "Formuläret innehåller fel. Inget har sparats."
OPEN_TEXT_LABELS = {"question": "Tvistefråga", "background": "Bakgrund"}
RAISE = "raise"  # level 1: lifted to the next management level up in the parties' line organisations
REMIND_ONLY_PERIOD = "P100Y"  # a level whose time only reminds: its BPMN timer, in practice never due


@dataclass(frozen=True)
class Ladder:
    """Who handles levels 2 and 3 of an agreement's disputes, and each level's time."""

    steering_organisation_id: int
    county_organisation_id: int
    periods: Mapping[DisputeLevel, str]
    escalates: Mapping[DisputeLevel, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class NewDispute:
    agreement_id: int
    opening_organisation_id: int
    other_organisation_ids: Iterable[int]
    question: str
    background: str = ""
    deviation_id: int | None = None


def open_dispute(new: NewDispute, *, by: User) -> Dispute:
    """Open a dispute between parties of an agreement; it starts with the parties' managers (level 1)."""
    refuse_identity_numbers({"question": new.question, "background": new.background}, OPEN_TEXT_LABELS)
    if not by.has_role(new.opening_organisation_id, Role.MANAGER):
        raise NotPermitted("Bara en chef hos en part kan öppna en tvist.")
    agreement = _agreement(new.agreement_id)
    others = sorted(set(map(int, new.other_organisation_ids)) - {new.opening_organisation_id})
    _check_parties(agreement, new.opening_organisation_id, others)
    ladder = ladder_for(agreement)
    dispute = _new_dispute(new, agreement, ladder, by)
    dispute.steering_body_id = _first_body(agreement.id, BodyKind.STYRGRUPP)  # levels 2 and 3 decide at meetings
    dispute.county_body_id = _first_body(agreement.id, BodyKind.LANSNIVA)
    _add_parties(dispute, new.opening_organisation_id, others)
    _add_step(dispute, StepKind.OPENED, by, text=new.question, organisation_id=new.opening_organisation_id)
    db.session.add(dispute)
    db.session.flush()
    instance = start_process(DISPUTE_PROCESS, by=by, title=f"Tvist {dispute.case_number}: {agreement.title}",
                             data=_process_data(dispute, ladder))
    dispute.instance_id = instance.id
    audit.record(by, "dispute.opened", dispute, instance_id=instance.id, case_number=dispute.case_number,
                 agreement_id=agreement.id, parties={str(p.organisation_id): p.case_number for p in dispute.parties},
                 level=dispute.level, due_at=dispute.level_due_at.isoformat(), deviation_id=new.deviation_id)
    db.session.flush()
    return dispute


def open_dispute_from_deviation(deviation: Deviation, question: str, *, by: User) -> Dispute:
    """Open the dispute the analysis group proposed: the reporting party against the receiving parties."""
    if deviation.agreement_id is None:
        raise InvalidTransition("Avvikelsen gäller inget avtal; en tvist gäller alltid ett avtal.")
    return open_dispute(NewDispute(
        agreement_id=deviation.agreement_id, opening_organisation_id=deviation.reporting_organisation_id,
        other_organisation_ids=[r.organisation_id for r in deviation.receivers], question=question,
        background=f"Föreslagen av analysgruppen efter avvikelse {deviation.case_number}.", deviation_id=deviation.id),
        by=by)


def _first_body(agreement_id: int, kind: BodyKind) -> int | None:
    bodies = bodies_of(agreement_id, kind)
    return bodies[0].id if bodies else None


def _agreement(agreement_id: int) -> Agreement:
    agreement = db.session.get(Agreement, int(agreement_id))
    if agreement is None:
        raise ValidationFailed(FORM_ERROR, {"agreement_id": ["Okänt avtal."]})
    return agreement


def _check_parties(agreement: Agreement, opening_id: int, others: list[int]) -> None:
    members = {p.organisation_id for p in agreement.parties} | {agreement.coordinator_organisation_id}
    if not others:
        raise ValidationFailed(FORM_ERROR, {"other_organisation_ids": ["Välj minst en annan part än din egen."]})
    if opening_id not in members or not set(others) <= members:
        raise ValidationFailed(FORM_ERROR, {"other_organisation_ids": ["Parterna i tvisten måste vara parter i avtalet."]})


def ladder_for(agreement: Agreement) -> Ladder:
    """Who handles levels 2 and 3 of the agreement's disputes; level 2 defaults to the coordinating party."""
    settings = _settings(agreement.id)
    county = settings.get(DisputeLevel.COUNTY)
    if county is None or county.organisation_id is None:
        raise ValidationFailed(FORM_ERROR, {"agreement_id": [
            "Ingen samverkansnivå på länsnivå är angiven för avtalet. Kontakta administratören."]})
    steering = settings.get(DisputeLevel.STEERING_GROUP)
    return Ladder(steering_organisation_id=(steering and steering.organisation_id) or agreement.coordinator_organisation_id,
                  county_organisation_id=county.organisation_id, periods=_periods(settings),
                  escalates={level: row.escalates for level, row in settings.items()})


def _settings(agreement_id: int) -> dict[DisputeLevel, DisputeLevelSetting]:
    """Per level: the agreement's own row, else the row for all agreements."""
    rows = db.session.scalars(select(DisputeLevelSetting).where(
        (DisputeLevelSetting.agreement_id == agreement_id) | DisputeLevelSetting.agreement_id.is_(None))
        .order_by(DisputeLevelSetting.agreement_id.is_(None))).all()
    found: dict[DisputeLevel, DisputeLevelSetting] = {}
    for row in rows:
        found.setdefault(DisputeLevel(row.level), row)
    return found


def _periods(settings: Mapping[DisputeLevel, DisputeLevelSetting]) -> dict[DisputeLevel, str]:
    periods = dict(DEFAULT_PERIODS)
    for level, row in settings.items():
        if row.period:
            periods[level] = row.period
    return periods


def set_level_setting(agreement_id: int | None, level: DisputeLevel, organisation_id: int | None,
                      period: str | None, *, escalates: bool = True, by: User | None = None) -> DisputeLevelSetting:
    """Name the organisation handling a level and/or the level's time (for one agreement, or for all)."""
    row = db.session.scalar(select(DisputeLevelSetting).where(
        DisputeLevelSetting.level == level,
        DisputeLevelSetting.agreement_id.is_(None) if agreement_id is None else DisputeLevelSetting.agreement_id == agreement_id))
    if row is None:
        row = DisputeLevelSetting(agreement_id=agreement_id, level=level)
        db.session.add(row)
    row.organisation_id, row.period, row.escalates = organisation_id, period, escalates
    db.session.flush()
    audit.record(by, "dispute.level_configured", row, agreement_id=agreement_id, level=level,
                 organisation_id=organisation_id, period=period, escalates=escalates)
    return row


def _new_dispute(new: NewDispute, agreement: Agreement, ladder: Ladder, by: User) -> Dispute:
    moment = now()
    return Dispute(
        agreement_id=agreement.id, opening_organisation_id=new.opening_organisation_id, opened_by_id=by.id,
        opened_at=moment, question=new.question.strip(), background=(new.background or "").strip(),
        deviation_id=new.deviation_id, status=DisputeStatus.OPEN, level=DisputeLevel.LINE, level_started_at=moment,
        level_due_at=due_at(ladder.periods[DisputeLevel.LINE], moment),
        steering_organisation_id=ladder.steering_organisation_id, county_organisation_id=ladder.county_organisation_id,
        instruction_organisation_id=agreement.coordinator_organisation_id,
    )


def _add_parties(dispute: Dispute, opening_id: int, others: list[int]) -> None:
    dispute.case_number = next_case_number(DISPUTE_PREFIX, local_date(dispute.opened_at).year)
    for organisation_id in sorted({opening_id, *others}):  # every party uses the dispute's number
        dispute.parties.append(DisputeParty(organisation_id=organisation_id, case_number=dispute.case_number,
                                            is_opener=organisation_id == opening_id))


def _process_data(dispute: Dispute, ladder: Ladder) -> dict[str, Any]:
    """What bpmn/dispute.bpmn starts with: ``parties`` is what the level-1 multi-instance task iterates."""
    return {
        "dispute_id": dispute.id, "positions": {}, "needs_instruction": False, "line_raised": False,
        "parties": {str(p.organisation_id): {"organisation_id": p.organisation_id} for p in dispute.parties},
        "steering_organisation_id": dispute.steering_organisation_id,
        "county_organisation_id": dispute.county_organisation_id,
        "instruction_organisation_id": dispute.instruction_organisation_id,
        "level_1_period": _timer_period(ladder, DisputeLevel.LINE),
        "level_2_period": _timer_period(ladder, DisputeLevel.STEERING_GROUP),
    }


def _timer_period(ladder: Ladder, level: DisputeLevel) -> str:
    """The level timer's duration: the level's time, or never in practice where the agreement says the time only
    reminds (the level's due date stays, so the task's deadline reminder still goes out; nothing escalates)."""
    return ladder.periods[level] if ladder.escalates.get(level, True) else REMIND_ONLY_PERIOD


def record_position(dispute: Dispute, organisation_id: int, values: Mapping[str, Any], *, by: User,
                    higher: bool = False) -> None:
    """A party's manager states at level 1 whether the parties agree, or lifts the dispute to the next management
    level up in the parties' line organisations (``higher``: that level's round). All agreeing resolves it; one not
    agreeing sends it to the steering group."""
    outcome = values["outcome"]
    agreed = outcome == "agreed"
    text = values.get("solution") if agreed else values.get("motivation")
    kind = StepKind.HIGHER_POSITION if higher else StepKind.POSITION
    _add_step(dispute, kind, by, outcome=outcome, text=text or "", organisation_id=organisation_id)
    # Any party's manager may ask for a common instruction (the diagram's script line_summary agrees).
    dispute.needs_instruction = dispute.needs_instruction or (agreed and bool(values.get("needs_instruction")))
    audit.record(by, "dispute.raised_in_line" if outcome == RAISE else "dispute.position_recorded", dispute,
                 instance_id=dispute.instance_id, level=dispute.level, organisation_id=organisation_id,
                 outcome=outcome, text=text, round="higher" if higher else "line")
    if outcome == RAISE:
        return  # the same level, one management level up: bpmn/dispute.bpmn's higher_position
    if not agreed:
        escalate_dispute(dispute, by_timer=False, motivation=text or "", by=by)
    elif _all_parties_agreed(dispute, kind):
        solutions = [s.text for s in dispute.steps if s.kind == kind and s.outcome == "agreed"]
        resolve_dispute(dispute, _common_text(solutions), needs_instruction=dispute.needs_instruction, by=by)


def _all_parties_agreed(dispute: Dispute, kind: StepKind) -> bool:
    agreed = {s.organisation_id for s in dispute.steps if s.kind == kind and s.outcome == "agreed"}
    return agreed >= set(dispute.party_ids())


def _common_text(texts: list[str]) -> str:
    unique = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
    return "\n\n".join(unique)


def record_decision(dispute: Dispute, values: Mapping[str, Any], *, by: User) -> None:
    """The steering group or the county level resolves the dispute, or (steering group) escalates it."""
    if values.get("outcome") == "escalate":
        escalate_dispute(dispute, by_timer=False, motivation=values.get("motivation") or "", by=by)
    else:
        resolve_dispute(dispute, values["decision"], needs_instruction=bool(values.get("needs_instruction")), by=by)


def resolve_dispute(dispute: Dispute, decision: str, *, needs_instruction: bool, by: User) -> None:
    """The dispute is settled at its current level."""
    _require_open(dispute)
    dispute.status, dispute.resolved_at, dispute.decision = DisputeStatus.RESOLVED, now(), decision
    dispute.needs_instruction = needs_instruction
    _add_step(dispute, StepKind.RESOLVED, by, text=decision)
    audit.record(by, "dispute.resolved", dispute, instance_id=dispute.instance_id, level=dispute.level,
                 decision=decision, needs_instruction=needs_instruction)


def escalate_dispute(dispute: Dispute, *, by_timer: bool, motivation: str = "", by: User | None = None) -> None:
    """Move the dispute to the next level: by a motivated decision, or because the level's time ran out."""
    _require_open(dispute)
    from_level = DisputeLevel(dispute.level)
    to_level = LEVELS[LEVELS.index(from_level) + 1]
    moment = now()
    period = _periods(_settings(dispute.agreement_id))[to_level]
    text = motivation or f"Tiden för {from_level_label(from_level)} gick ut {local_date(dispute.level_due_at)}."
    _add_step(dispute, StepKind.ESCALATED, by, text=text, is_by_timer=by_timer)
    dispute.level, dispute.level_started_at, dispute.level_due_at = to_level, moment, due_at(period, moment)
    audit.record(by, "dispute.escalated", dispute, instance_id=dispute.instance_id, from_level=from_level,
                 to_level=to_level, by_timer=by_timer, motivation=motivation, due_at=dispute.level_due_at.isoformat())


def from_level_label(level: DisputeLevel) -> str:
    return {DisputeLevel.LINE: "linjeorganisationen", DisputeLevel.STEERING_GROUP: "styrgruppen",
            DisputeLevel.COUNTY: "länsnivån"}[level]


def record_preparation(dispute: Dispute, summary: str, proposal: str, *, by: User) -> None:
    """The officials' preparation for the county level: a summary of the dispute and a proposed decision."""
    _require_open(dispute)
    _add_step(dispute, StepKind.PREPARED, by, text=f"{summary}\n\nFörslag till beslut: {proposal}")
    audit.record(by, "dispute.prepared", dispute, instance_id=dispute.instance_id, summary=summary, proposal=proposal)


def write_instruction(dispute: Dispute, title: str, instruction: str, *, by: User) -> None:
    """Record the common instruction written after the decision, so that the dispute does not recur."""
    dispute.instruction_title, dispute.instruction, dispute.instruction_written_at = title, instruction, now()
    _add_step(dispute, StepKind.INSTRUCTION, by, text=f"{title}\n\n{instruction}")
    audit.record(by, "dispute.instruction_written", dispute, instance_id=dispute.instance_id, title=title)


def _require_open(dispute: Dispute) -> None:
    if dispute.status != DisputeStatus.OPEN:
        raise InvalidTransition("Tvisten är redan avgjord.")


def _add_step(dispute: Dispute, kind: StepKind, by: User | None, *, text: str = "", outcome: str = "",
              organisation_id: int | None = None, is_by_timer: bool = False) -> None:
    dispute.steps.append(DisputeStep(level=dispute.level, kind=kind, outcome=outcome, text=text, is_by_timer=is_by_timer,
                                     organisation_id=organisation_id, actor_id=getattr(by, "id", None), created_at=now()))
