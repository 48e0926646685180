"""Ties bpmn/agreement_adoption.bpmn to the agreement's versions and decisions.

Element ids this depends on: draft, revise, consult, recommend, decide, record_minutes, overdue_notice; appeal_window
and appeal_outcome of versions deployed before December 2026 (appeals are now registered through appeals.py), and
record_judgment of bpmn/decision_appeal.bpmn.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from service import audit
from service.agreements import appeals, decisions, lifecycle
from service.agreements import operations as ops
from service.agreements.checklist import SECTION_KEYS
from service.agreements.lifecycle import start_lifecycle
from service.agreements.models import AgreementVersion, Decision, DecisionStage, Recommendation, VersionStatus
from service.agreements.recommendations import associations_without_members, record_recommendation
from service.columns import now
from service.engine.calendar import STOCKHOLM
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import AuthorisedBody, Organisation, User
from service.processes import hooks
from service.processes.models import HumanTask, ProcessInstance

REFUSED = "Formuläret innehåller fel. Inget har sparats."


class AdoptionHooks:
    def prepare(self, instance: ProcessInstance, task: HumanTask, data: dict[str, Any],
                task_data: Mapping[str, Any]) -> dict[str, Any]:
        if task.bpmn_id in ("draft", "revise"):
            return _prepare_text(data, is_revision=task.bpmn_id == "revise")
        if task.bpmn_id in ("decide", "recommend"):
            _check_body(data["body_id"], task.organisation_id)
        if task.bpmn_id == "decide":
            return decisions.prepare_decision(data, task)
        if task.bpmn_id == "receive_proposal":
            return decisions.prepare_receipt(data, _today())
        if task.bpmn_id == "record_minutes":
            _check_minutes(data, task_data)
        return data

    def completed(self, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
        version = _version(instance)
        handler = _COMPLETED.get(task.bpmn_id)
        if handler is not None:
            handler(version, task, data, actor)

    def advanced(self, instance: ProcessInstance, progress: hooks.Progress, actor: User | None) -> None:
        version = getattr(instance, "agreement_version", None)
        if version is None or version.is_frozen:
            return
        ready = {(task.bpmn_id, _int(task.organisation)) for task in progress.ready}
        _finalise_unappealed(version, ready, actor)
        if progress.is_completed:
            conclude_adoption(version, actor)
        elif any(bpmn_id == "draft" for bpmn_id, _ in ready) and version.status != VersionStatus.DRAFT:
            ops.return_to_draft(version, by=actor)

    def initial_values(self, task: HumanTask) -> dict[str, Any]:
        version = getattr(task.instance, "agreement_version", None)
        if version is not None and task.bpmn_id == "decide":
            return decisions.initial_values(version, task.bpmn_id, task.organisation_id)
        if version is None or task.bpmn_id not in ("draft", "revise"):
            return {}
        values = ops.form_from_version(version)
        values["with_consultation"] = task.bpmn_id == "draft" and version.number > 1  # an amendment is reviewed
        return values


def _prepare_text(data: dict[str, Any], *, is_revision: bool) -> dict[str, Any]:
    parties = _organisations(data["party_ids"], "party_ids")
    recommenders = _organisations(data.get("recommender_ids") or [], "recommender_ids")
    errors: dict[str, list[str]] = {}
    # A recommendation goes to the recommender's members among the parties (issue #19 item 6).
    if lonely := associations_without_members(recommenders, parties):
        errors["recommender_ids"] = [_("%(names)s har ingen medlem bland parterna.",
                                       names=", ".join(org.name for org in lonely))]
    if data.get("valid_until") and data["valid_until"] < data["valid_from"]:
        errors["valid_until"] = ["Slutdatum kan inte ligga före startdatum."]
    if data.get("with_consultation") and not is_revision and date.fromisoformat(data["consultation_until"]) < _today():
        errors["consultation_until"] = ["Remisstiden kan inte ha gått ut redan."]
    if data.get("follow_up_organisation_id") and data["follow_up_organisation_id"] not in data["party_ids"]:
        errors["follow_up_organisation_id"] = ["Uppföljningen ansvaras för av en av parterna."]
    if errors:
        raise ValidationFailed(REFUSED, errors)
    # What the multi-instance tasks iterate: one remiss answer and one decision per party, and one
    # recommendation per recommending body (in parallel, beside the decisions).
    data["parties"] = {str(org.id): {"organisation_id": org.id, "name": org.name} for org in parties}
    data["recommenders"] = [{"organisation_id": org.id, "name": org.name} for org in recommenders]
    data["with_consultation"] = bool(data.get("with_consultation")) and not is_revision
    data["party_results"], data["recommendations"], data["reviews"] = {}, [], {}
    return data


def _today() -> date:
    return now().astimezone(STOCKHOLM).date()


def _organisations(ids: list[int], field: str) -> list[Organisation]:
    found = list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))
    if len(found) != len(set(ids)):
        raise ValidationFailed(REFUSED, {field: ["Okänd organisation vald."]})
    return found


def _check_body(body_id: int, organisation_id: int | None) -> None:
    body = db.session.get(AuthorisedBody, body_id)
    if body is None or body.organisation_id != organisation_id:
        raise ValidationFailed(REFUSED, {"body_id": ["Välj en behörig instans hos den egna organisationen."]})


def _check_minutes(data: Mapping[str, Any], task_data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if data["minutes_approved_on"] < task_data.get("decided_on", ""):
        errors["minutes_approved_on"] = ["Protokollet kan inte justeras före sammanträdet."]
    if data["posted_on"] < data["minutes_approved_on"]:
        errors["posted_on"] = ["Anslaget kan inte ske före justeringen."]
    if errors:
        raise ValidationFailed(REFUSED, errors)


def _version(instance: ProcessInstance) -> AgreementVersion:
    version: AgreementVersion | None = getattr(instance, "agreement_version", None)
    if version is None:
        raise LookupError(f"process instance {instance.id} adopts no agreement version")
    return version


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _decision(version: AgreementVersion, organisation_id: int | None) -> Decision:
    return next(d for d in version.current_decisions() if d.organisation_id == organisation_id)


def _on_text(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    parties = _organisations(data["party_ids"], "party_ids")
    recommenders = [db.session.get_one(Organisation, r["organisation_id"]) for r in data["recommenders"]]
    ops.submit_version_text(version, dict(data), parties, recommenders, by=actor)


def _on_consultation(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    comments = {key: str(data[key]) for key in ("general", *SECTION_KEYS) if data.get(key)}
    ops.record_comments(version, task.organisation_id or 0, comments, by=actor)


def _on_recommendation(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    record_recommendation(version, Recommendation(
        organisation_id=task.organisation_id, body_id=data["body_id"], recommends=data["recommends"] == "yes",
        decided_on=date.fromisoformat(data["decided_on"]), paragraph=data["paragraph"], reason=data.get("reason") or ""),
        by=actor)


def _on_receipt(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    decisions.record_receipt(version, task.organisation_id or 0, data, by=actor)


def _on_preparation(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    decisions.record_preparation(version, task.organisation_id or 0, data, by=actor)


def _on_decision(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    decisions.record_decision(version, task.organisation_id, data, by=actor)


def _on_minutes(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    decisions.record_minutes(_decision(version, task.organisation_id), data, by=actor)


def _on_appeal(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    ops.advance_decision(_decision(version, task.organisation_id), DecisionStage.APPEALED, by=actor,
                         appealed_on=date.fromisoformat(data["appealed_on"]))


def _on_appeal_outcome(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    stage = DecisionStage.FINAL if data["appeal_result"] == "stands" else DecisionStage.ANNULLED
    ops.advance_decision(_decision(version, task.organisation_id), stage, by=actor)


def _on_overdue(version: AgreementVersion, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
    audit.record(actor, "agreement.overdue_decision_followed_up", version.agreement, instance_id=version.instance_id,
                 version=version.number, organisation_id=task.organisation_id, comment=data["comment"])


_COMPLETED = {
    "draft": _on_text, "revise": _on_text, "consult": _on_consultation, "recommend": _on_recommendation,
    "decide": _on_decision, "record_minutes": _on_minutes, "appeal_window": _on_appeal,
    "appeal_outcome": _on_appeal_outcome, "overdue_notice": _on_overdue,
}


_COMPLETED.update({"receive_proposal": _on_receipt, "prepare": _on_preparation})


def _finalise_unappealed(version: AgreementVersion, ready: set[tuple[str, int | None]], actor: User | None) -> None:
    """A posted decision whose appeal period has ended with no appeal registered has become final (laga kraft): the
    appeal_period_over timer fired (an appeal_window task, in versions deployed before December 2026, is gone)."""
    for decision in version.current_decisions():
        if decision.stage == DecisionStage.POSTED and ("appeal_window", decision.organisation_id) not in ready \
                and appeals.appeal_period_has_ended(decision):
            ops.advance_decision(decision, DecisionStage.FINAL, by=actor)


def conclude_adoption(version: AgreementVersion, actor: User | None) -> None:
    """The adoption process has ended (or a court decided after it had): the version applies when no decision of
    the round is överklagat or upphävd; one set aside sends the text back to the parties' decision."""
    if version.is_frozen or version.status != VersionStatus.AWAITING_DECISIONS:
        return
    if any(d.stage == DecisionStage.ANNULLED for d in version.current_decisions()):
        ops.reopen_adoption(version, by=actor or db.session.get_one(User, version.created_by_id))
    elif not appeals.holds_activation(version):
        ops.activate_version(version, by=actor)
        start_lifecycle(version, by=actor)


