"""Improvement actions (förbättringsåtgärder) followed to the end: an owner, a due date, a status and, when
done, what was done. Overdue actions remind their owner (or, with no owner named, the analysing party's
analysis group) once a week until done."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select

from service import audit
from service.columns import now
from service.deviations.models import ImprovementAction, ImprovementStatus
from service.errors import NotPermitted, ValidationFailed
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, Role, User

REMIND_EVERY = timedelta(days=7)
# Who besides the owner may change an action: the analysing party's analysis group, managers and coordinators.
MANAGING_ROLES = (Role.ANALYSIS_GROUP_MEMBER, Role.MANAGER, Role.DEVIATION_COORDINATOR)


def can_manage(user: User, action: ImprovementAction) -> bool:
    return action.owner_id == user.id or any(
        m.organisation_id == action.organisation_id and m.role in MANAGING_ROLES for m in user.memberships)


def update_improvement(action: ImprovementAction, status: str, result: str, *, by: User) -> None:
    """Move an action on (planned, in progress, done); done needs what was done and sets completed_at."""
    if not can_manage(by, action):
        raise NotPermitted("Bara den ansvarige, analysgruppen eller en chef hos parten kan ändra åtgärden.")
    if status not in ImprovementStatus.__members__.values():
        raise ValidationFailed("Statusen är ogiltig.", {"status": ["Välj planerad, pågår eller genomförd."]})
    if action.is_done:
        raise ValidationFailed("Åtgärden är redan genomförd.", {"status": ["En genomförd åtgärd ändras inte."]})
    if status == ImprovementStatus.DONE and not result.strip():
        raise ValidationFailed("Beskriv vad som gjordes.", {"result": ["Skriv vad som gjordes."]})
    action.status, action.result = status, result.strip()
    if status == ImprovementStatus.DONE:
        action.completed_at, action.completed_by_id = now(), by.id
    audit.record(by, "deviation.improvement_updated", action.deviation, instance_id=action.deviation.instance_id,
                 improvement_id=action.id, status=status)
    db.session.flush()


def take_ownership(action: ImprovementAction, *, by: User) -> None:
    """Name oneself the action's owner (who is reminded when it is overdue)."""
    if not can_manage(by, action):
        raise NotPermitted("Bara analysgruppen eller en chef hos parten kan ta ansvar för åtgärden.")
    action.owner_id = by.id
    if not action.owner:
        action.owner = by.display_name
    audit.record(by, "deviation.improvement_owner_set", action.deviation, instance_id=action.deviation.instance_id,
                 improvement_id=action.id, owner_id=by.id)
    db.session.flush()


def list_improvements(user: User) -> list[ImprovementAction]:
    """The actions of my organisations, and those I own; open ones first, by due date."""
    organisations = {m.organisation_id for m in user.memberships}
    query = select(ImprovementAction).where(or_(ImprovementAction.organisation_id.in_(organisations),
                                                ImprovementAction.owner_id == user.id))
    actions = db.session.scalars(query.order_by(ImprovementAction.due_on, ImprovementAction.id)).all()
    return sorted(actions, key=lambda a: (a.is_done, a.due_on))


def overdue_improvements(today: date) -> list[ImprovementAction]:
    return list(db.session.scalars(select(ImprovementAction).where(
        ImprovementAction.status != ImprovementStatus.DONE, ImprovementAction.due_on < today)
        .order_by(ImprovementAction.id)))


def remind_overdue_improvements(today: date) -> int:
    """Remind the owners of overdue actions (once a week each); the number of actions reminded."""
    reminded = 0
    for action in overdue_improvements(today):
        if action.reminded_at is not None and now() - action.reminded_at < REMIND_EVERY:
            continue
        people = [action.owner_user] if action.owner_user is not None else _analysis_group(action.organisation_id)
        notify(people, NotificationKind.DEADLINE_SOON, f"Förbättringsåtgärd försenad: {action.deviation.case_number}",
               f"Förbättringsåtgärden \"{action.description[:200]}\" skulle vara klar {action.due_on}. "
               "Ange vad som gjorts under Förbättringsåtgärder, eller ny status.", instance_id=action.deviation.instance_id)
        action.reminded_at = now()
        audit.record(None, "deviation.improvement_reminded", action.deviation, instance_id=action.deviation.instance_id,
                     improvement_id=action.id, due_on=action.due_on.isoformat(), recipients=[p.id for p in people])
        reminded += 1
    return reminded


def _analysis_group(organisation_id: int) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.organisation_id == organisation_id, Membership.role == Role.ANALYSIS_GROUP_MEMBER,
        User.is_enabled.is_(True))).unique())
