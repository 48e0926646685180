"""An adopted agreement: bpmn/agreement_lifecycle.bpmn (start date, follow-up, review, checklist items, expiry)
and its hooks.

Element ids this depends on: in_force_from, follow_up, review, checklist_item, renewal_decision, expired (a
terminate end event).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from service import audit
from service.agreements import operations as ops
from service.agreements.checklist import SECTIONS, title_of
from service.agreements.models import Agreement, AgreementStatus, AgreementVersion, FollowUp
from service.audit.models import AuditEvent
from service.columns import now
from service.engine.calendar import STOCKHOLM
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, Role, User
from service.processes import hooks
from service.processes.models import HumanTask, ProcessInstance, TaskStatus
from service.processes.operations import cancel_instance, start_process

LIFECYCLE_PROCESS = "agreement_lifecycle"


def start_lifecycle(version: AgreementVersion, *, by: User | None) -> None:
    """Follow-ups from activation and the expiry of this version; replaces an earlier version's lifecycle."""
    agreement = version.agreement
    if agreement.lifecycle_instance is not None and agreement.lifecycle_instance.status == "running":
        cancel_instance(agreement.lifecycle_instance, f"ersatt av version {version.number}", by=by)
    expires_at = _end_of(version)
    notice_at = expires_at - timedelta(days=agreement.expiry_notice_days) if expires_at else None
    starts_at = None if ops.has_started(version) else _start_of(version.valid_from)
    review_due = _end_of_day(version.review_by) if version.review_by else None
    starter = by or db.session.get_one(User, version.created_by_id)
    agreement.lifecycle_instance = start_process(LIFECYCLE_PROCESS, by=starter, title=f"{agreement.title}: uppföljning", data={
        "agreement_id": agreement.id, "version_id": version.id,
        "coordinator_organisation_id": agreement.coordinator_organisation_id,
        "follow_up_interval": version.follow_up_interval or agreement.follow_up_interval, "start_amendment": False,
        "follow_up_organisation_id": version.follow_up_organisation_id or agreement.coordinator_organisation_id,
        "follow_up_user_id": version.follow_up_user_id,
        "starts_at": starts_at.isoformat() if starts_at else None,
        # Follow-ups fall on the anniversaries of the start (the first activation); an amended version continues.
        "follow_ups_from": (agreement.activated_at or starts_at or now()).isoformat(),
        "follow_ups_done": _follow_ups_done(agreement),
        "review_due_at": review_due.isoformat() if review_due else None,
        "review_notice_at": (review_due - timedelta(days=agreement.expiry_notice_days)).isoformat() if review_due else None,
        "checklist_items": _checklist_items(version),
        "expires_at": expires_at.isoformat() if expires_at else None,
        "expiry_notice_at": notice_at.isoformat() if notice_at else None})


def _follow_ups_done(agreement: Agreement) -> int:
    return int(db.session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.agreement_id == agreement.id))
               or 0)


def _end_of(version: AgreementVersion) -> datetime | None:
    if version.valid_until is None:
        return None
    return _end_of_day(version.valid_until)


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), STOCKHOLM)


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0, 0), STOCKHOLM) if day is not None else None


def _checklist_items(version: AgreementVersion) -> dict[str, dict[str, Any]]:
    """The items with a Tid not yet followed up, keyed by section, each offered on its day (09:00 Stockholm) to
    its responsible party: the party named in Ansvar, otherwise the follow-up's owner."""
    done = _items_done(version.agreement)
    parties = [(party.organisation.name.casefold(), party.organisation_id) for party in version.agreement.bound_parties]
    owner = version.follow_up_organisation_id or version.agreement.coordinator_organisation_id
    items = {}
    for key, entry in version.sections.items():
        due, responsible = str(entry.get("due") or ""), str(entry.get("responsible") or "")
        if not due or (key, due) in done:
            continue
        named = next((org for name, org in parties if name in responsible.casefold()), owner)
        items[key] = {"key": key, "title": title_of(key), "due": due, "responsible": responsible,
                      "organisation_id": named,
                      "due_at": datetime.combine(date.fromisoformat(due), time(9, 0), STOCKHOLM).isoformat()}
    return items


CHECKLIST_ITEM_DONE = "agreement.checklist_item_done"


