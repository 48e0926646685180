"""An agreement in force: bpmn/agreement_lifecycle.bpmn (follow-up, expiry) and its hooks.

Element ids this depends on: follow_up, renewal_decision, expired (a terminate end event).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from service import audit
from service.agreements import operations as ops
from service.agreements.models import Agreement, AgreementStatus, AgreementVersion, FollowUp
from service.audit.models import AuditEvent
from service.columns import now
from service.engine.calendar import STOCKHOLM
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, Role, User
from service.processes import hooks
from service.processes.models import HumanTask, ProcessInstance
from service.processes.operations import cancel_instance, start_process

LIFECYCLE_PROCESS = "agreement_lifecycle"


def start_lifecycle(version: AgreementVersion, *, by: User | None) -> None:
    """Follow-ups from activation and the expiry of this version; replaces an earlier version's lifecycle."""
    agreement = version.agreement
    if agreement.lifecycle_instance is not None and agreement.lifecycle_instance.status == "running":
        cancel_instance(agreement.lifecycle_instance, f"ersatt av version {version.number}", by=by)
    expires_at = _end_of(version)
    notice_at = expires_at - timedelta(days=agreement.expiry_notice_days) if expires_at else None
    starter = by or db.session.get_one(User, version.created_by_id)
    agreement.lifecycle_instance = start_process(LIFECYCLE_PROCESS, by=starter, title=f"{agreement.title}: uppföljning", data={
        "agreement_id": agreement.id, "version_id": version.id,
        "coordinator_organisation_id": agreement.coordinator_organisation_id,
        "follow_up_interval": agreement.follow_up_interval, "start_amendment": False,
        # Follow-ups fall on the anniversaries of the first activation; an amended version continues the count.
        "follow_ups_from": (agreement.activated_at or now()).isoformat(), "follow_ups_done": _follow_ups_done(agreement),
        "expires_at": expires_at.isoformat() if expires_at else None,
        "expiry_notice_at": notice_at.isoformat() if notice_at else None})


def _follow_ups_done(agreement: Agreement) -> int:
    return int(db.session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.agreement_id == agreement.id))
               or 0)


def _end_of(version: AgreementVersion) -> datetime | None:
    if version.valid_until is None:
        return None
    return datetime.combine(version.valid_until, time(23, 59, 59), STOCKHOLM)


def expire_agreement(agreement: Agreement, *, by: User | None) -> None:
    """The end date has passed: the agreement no longer applies."""
    agreement.status = AgreementStatus.EXPIRED
    audit.record(by, "agreement.expired", agreement, version=agreement.current_version.number
                 if agreement.current_version else None)


def count_cases(agreement_id: int, since: datetime, until: datetime) -> tuple[int, int]:
    """The period's deviations (by report date) and disputes (by opening date) for the agreement."""
    from service.deviations import models as deviations
    from service.disputes import models as disputes

    counts = []
    sources = ((getattr(deviations, "Deviation", None), "reported_at"), (getattr(disputes, "Dispute", None), "opened_at"))
    for model, stamp in sources:
        if model is None:  # that package has no cases yet
            counts.append(0)
            continue
        moment = getattr(model, stamp)
        counts.append(int(db.session.scalar(select(func.count()).select_from(model).where(
            model.agreement_id == agreement_id, moment >= since, moment < until)) or 0))
    return counts[0], counts[1]


