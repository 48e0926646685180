"""The drafting group (skrivgrupp): case officers from several parties who write the agreement together.

Members work on the agreement's draft and revision tasks beside the coordinator's group: they see them in
their inbox and may save drafts and submit. The coordinator's case officers manage the group.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, select

from service import access, audit
from service.agreements.models import Agreement, AgreementDrafter, AgreementVersion
from service.errors import InvalidTransition, NotPermitted
from service.extensions import db
from service.parties.models import Membership, Role, User
from service.processes.models import HumanTask

DRAFTING_TASKS = ("draft", "revise")


def can_manage(user: User, agreement: Agreement) -> bool:
    return user.has_role(agreement.coordinator_organisation_id, Role.CASE_OFFICER)


def eligible(agreement: Agreement) -> list[tuple[int, User]]:
    """Case officers of the parties and the coordinating organisation: (organisation id, user). Before the
    first draft names the parties, case officers of any organisation (the intended parties)."""
    query = select(Membership.organisation_id, User).join(Membership.user).where(
        Membership.role == Role.CASE_OFFICER, User.is_enabled.is_(True))
    if agreement.parties:
        organisations = {agreement.coordinator_organisation_id, *(p.organisation_id for p in agreement.parties)}
        query = query.where(Membership.organisation_id.in_(organisations))
    rows = db.session.execute(query.order_by(User.display_name, Membership.organisation_id)).all()
    return [(organisation_id, user) for organisation_id, user in rows]


def add_drafter(agreement: Agreement, user_id: int, *, by: User) -> AgreementDrafter:
    if not can_manage(by, agreement):
        raise NotPermitted("Bara handläggare hos den samordnande organisationen kan ändra skrivgruppen.")
    choice = next(((org, user) for org, user in eligible(agreement) if user.id == user_id), None)
    if choice is None:
        raise InvalidTransition("Skrivgruppen kan bara ha handläggare hos parterna.")
    if db.session.scalar(select(AgreementDrafter).where(AgreementDrafter.agreement_id == agreement.id,
                                                        AgreementDrafter.user_id == user_id)):
        raise InvalidTransition("Personen är redan med i skrivgruppen.")
    organisation_id, user = choice
    drafter = AgreementDrafter(agreement_id=agreement.id, user_id=user.id, organisation_id=organisation_id, added_by_id=by.id)
    db.session.add(drafter)
    audit.record(by, "agreement.drafter_added", agreement, user_id=user.id, user=user.display_name,
                 organisation_id=organisation_id)
    return drafter


def remove_drafter(agreement: Agreement, user_id: int, *, by: User) -> None:
    if not can_manage(by, agreement):
        raise NotPermitted("Bara handläggare hos den samordnande organisationen kan ändra skrivgruppen.")
    drafter = db.session.scalar(select(AgreementDrafter).where(AgreementDrafter.agreement_id == agreement.id,
                                                               AgreementDrafter.user_id == user_id))
    if drafter is None:
        raise InvalidTransition("Personen är inte med i skrivgruppen.")
    db.session.delete(drafter)
    audit.record(by, "agreement.drafter_removed", agreement, user_id=user_id)


def drafters(agreement: Agreement) -> list[AgreementDrafter]:
    return list(db.session.scalars(select(AgreementDrafter).where(AgreementDrafter.agreement_id == agreement.id)
                                   .order_by(AgreementDrafter.added_at)))


def _membership(user: User) -> Any:
    """The user's drafting-group rows that still hold: they are a case officer of that organisation now."""
    held = [org for org, role in user.groups() if role == Role.CASE_OFFICER]
    return and_(AgreementDrafter.user_id == user.id, AgreementDrafter.organisation_id.in_(held))


def may_work_on(user: User, task: Any) -> bool:
    if task.bpmn_id not in DRAFTING_TASKS:
        return False
    return bool(db.session.scalar(select(exists().where(
        _membership(user), AgreementVersion.agreement_id == AgreementDrafter.agreement_id,
        AgreementVersion.instance_id == task.instance_id))))


def visible_tasks(user: User) -> Any:
    """SQL condition on human_tasks: the drafting tasks of the agreements ``user`` helps write."""
    instances = select(AgreementVersion.instance_id).join(
        AgreementDrafter, AgreementDrafter.agreement_id == AgreementVersion.agreement_id).where(_membership(user))
    return and_(HumanTask.bpmn_id.in_(DRAFTING_TASKS), HumanTask.instance_id.in_(instances))


def register() -> None:
    access.register_task_rule(may_work_on, visible_tasks)