def _items_done(agreement: Agreement) -> set[tuple[str, str]]:
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == CHECKLIST_ITEM_DONE, AuditEvent.subject_type == "agreements",
        AuditEvent.subject_id == str(agreement.id))).all()
    return {(str(event.data.get("key")), str(event.data.get("due"))) for event in events}


@dataclass(frozen=True)
class ChecklistItem:
    """A checklist item of the agreement in force with a Tid, not yet followed up (shown on the agreement page)."""

    key: str
    title: str
    responsible: str
    due: str
    is_offered: bool  # its Tid has come: the responsible party has the task


def open_checklist_items(agreement: Agreement) -> list[ChecklistItem]:
    """Items of the current version with a Tid whose follow-up is not done, in checklist order."""
    version = agreement.current_version
    if version is None or agreement.status not in (AgreementStatus.ADOPTED, AgreementStatus.ACTIVE,
                                                   AgreementStatus.UNDER_AMENDMENT):
        return []
    done = _items_done(agreement)
    offered = set()
    if agreement.lifecycle_instance_id is not None:
        offered = set(db.session.scalars(select(HumanTask.task_id).where(
            HumanTask.instance_id == agreement.lifecycle_instance_id, HumanTask.bpmn_id == "checklist_item",
            HumanTask.status == TaskStatus.READY)))
    offered_keys = {key for key, task_id in _offered_keys(agreement) if task_id in offered}
    order = {section.key: index for index, section in enumerate(SECTIONS)}
    items = [ChecklistItem(key, title_of(key), str(entry.get("responsible") or ""), str(entry["due"]), key in offered_keys)
             for key, entry in version.sections.items() if entry.get("due") and (key, str(entry["due"])) not in done]
    return sorted(items, key=lambda item: (item.due, order.get(item.key, len(order))))


def _offered_keys(agreement: Agreement) -> list[tuple[str, str]]:
    """(section key, engine task id) of the checklist tasks offered in the lifecycle (recorded when offered)."""
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == CHECKLIST_ITEM_OFFERED, AuditEvent.subject_type == "agreements",
        AuditEvent.subject_id == str(agreement.id))).all()
    return [(str(event.data.get("key")), str(event.data.get("task_id"))) for event in events]


CHECKLIST_ITEM_OFFERED = "agreement.checklist_item_offered"


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
        elif task.bpmn_id == "review":
            _record_review(agreement, instance, data, actor)
        elif task.bpmn_id == "checklist_item":
            _record_item_done(agreement, instance, task, data, actor)

    def advanced(self, instance: ProcessInstance, progress: hooks.Progress, actor: User | None) -> None:
        agreement = getattr(instance, "lifecycle_of", None)
        version = db.session.get(AgreementVersion, progress.data.get("version_id") or 0) if agreement is not None else None
        if agreement is not None and version is not None and ops.has_started(version):
            ops.bring_into_force(agreement, version, by=actor)  # the timer in_force_from has fired (or had passed)
        if agreement is not None:
            _offer_checklist_items(agreement, instance, [task for task in progress.ready
                                                         if task.bpmn_id == "checklist_item"], actor)
        if agreement is not None and any(task.bpmn_id == "renewal_decision" for task in progress.ready):
            _notify_parties_of_expiry(agreement, instance, actor)
        # The terminate end event "expired" completes the whole instance; the other ends leave it running.
        if agreement is not None and progress.is_completed and agreement.status != AgreementStatus.EXPIRED \
                and progress.data.get("expires_at") and now() >= datetime.fromisoformat(progress.data["expires_at"]):
            expire_agreement(agreement, by=actor)

    def initial_values(self, task: HumanTask) -> dict[str, Any]:
        return _instructions_to_follow_up(_agreement(task.instance)) if task.bpmn_id == "follow_up" else {}


def _instructions_to_follow_up(agreement: Agreement) -> dict[str, Any]:
    """The common instructions written after disputes since the last follow-up are taken up in this one (issue #20,
    seed 003: problems are documented and common instructions written so that they do not recur)."""
    from flask_babel import gettext

    from service.disputes.queries import list_instructions

    found = list_instructions(agreement.id, _last_follow_up(agreement) or agreement.activated_at)
    if not found:
        return {}
    titles = "; ".join(f"{d.case_number}: {d.instruction_title}" for d in found)
    return {"action_plan": gettext("Gemensamma instruktioner efter tvister sedan förra uppföljningen: %(titles)s.",
                                   titles=titles)}