class LifecycleHooks:
    def prepare(self, instance: ProcessInstance, task: HumanTask, data: dict[str, Any],
                task_data: Mapping[str, Any]) -> dict[str, Any]:
        if task.bpmn_id == "follow_up":
            agreement = _agreement(instance)
            since = _last_follow_up(agreement) or agreement.activated_at or instance.started_at
            data["deviations_count"], data["disputes_count"] = count_cases(agreement.id, since, now())
            data["period_start"] = since.isoformat()
        return data

    def completed(self, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any], actor: User) -> None:
        agreement = _agreement(instance)
        if task.bpmn_id == "follow_up":
            _record_follow_up(agreement, data, actor)
        elif task.bpmn_id == "renewal_decision":
            audit.record(actor, "agreement.renewal_decided", agreement, instance_id=instance.id,
                         renewal=data["renewal"], motivation=data["renewal_motivation"])
            if data["renewal"] == "renew":
                ops.propose_amendment(agreement, f"Förnyelse: {data['renewal_motivation']}", by=actor,
                                      on_behalf_of_coordinator=True)

    def advanced(self, instance: ProcessInstance, progress: hooks.Progress, actor: User | None) -> None:
        agreement = getattr(instance, "lifecycle_of", None)
        if agreement is not None and any(task.bpmn_id == "renewal_decision" for task in progress.ready):
            _notify_parties_of_expiry(agreement, instance, actor)
        # The terminate end event "expired" completes the whole instance; the other ends leave it running.
        if agreement is not None and progress.is_completed and agreement.status != AgreementStatus.EXPIRED \
                and progress.data.get("expires_at") and now() >= datetime.fromisoformat(progress.data["expires_at"]):
            expire_agreement(agreement, by=actor)

    def initial_values(self, task: HumanTask) -> dict[str, Any]:
        return {}


EXPIRY_NOTICE = "agreement.expiry_notice_sent"
NOTIFIED_ROLES = (Role.CASE_OFFICER, Role.MANAGER)


def _notify_parties_of_expiry(agreement: Agreement, instance: ProcessInstance, actor: User | None) -> None:
    """Once per lifecycle: tell every party's case officers and managers that the end date is near (the
    coordinator also gets the renew-or-expire decision as a task)."""
    if db.session.scalar(select(AuditEvent.id).where(AuditEvent.instance_id == instance.id,
                                                     AuditEvent.action == EXPIRY_NOTICE).limit(1)) is not None:
        return
    organisations = {party.organisation_id for party in agreement.parties}
    people = db.session.scalars(select(User).join(Membership).where(
        Membership.organisation_id.in_(organisations), Membership.role.in_(NOTIFIED_ROLES),
        User.is_enabled.is_(True)).order_by(User.id)).unique().all()
    version = agreement.current_version
    until = version.valid_until.isoformat() if version is not None and version.valid_until else ""
    notify(people, NotificationKind.OTHER, f"Avtalet upphör {until}: {agreement.title}",
           f"Samverkansavtalet {agreement.title} gäller till och med {until}. Den samordnande organisationen "
           "beslutar om avtalet ska förnyas eller upphöra; vill er organisation något, kontakta samordnaren.",
           instance_id=instance.id)
    audit.record(actor, EXPIRY_NOTICE, agreement, instance_id=instance.id, valid_until=until,
                 recipients=[person.id for person in people])


def _agreement(instance: ProcessInstance) -> Agreement:
    agreement: Agreement | None = getattr(instance, "lifecycle_of", None)
    if agreement is None:
        raise LookupError(f"process instance {instance.id} is no agreement's lifecycle")
    return agreement


def _last_follow_up(agreement: Agreement) -> datetime | None:
    last: datetime | None = db.session.scalar(select(func.max(FollowUp.period_end)).where(FollowUp.agreement_id == agreement.id))
    return last


def _record_follow_up(agreement: Agreement, data: Mapping[str, Any], actor: User) -> None:
    version = agreement.current_version
    assert version is not None
    follow_up = FollowUp(
        agreement_id=agreement.id, version_id=version.id, period_start=datetime.fromisoformat(data["period_start"]),
        period_end=now(), deviations_count=data["deviations_count"], disputes_count=data["disputes_count"],
        process_indicators=data["process_indicators"], result_indicators=data["result_indicators"],
        user_influence=data.get("user_influence_follow_up") or "", action_plan=data["action_plan"], recorded_by_id=actor.id)
    db.session.add(follow_up)
    if data.get("start_amendment"):
        amendment = ops.propose_amendment(agreement, data["amendment_motivation"], by=actor, on_behalf_of_coordinator=True)
        follow_up.amendment_version_id = amendment.id
    audit.record(actor, "agreement.followed_up", agreement, deviations=follow_up.deviations_count,
                 disputes=follow_up.disputes_count, started_amendment=bool(data.get("start_amendment")))


def register() -> None:
    hooks.register(LIFECYCLE_PROCESS, LifecycleHooks())
