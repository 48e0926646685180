"""Ties bpmn/agreement_adoption.bpmn to the agreement record (element ids: draft, decide)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from service.agreements import operations as ops
from service.agreements.models import Agreement, AgreementStatus
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import AuthorisedBody, Organisation, User
from service.processes import hooks
from service.processes.models import HumanTask, ProcessInstance


class AdoptionHooks:
    def prepare(self, instance: ProcessInstance, task: HumanTask, data: dict[str, Any],
                task_data: Mapping[str, Any]) -> dict[str, Any]:
        if task.bpmn_id == "draft":
            parties = _parties(data["party_ids"])
            # ``parties`` is what the multi-instance task "decide" iterates: one decision per party.
            data["parties"] = {str(org.id): {"organisation_id": org.id, "name": org.name} for org in parties}
            data["decisions"] = {}
        elif task.bpmn_id == "decide":
            _check_body(data["body_id"], task_data["party"]["organisation_id"])
        return data

    def completed(self, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
        agreement = _agreement(instance)
        if task.bpmn_id == "draft":
            ops.submit_draft(agreement, dict(data), _parties(data["party_ids"]), by=actor)
        elif task.bpmn_id == "decide":
            ops.record_decision(agreement, ops.new_decision(task.organisation_id or 0, dict(data)), by=actor)

    def advanced(self, instance: ProcessInstance, progress: hooks.Progress, actor: User | None) -> None:
        agreement = ops.get_agreement_for_instance(instance)
        if agreement is None or agreement.status != AgreementStatus.AWAITING_DECISIONS:
            return
        if progress.is_completed:
            ops.activate_agreement(agreement, by=actor)
        elif any(task.bpmn_id == "draft" for task in progress.ready):
            ops.return_to_draft(agreement, by=actor)


def _agreement(instance: ProcessInstance) -> Agreement:
    agreement = ops.get_agreement_for_instance(instance)
    if agreement is None:
        raise LookupError(f"process instance {instance.id} has no agreement")
    return agreement


def _parties(ids: list[int]) -> list[Organisation]:
    found = list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))
    if len(found) != len(set(ids)):
        raise ValidationFailed("Formuläret innehåller fel. Inget har sparats.", {"party_ids": ["Okänd part vald."]})
    return found


def _check_body(body_id: int, organisation_id: int) -> None:
    body = db.session.get(AuthorisedBody, body_id)
    if body is None or body.organisation_id != organisation_id:
        raise ValidationFailed("Formuläret innehåller fel. Inget har sparats.",
                               {"body_id": ["Välj en behörig instans hos den egna parten."]})


def register() -> None:
    hooks.register(ops.ADOPTION_PROCESS, AdoptionHooks())