def _offer_checklist_items(agreement: Agreement, instance: ProcessInstance, ready: list[Any],
                           actor: User | None) -> None:
    """Once per item: name the item on its task (the case title) and record that its Tid came and who has it."""
    known = {task_id for _key, task_id in _offered_keys(agreement)}
    for task in ready:
        if task.task_id in known:
            continue
        item = task.data["item"]
        row = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.task_id == task.task_id)).first()
        if row is not None:
            row.case_title = f"{agreement.title}: {item['title']}"[:300]
        audit.record(actor, CHECKLIST_ITEM_OFFERED, agreement, instance_id=instance.id, key=item["key"],
                     due=item["due"], organisation_id=item["organisation_id"], task_id=task.task_id)


def _record_item_done(agreement: Agreement, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any],
                      actor: User) -> None:
    offered = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == CHECKLIST_ITEM_OFFERED, AuditEvent.instance_id == instance.id)).all()
    event = next(e for e in offered if e.data.get("task_id") == task.task_id)
    audit.record(actor, CHECKLIST_ITEM_DONE, agreement, instance_id=instance.id, key=event.data["key"],
                 due=event.data["due"], report=data["item_report"])


def _record_review(agreement: Agreement, instance: ProcessInstance, data: Mapping[str, Any], actor: User) -> None:
    audit.record(actor, "agreement.reviewed", agreement, instance_id=instance.id, outcome=data["review_outcome"],
                 motivation=data["review_motivation"])
    if data["review_outcome"] == "amend":
        ops.propose_amendment(agreement, f"Revidering: {data['review_motivation']}", by=actor,
                              on_behalf_of_coordinator=True)


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


def restart_lifecycles() -> list[int]:
    """Instance migration for the lifecycle of issue #19: a running lifecycle keeps the diagram it started with
    (follow-ups and expiry go on as before), so each is replaced by one on the latest diagram, which carries the
    follow-ups done, and an agreement whose start date lies ahead is "adopted" again until its timer. Idempotent."""
    running = db.session.scalars(select(Agreement).join(ProcessInstance, ProcessInstance.id == Agreement.lifecycle_instance_id)
                                 .where(ProcessInstance.status == "running").order_by(Agreement.id)).all()
    restarted = []
    for agreement in running:
        version, instance = agreement.current_version, agreement.lifecycle_instance
        if version is None or instance is None or instance.definition_id == _latest_lifecycle_id():
            continue
        if agreement.status == AgreementStatus.ACTIVE and not ops.has_started(version):
            agreement.status, agreement.activated_at = AgreementStatus.ADOPTED, None
        start_lifecycle(version, by=None)
        audit.record(None, "agreement.lifecycle_restarted", agreement, version=version.number, status=agreement.status)
        restarted.append(agreement.id)
    return restarted


def _latest_lifecycle_id() -> int:
    from service.processes.definitions import require_latest_definition

    return int(require_latest_definition(LIFECYCLE_PROCESS).id)


FREQUENCY_LABELS = {"P3M": "Varje kvartal", "P6M": "Varje halvår", "P1Y": "Varje år", "P2Y": "Vartannat år"}


def follow_up_terms(agreement: Agreement) -> tuple[str, str]:
    """How often the agreement is followed up, and by whom, as the agreement page says it."""
    from flask_babel import gettext

    version = agreement.current_version
    interval = (version.follow_up_interval if version is not None else None) or agreement.follow_up_interval
    frequency = gettext(FREQUENCY_LABELS[interval]) if interval in FREQUENCY_LABELS else interval
    person = db.session.get(User, version.follow_up_user_id) if version and version.follow_up_user_id else None
    if person is not None:
        return frequency, person.display_name
    organisation_id = (version.follow_up_organisation_id if version else None) or agreement.coordinator_organisation_id
    from service.parties.models import Organisation

    organisation = db.session.get_one(Organisation, organisation_id)
    return frequency, gettext("styrgruppsledamöterna hos %(name)s", name=organisation.name)
