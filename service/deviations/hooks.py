"""Ties bpmn/deviation.bpmn to the deviation record.

Element ids this depends on: acknowledge, investigate, answer_question, answer_overdue, review_answer
(inside the multi-instance subprocess handle_receiver, whose item is ``receiver``), analyse (with its timers
analysis_reminder and analysis_overdue, see analysis.py), decide_dispute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from service.columns import now
from service.deviations import analysis, meetings
from service.deviations import operations as ops
from service.deviations.identity import refuse_identity_numbers
from service.deviations.models import Deviation, DeviationReceiver, DeviationStatus, ReceiverStatus
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import User
from service.processes import hooks
from service.processes.definitions import form_schema
from service.processes.models import HumanTask, ProcessInstance

# The flow f_reopen takes a contested answer back to the receiving party while answer_round <= 2:
# the reporter may contest once; a second contest goes to the analysis group.
MAX_ANSWER_ROUNDS = 2
_AWAITING_ANSWER = (ReceiverStatus.SENT, ReceiverStatus.ACKNOWLEDGED, ReceiverStatus.AWAITING_REPLY)


class DeviationHooks(hooks.NoHooks):  # defaults for hook points we do not use
    def prepare(self, instance: ProcessInstance, task: HumanTask, data: dict[str, Any],
                task_data: Mapping[str, Any]) -> dict[str, Any]:
        refuse_identity_numbers(data, _labels(instance, task))
        if "receiver" in task_data:
            data["receiver"] = dict(task_data["receiver"])  # so completed() knows which party
        if task.bpmn_id == "review_answer" and data.get("verdict") == "contest":
            receiver = _receiver(data)
            data["receiver"] = ops.next_round(receiver, receiver.deviation.agreement_id)
        if task.bpmn_id == "analyse" and data.get("start_dispute"):
            _require_agreement(_deviation_of(instance))
        return data

    def completed(self, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
        action = _ON_COMPLETED.get(task.bpmn_id)
        if action is not None:
            action(instance, data, actor)

    def advanced(self, instance: ProcessInstance, progress: hooks.Progress, actor: User | None) -> None:
        deviation = _deviation_for(instance, progress)
        if deviation is None:
            return
        _escalate_overdue(progress)
        _remind_due(deviation)
        if deviation.status == DeviationStatus.OPEN and any(task.bpmn_id == "analyse" for task in progress.ready):
            ops.start_analysis(deviation)
        analysis.follow_up_analysis(deviation)
        if progress.is_completed and deviation.status != DeviationStatus.CLOSED:
            ops.close_deviation(deviation)


def _labels(instance: ProcessInstance, task: HumanTask) -> dict[str, str]:
    properties = form_schema(instance.definition, task.form).get("properties", {})
    return {name: str(prop.get("title", name)) for name, prop in properties.items()}


def _escalate_overdue(progress: hooks.Progress) -> None:
    """Only the interrupting timer answer_deadline leads to answer_overdue: a new one is an escalation by timer."""
    for task in progress.ready:
        receiver = _optional_receiver(task.data) if task.bpmn_id == "answer_overdue" else None
        if receiver is not None and receiver.status != ReceiverStatus.ESCALATED:
            ops.escalate_deviation(receiver, by_timer=True)


def _remind_due(deviation: Deviation) -> None:
    # The boundary timer answer_reminder wakes the instance at remind_at; the record says who to remind.
    moment = now()
    for receiver in deviation.receivers:
        if receiver.status in _AWAITING_ANSWER and receiver.reminded_at is None and receiver.remind_at <= moment:
            ops.remind_receiver(receiver)


def _on_acknowledge(instance: ProcessInstance, data: Mapping[str, Any], actor: User) -> None:
    ops.acknowledge_deviation(_receiver(data), data["handler"], data.get("comment"), by=actor)


def _on_investigate(instance: ProcessInstance, data: Mapping[str, Any], actor: User) -> None:
    if data["action"] == "question":
        ops.ask_reporter(_receiver(data), data["question"], by=actor)
    else:
        ops.answer_deviation(_receiver(data), data["findings"], data["measures"], by=actor)


def _on_reply(instance: ProcessInstance, data: Mapping[str, Any], actor: User) -> None:
    ops.reply_to_question(_receiver(data), data["reply"], by=actor)


def _on_overdue_answer(instance: ProcessInstance, data: Mapping[str, Any], actor: User) -> None:
    ops.answer_deviation(_receiver(data), data["findings"], data["measures"], by=actor)


def _on_review(instance: ProcessInstance, data: Mapping[str, Any], actor: User) -> None:
    receiver = _receiver(data)
    if data["verdict"] == "accept":
        ops.accept_answer(receiver, by=actor)
        return
    new_round = data["receiver"] if data["receiver"]["answer_round"] <= MAX_ANSWER_ROUNDS else None
    ops.contest_answer(receiver, data.get("motivation") or "", new_round, by=actor)


def _on_analyse(instance: ProcessInstance, data: Mapping[str, Any], actor: User) -> None:
    ops.record_analysis(_deviation_of(instance), data, by=actor)


def _on_decide_dispute(instance: ProcessInstance, data: Mapping[str, Any], actor: User) -> None:
    from service.disputes.operations import open_dispute_from_deviation

    deviation = _deviation_of(instance)
    if data["open_dispute"] == "open":
        dispute = open_dispute_from_deviation(deviation, data.get("question") or deviation.dispute_question, by=actor)
        ops.note_dispute(deviation, f"Tvist {dispute.case_number} öppnad.", by=actor)
    else:
        ops.note_dispute(deviation, "Ingen tvist öppnades.", by=actor)


_ON_COMPLETED: dict[str, Callable[[ProcessInstance, Mapping[str, Any], User], None]] = {
    "acknowledge": _on_acknowledge, "investigate": _on_investigate, "answer_question": _on_reply,
    "answer_overdue": _on_overdue_answer, "review_answer": _on_review, "analyse": _on_analyse,
    "decide_dispute": _on_decide_dispute,
}


def _receiver(data: Mapping[str, Any]) -> DeviationReceiver:
    receiver = _optional_receiver(data)
    if receiver is None:
        raise LookupError("the task's data names no receiving party")
    return receiver


def _optional_receiver(data: Mapping[str, Any]) -> DeviationReceiver | None:
    receiver_id = (data.get("receiver") or {}).get("receiver_id")
    return db.session.get(DeviationReceiver, int(receiver_id)) if receiver_id is not None else None


def _deviation_of(instance: ProcessInstance) -> Deviation:
    deviation = db.session.scalar(select(Deviation).where(Deviation.instance_id == instance.id))
    if deviation is None:
        raise LookupError(f"process instance {instance.id} has no deviation")
    return deviation


def _deviation_for(instance: ProcessInstance, progress: hooks.Progress) -> Deviation | None:
    # While report_deviation starts the process, the record does not know its instance yet: use the data.
    deviation = db.session.scalar(select(Deviation).where(Deviation.instance_id == instance.id))
    if deviation is None:
        ids = {task.data.get("deviation_id") for task in progress.ready} - {None}
        deviation = db.session.get(Deviation, int(str(ids.pop()))) if len(ids) == 1 else None
    return deviation


def _require_agreement(deviation: Deviation) -> None:
    if deviation.agreement_id is None:
        raise ValidationFailed("Formuläret innehåller fel. Inget har sparats.", {"start_dispute": [
            "Avvikelsen gäller inget avtal, och en tvist gäller alltid ett avtal. En chef kan öppna tvisten under Tvister."]})


def register() -> None:
    """Register the deviation process's hooks."""
    hooks.register(ops.DEVIATION_PROCESS, DeviationHooks())
    analysis.register()
    meetings.register()
