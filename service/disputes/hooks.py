"""Ties bpmn/dispute.bpmn to the dispute record.

Element ids this depends on: line_position (multi-instance over ``parties``), steering_decision,
county_preparation, county_decision (models.LEVEL_TASKS), write_instruction; the level deadlines are the interrupting timers
level_1_deadline and level_2_deadline, so a level task appearing without a decision means escalation by timer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from service.deviations.identity import refuse_identity_numbers
from service.deviations.tasks import set_due_dates
from service.disputes import meetings
from service.disputes import operations as ops
from service.disputes.models import LEVEL_TASKS, LEVELS, Dispute, DisputeLevel
from service.extensions import db
from service.parties.models import User
from service.processes import hooks
from service.processes.definitions import form_schema
from service.processes.models import HumanTask, ProcessInstance


class DisputeHooks(hooks.NoHooks):  # defaults for hook points we do not use
    def prepare(self, instance: ProcessInstance, task: HumanTask, data: dict[str, Any],
                task_data: Mapping[str, Any]) -> dict[str, Any]:
        properties = form_schema(instance.definition, task.form).get("properties", {})
        refuse_identity_numbers(data, {name: str(prop.get("title", name)) for name, prop in properties.items()})
        dispute = _dispute(instance)
        if dispute is not None and task.bpmn_id in meetings.DECIDING_TASKS:
            meetings.refuse_direct_decision(dispute, task, data)
        return data

    def completed(self, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
        dispute = _dispute(instance)
        if dispute is None:
            return
        if task.bpmn_id in ("line_position", "higher_position"):
            ops.record_position(dispute, task.organisation_id or 0, data, by=actor, higher=task.bpmn_id == "higher_position")
        elif task.bpmn_id == "county_preparation":
            ops.record_preparation(dispute, data["summary"], data["proposal"], by=actor)
        elif task.bpmn_id in ("steering_decision", "county_decision"):
            ops.record_decision(dispute, data, by=actor)
        elif task.bpmn_id == "write_instruction":
            ops.write_instruction(dispute, data["instruction_title"], data["instruction"], by=actor)

    def advanced(self, instance: ProcessInstance, progress: hooks.Progress, actor: User | None) -> None:
        dispute = _dispute(instance) or _dispute_from_data(progress)
        if dispute is None:
            return
        levels = [LEVEL_TASKS[task.bpmn_id] for task in progress.ready if task.bpmn_id in LEVEL_TASKS]
        while levels and dispute.is_open and LEVELS.index(levels[0]) > LEVELS.index(DisputeLevel(dispute.level)):
            ops.escalate_dispute(dispute, by_timer=True)  # no decision did it: the level's timer fired
        due = {task.task_id: dispute.level_due_at for task in progress.ready if task.bpmn_id in LEVEL_TASKS}
        set_due_dates(instance.id, due)


def _dispute(instance: ProcessInstance) -> Dispute | None:
    return db.session.scalar(select(Dispute).where(Dispute.instance_id == instance.id))


def _dispute_from_data(progress: hooks.Progress) -> Dispute | None:
    # While open_dispute starts the process, the record does not know its instance yet.
    ids = {task.data.get("dispute_id") for task in progress.ready} - {None}
    return db.session.get(Dispute, int(str(ids.pop()))) if len(ids) == 1 else None


def register() -> None:
    """Register the dispute process's hooks."""
    hooks.register(ops.DISPUTE_PROCESS, DisputeHooks())
    meetings.register()
