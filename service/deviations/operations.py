"""Report deviations, and record what happens to them: acknowledgement, questions, answers, reminders,
escalation, the reporter's verdict and the analysis. bpmn/deviation.bpmn drives the order (hooks.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from service import audit
from service.agreements.models import Agreement
from service.columns import now
from service.deviations.case_numbers import DEVIATION_PREFIX, next_case_number
from service.deviations.deadlines import deadline_for
from service.deviations.identity import refuse_identity_numbers
from service.deviations.models import (
    CATEGORY_LABELS,
    Deviation,
    DeviationCategory,
    DeviationEntry,
    DeviationReceiver,
    DeviationStatus,
    EntryKind,
    ImprovementAction,
    ReceiverStatus,
)
from service.engine import forms
from service.errors import NotPermitted, ValidationFailed
from service.extensions import db
from service.messages import Message
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, Role, User
from service.processes.operations import start_process

DEVIATION_PROCESS = "deviation"
FORM_ERROR = "Formuläret innehåller fel. Inget har sparats."
# Free-text fields of the report, with the labels the refusal names (forms/deviation-report.schema.json).
REPORT_TEXT_LABELS = {
    "reporting_unit": "Rapporterande enhet", "receiving_unit": "Mottagande enhet", "description": "Vad hände?",
    "immediate_action": "Vidtagen omedelbar åtgärd", "consequence_description": "Beskriv konsekvensen",
}


def report_deviation(fields: Mapping[str, Any], *, by: User) -> Deviation:
    """Register an anonymised deviation, give it the next AV number and send it to the receiving parties."""
    refuse_identity_numbers({k: fields.get(k) for k in REPORT_TEXT_LABELS}, REPORT_TEXT_LABELS)
    reporting_id = int(fields["reporting_organisation_id"])
    if not any(m.organisation_id == reporting_id for m in by.memberships):
        raise NotPermitted("Du kan bara rapportera avvikelser för en organisation du tillhör.")
    receiver_ids = sorted({int(i) for i in fields["receiving_organisation_ids"]} - {reporting_id})
    if not receiver_ids:
        raise ValidationFailed(FORM_ERROR, {"receiving_organisation_ids": ["Välj minst en annan part än din egen."]})
    _check_event_date(date.fromisoformat(fields["event_date"]))
    agreement = _checked_agreement(fields.get("agreement_id"), {reporting_id, *receiver_ids})
    deviation = _new_deviation(fields, reporting_id, agreement, by)
    deviation.case_number = next_case_number(DEVIATION_PREFIX, local_date(deviation.reported_at).year)
    for organisation_id in receiver_ids:
        deviation.receivers.append(_new_receiver(organisation_id, deviation.case_number, agreement, deviation.reported_at))
    db.session.add(deviation)
    _add_entry(deviation, EntryKind.REPORTED, by)
    db.session.flush()
    instance = start_process(DEVIATION_PROCESS, by=by, title=_title(deviation), data=process_data(deviation))
    deviation.instance_id = instance.id
    audit.record(by, "deviation.reported", deviation, instance_id=instance.id, case_number=deviation.case_number,
                 category=deviation.category, agreement_id=deviation.agreement_id,
                 receivers={str(r.organisation_id): r.case_number for r in deviation.receivers})
    db.session.flush()
    return deviation


def _new_deviation(fields: Mapping[str, Any], reporting_id: int, agreement: Agreement | None, by: User) -> Deviation:
    return Deviation(
        reporting_organisation_id=reporting_id, reporting_unit=fields["reporting_unit"].strip(),
        receiving_unit=(fields.get("receiving_unit") or "").strip(), agreement_id=agreement.id if agreement else None,
        event_date=date.fromisoformat(fields["event_date"]), description=fields["description"],
        immediate_action=fields.get("immediate_action") or "", category=fields["category"],
        consequence=fields["consequence"], consequence_description=fields.get("consequence_description") or "",
        reported_by_id=by.id, reported_at=now(), status=DeviationStatus.OPEN,
        # The agreement's analysis group reviews; without an agreement, the reporting party's own.
        analysis_organisation_id=agreement.coordinator_organisation_id if agreement else reporting_id,
    )


def _check_event_date(event_date: date) -> None:
    """The event has happened: not after today (Stockholm), and not before the form's earliest date."""
    if event_date > local_date(now()):
        raise ValidationFailed(FORM_ERROR, {"event_date": ["Händelsen kan inte ha inträffat efter i dag."]})
    if event_date < forms.EARLIEST_DATE:
        too_early = Message("Ange ett datum från %(first)s.", first=forms.EARLIEST_DATE.isoformat())
        raise ValidationFailed(FORM_ERROR, {"event_date": [too_early]})