class AppealHooks:
    """bpmn/decision_appeal.bpmn: the court's outcome settles the decision, and may let the version apply."""

    def prepare(self, instance: ProcessInstance, task: HumanTask, data: dict[str, Any],
                task_data: Mapping[str, Any]) -> dict[str, Any]:
        appeal = getattr(instance, "appeal", None)
        if task.bpmn_id == "record_judgment" and appeal is not None:  # before the engine moves
            appeals.check_judgment(appeal, date.fromisoformat(data["judgment_final_on"]))
        return data

    def completed(self, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
        appeal = getattr(instance, "appeal", None)
        if task.bpmn_id != "record_judgment" or appeal is None:
            return
        appeals.record_judgment(appeal, appeals.Judgment(data["judgment"]), date.fromisoformat(data["judgment_final_on"]),
                                str(data.get("judgment_note") or ""), by=actor)
        version = appeal.decision.version
        adoption = version.instance
        if adoption is not None and adoption.status == "completed":  # else the adoption's own end concludes it
            conclude_adoption(version, actor)

    def advanced(self, instance: ProcessInstance, progress: hooks.Progress, actor: User | None) -> None:
        return None

    def initial_values(self, task: HumanTask) -> dict[str, Any]:
        return {}


def register() -> None:
    hooks.register(ops.ADOPTION_PROCESS, AdoptionHooks())
    hooks.register(appeals.APPEAL_PROCESS, AppealHooks())
    lifecycle.register()