def _checked_agreement(agreement_id: Any, organisation_ids: set[int]) -> Agreement | None:
    if not agreement_id:
        return None
    agreement = db.session.get(Agreement, int(agreement_id))
    if agreement is None:
        raise ValidationFailed(FORM_ERROR, {"agreement_id": ["Okänt avtal."]})
    members = {p.organisation_id for p in agreement.parties} | {agreement.coordinator_organisation_id}
    if not organisation_ids <= members:
        message = "Den rapporterande och de mottagande parterna måste vara parter i avtalet."
        raise ValidationFailed(FORM_ERROR, {"agreement_id": [message]})
    return agreement


def _new_receiver(organisation_id: int, case_number: str, agreement: Agreement | None, sent_at: datetime) -> DeviationReceiver:
    deadline = deadline_for(organisation_id, agreement.id if agreement else None)
    due = deadline.due_from(sent_at)
    return DeviationReceiver(organisation_id=organisation_id, case_number=case_number, status=ReceiverStatus.SENT,
                             sent_at=sent_at, first_due_at=due, due_at=due, remind_at=deadline.remind_from(sent_at))


def _title(deviation: Deviation) -> str:
    # No free text in the title: it is shown in every inbox and e-mail.
    return f"Avvikelse {deviation.case_number}: {CATEGORY_LABELS[DeviationCategory(deviation.category)]}"


def process_data(deviation: Deviation) -> dict[str, Any]:
    """What bpmn/deviation.bpmn starts with: ``receivers`` is what the multi-instance subprocess iterates."""
    return {
        "deviation_id": deviation.id, "reporter_id": deviation.reported_by_id,
        "reporting_organisation_id": deviation.reporting_organisation_id,
        "analysis_organisation_id": deviation.analysis_organisation_id,
        # What the decision table avvikelse-routning.dmn reads (the manager's answer periods).
        "category": deviation.category, "consequence": deviation.consequence,
        "receivers": {str(r.id): receiver_data(r) for r in deviation.receivers}, "outcomes": {},
    }


def receiver_data(receiver: DeviationReceiver) -> dict[str, Any]:
    """One receiving party as the process sees it; its timers read ``due_at`` and ``remind_at``."""
    return {"receiver_id": receiver.id, "organisation_id": receiver.organisation_id,
            "answer_round": receiver.answer_round, "due_at": receiver.due_at.isoformat(),
            "remind_at": receiver.remind_at.isoformat()}


def next_round(receiver: DeviationReceiver, agreement_id: int | None) -> dict[str, Any]:
    """The receiver's data for a new answer round after a contest, with a fresh deadline from now."""
    deadline, moment = deadline_for(receiver.organisation_id, agreement_id), now()
    return {"receiver_id": receiver.id, "organisation_id": receiver.organisation_id,
            "answer_round": receiver.answer_round + 1, "due_at": deadline.due_from(moment).isoformat(),
            "remind_at": deadline.remind_from(moment).isoformat()}


def acknowledge_deviation(receiver: DeviationReceiver, handler: str, comment: str | None, *, by: User) -> None:
    """The receiving party confirms it has the deviation and names who investigates."""
    receiver.status, receiver.handler = ReceiverStatus.ACKNOWLEDGED, handler.strip()
    receiver.acknowledged_at = receiver.acknowledged_at or now()
    text = f"Utreds av {receiver.handler}." + (f"\n{comment}" if comment else "")
    _add_entry(receiver.deviation, EntryKind.ACKNOWLEDGED, by, text, receiver)
    _record(by, "deviation.acknowledged", receiver, handler=receiver.handler, answer_round=receiver.answer_round)


def ask_reporter(receiver: DeviationReceiver, question: str, *, by: User) -> None:
    """The receiving party asks the reporter a question and waits for the reply."""
    receiver.status = ReceiverStatus.AWAITING_REPLY
    _add_entry(receiver.deviation, EntryKind.QUESTION, by, question, receiver)
    _record(by, "deviation.question_asked", receiver)


def reply_to_question(receiver: DeviationReceiver, reply: str, *, by: User) -> None:
    """The reporter answers the receiving party's question; the investigation goes on."""
    receiver.status = ReceiverStatus.ACKNOWLEDGED
    _add_entry(receiver.deviation, EntryKind.REPLY, by, reply, receiver)
    _record(by, "deviation.question_answered", receiver)


def answer_deviation(receiver: DeviationReceiver, findings: str, measures: str, *, by: User) -> None:
    """Record the receiving party's answer; late if the first answer came after the first deadline."""
    moment = now()
    receiver.findings, receiver.measures, receiver.answered_at, receiver.answered_by_id = findings, measures, moment, by.id
    if receiver.first_answered_at is None:
        receiver.first_answered_at = moment
        receiver.is_answered_late = moment > receiver.first_due_at
    receiver.status = ReceiverStatus.ANSWERED
    _add_entry(receiver.deviation, EntryKind.ANSWER, by, f"{findings}\n\nÅtgärder: {measures}", receiver)
    _record(by, "deviation.answered", receiver, is_late=moment > receiver.due_at, answer_round=receiver.answer_round)


def escalate_deviation(receiver: DeviationReceiver, *, by_timer: bool) -> None:
    """The answer time ran out: the receiving party's manager now has the deviation."""
    receiver.status, receiver.escalated_at = ReceiverStatus.ESCALATED, now()
    _add_entry(receiver.deviation, EntryKind.ESCALATED, None,
               f"Svarstiden gick ut {local_date(receiver.due_at)}; avvikelsen har gått till {receiver.organisation.name}s chef.",
               receiver)
    _record(None, "deviation.escalated", receiver, by_timer=by_timer, due_at=receiver.due_at.isoformat())


def remind_receiver(receiver: DeviationReceiver) -> None:
    """Remind the receiving party's deviation contacts that the answer time is running out."""
    receiver.reminded_at = now()
    deviation = receiver.deviation
    _add_entry(deviation, EntryKind.REMINDER, None, f"Svar senast {local_date(receiver.due_at)}.", receiver)
    body = (f"Avvikelse {receiver.case_number} ska besvaras senast {local_date(receiver.due_at)}. "
            f"Därefter eskaleras den till er chef.\n\nÖppna avvikelsen: {deviation_link(deviation)}")
    notify(_members(receiver.organisation_id, Role.DEVIATION_CONTACT), NotificationKind.DEADLINE_SOON,
           f"Påminnelse: avvikelse {receiver.case_number} ska besvaras", body, instance_id=deviation.instance_id)
    _record(None, "deviation.reminded", receiver, due_at=receiver.due_at.isoformat())


def accept_answer(receiver: DeviationReceiver, *, by: User) -> None:
    """The reporter accepts the receiving party's answer."""
    receiver.status, receiver.closed_at = ReceiverStatus.ACCEPTED, now()
    _add_entry(receiver.deviation, EntryKind.ACCEPTED, by, "", receiver)
    _record(by, "deviation.answer_accepted", receiver)


def contest_answer(receiver: DeviationReceiver, motivation: str, new_round: Mapping[str, Any] | None, *, by: User) -> None:
    """The reporter contests the answer: back to the receiving party once (``new_round``), then to analysis."""
    receiver.contest_count += 1
    _add_entry(receiver.deviation, EntryKind.CONTESTED, by, motivation, receiver)
    if new_round is not None:
        receiver.answer_round = int(new_round["answer_round"])
        receiver.due_at = datetime.fromisoformat(new_round["due_at"])
        receiver.remind_at = datetime.fromisoformat(new_round["remind_at"])
        receiver.status, receiver.reminded_at = ReceiverStatus.SENT, None
    else:
        receiver.status, receiver.closed_at = ReceiverStatus.CONTESTED, now()
    _record(by, "deviation.answer_contested", receiver, motivation=motivation, is_reopened=new_round is not None)


def start_analysis(deviation: Deviation) -> None:
    """Every receiving party is done: the deviation goes to the analysis group."""
    deviation.status, deviation.analysis_started_at = DeviationStatus.IN_ANALYSIS, now()
    audit.record(None, "deviation.analysis_started", deviation, instance_id=deviation.instance_id,
                 analysis_organisation_id=deviation.analysis_organisation_id)


def record_analysis(deviation: Deviation, values: Mapping[str, Any], *, by: User) -> None:
    """The analysis group confirms or changes the category, marks the root cause and may open an improvement action."""
    deviation.final_category, deviation.root_cause = values["final_category"], values["root_cause"]
    deviation.analysis_comment = values.get("root_cause_description") or ""
    deviation.analysed_at, deviation.analysed_by_id = now(), by.id
    deviation.is_dispute_proposed = bool(values.get("start_dispute"))
    deviation.dispute_question = values.get("dispute_question") or ""
    if values.get("improvement"):
        deviation.improvements.append(ImprovementAction(
            organisation_id=deviation.analysis_organisation_id, description=values["improvement_description"],
            owner=values["improvement_owner"], due_on=date.fromisoformat(values["improvement_due_on"]), created_by_id=by.id))
    _add_entry(deviation, EntryKind.ANALYSED, by, deviation.analysis_comment)
    audit.record(by, "deviation.analysed", deviation, instance_id=deviation.instance_id,
                 category=deviation.category, final_category=deviation.final_category, root_cause=deviation.root_cause,
                 improvement=bool(values.get("improvement")), dispute_proposed=deviation.is_dispute_proposed)


def close_deviation(deviation: Deviation) -> None:
    """The process has ended: the deviation is closed."""
    deviation.status, deviation.closed_at = DeviationStatus.CLOSED, now()
    audit.record(None, "deviation.closed", deviation, instance_id=deviation.instance_id)


def note_dispute(deviation: Deviation, text: str, *, by: User) -> None:
    """Record on the deviation that the reporting party's manager decided on the proposed dispute."""
    _add_entry(deviation, EntryKind.DISPUTE, by, text)


def _add_entry(deviation: Deviation, kind: EntryKind, by: User | None, text: str = "",
               receiver: DeviationReceiver | None = None) -> None:
    deviation.entries.append(DeviationEntry(kind=kind, text=text, author_id=getattr(by, "id", None),
                                            receiver=receiver, created_at=now()))


def _record(by: User | None, action: str, receiver: DeviationReceiver, **data: Any) -> None:
    deviation = receiver.deviation
    audit.record(by, action, deviation, instance_id=deviation.instance_id, organisation_id=receiver.organisation_id,
                 case_number=receiver.case_number, **data)


def _members(organisation_id: int, role: Role) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.organisation_id == organisation_id, Membership.role == role, User.is_enabled.is_(True))))


def deviation_link(deviation: Deviation) -> str:
    base = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return f"{base}/avvikelser/{deviation.id}"


def local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(str(current_app.config.get("DISPLAY_TIMEZONE", "Europe/Stockholm")))).date()
