"""One authorisation layer for the web pages and the API: who may see and do what.

Every view and API endpoint asks here; the domain packages keep the detailed rules for their own
cases (who is a party, which roles see deviations) and this module adds the cross-cutting ones:
auditors read everything and change nothing, process owners manage definitions, admins manage
organisations and people.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from service.parties.models import Role, User


def holds(user: User, role: Role) -> bool:
    """Whether ``user`` holds ``role`` in any organisation."""
    return any(m.role == role for m in user.memberships)


def is_auditor(user: User) -> bool:
    return holds(user, Role.AUDITOR)


def is_read_only(user: User) -> bool:
    """An auditor and nothing else: reads everything, changes nothing. A person who also holds a working role
    does that role's work (issue #18: the county level's only member, also an auditor, could not decide)."""
    return bool(user.memberships) and all(m.role == Role.AUDITOR for m in user.memberships)


def is_process_owner(user: User) -> bool:
    return holds(user, Role.PROCESS_OWNER)


def is_admin(user: User) -> bool:
    return holds(user, Role.ADMIN)


def can_read_everything(user: User) -> bool:
    """Auditors read every case, and change none: in a request that writes (any method but GET, HEAD and
    OPTIONS) the auditor role grants nothing, so someone who is also an auditor changes only what their other
    roles allow (a comment on a case they see only as an auditor is refused like anyone else's)."""
    return is_auditor(user) and not _writing()


def _writing() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def can_view_agreement(user: User, agreement: Any) -> bool:
    from service.agreements.operations import can_view

    return can_view(user, agreement)


def can_view_deviation(user: User, deviation: Any) -> bool:
    from service.deviations.queries import can_view_deviation as rule

    return can_read_everything(user) or rule(user, deviation)


def can_view_dispute(user: User, dispute: Any) -> bool:
    from service.disputes.queries import can_view_dispute as rule

    return can_read_everything(user) or rule(user, dispute)


def can_work_on(user: User, task: Any) -> bool:
    """Complete, release or save a draft of ``task``: a named or claimed task is that person's alone, an
    unclaimed group task anyone's holding the role in the organisation; a substitute works on the tasks of
    the people they stand in for; registered rules (e.g. a drafting group) add others."""
    return holds_task(user, task) or acting_for(user, task) is not None or extra_task_rule_allows(user, task)


def can_view_task(user: User, task: Any) -> bool:
    return can_work_on(user, task) or can_read_everything(user)


def can_manage_definitions(user: User) -> bool:
    return is_process_owner(user)


def can_administer(user: User) -> bool:
    return is_admin(user)


def substituting_for(user: User, on: date | None = None) -> list[User]:
    """The people ``user`` stands in for on ``on`` (default today, Swedish time): their leave covers the day."""
    from sqlalchemy import select

    from service.extensions import db
    from service.inbox.models import Substitute

    day = on or local_today()
    return list(db.session.scalars(
        select(User).join(Substitute, Substitute.user_id == User.id)
        .where(Substitute.substitute_id == user.id, Substitute.starts_on <= day, Substitute.ends_on >= day)
        .order_by(User.id)))


def local_today() -> date:
    """Today's date in Sweden (leave periods and due dates are given in Swedish dates)."""
    from zoneinfo import ZoneInfo

    from service import clock

    return clock.now().astimezone(ZoneInfo("Europe/Stockholm")).date()


def acting_for(user: User, task: Any) -> User | None:
    """Whom ``user`` stands in for when working on ``task``: None when the task is theirs or their group's, or
    when the substitute rule (``may_stand_in_on``) keeps the task from them."""
    if holds_task(user, task) or not may_stand_in_on(user, task):
        return None
    return next((absent for absent in substituting_for(user) if holds_task(absent, task)), None)


def may_stand_in_on(substitute: User, task: Any) -> bool:
    """The substitute rule: a substitute gets the absent person's tasks (named, claimed or offered to their
    groups) and through them the cases, only in an organisation the substitute belongs to themselves. Naming
    a substitute lends one's work, not one's memberships: a colleague from organisation A standing in for
    someone who also works for B sees nothing of B. A task of no organisation stays with its owner."""
    return task.organisation_id is not None and task.organisation_id in organisation_ids(substitute)


def organisation_ids(user: User) -> set[int]:
    """The organisations ``user`` is a member of, in any role."""
    return {m.organisation_id for m in user.memberships}


def holds_task(user: User, task: Any) -> bool:
    """The task is named to or claimed by ``user``, or offered unclaimed to one of their groups."""
    if task.user_id is not None:
        return bool(task.user_id == user.id)
    if task.claimed_by_id is not None:
        return bool(task.claimed_by_id == user.id)
    return task.organisation_id is not None and user.has_role(task.organisation_id, Role(task.role))


def holds_task_group(user: User, task: Any) -> bool:
    """``user`` belongs to the group (organisation × role) a task is offered to (whoever has claimed it)."""
    return task.organisation_id is not None and user.has_role(task.organisation_id, Role(task.role))


def on_behalf_of(user: User, task: Any) -> dict[str, Any] | None:
    """For the audit log: the absent person ``user`` completes ``task`` for, by id and name."""
    absent = acting_for(user, task)
    return None if absent is None else {"id": absent.id, "name": absent.display_name}


# Domain packages add who else may work on a task (e.g. an agreement's drafting group): a Python check for one
# task and the same rule as an SQL condition on human_tasks for the inbox lists.
_TASK_RULES: list[tuple[Callable[[User, Any], bool], Callable[[User], Any]]] = []


def register_task_rule(check: Callable[[User, Any], bool], condition: Callable[[User], Any]) -> None:
    if (check, condition) not in _TASK_RULES:  # every app the process creates registers again
        _TASK_RULES.append((check, condition))


def extra_task_rule_allows(user: User, task: Any) -> bool:
    return any(check(user, task) for check, _ in _TASK_RULES)


def extra_task_conditions(user: User) -> list[Any]:
    return [condition(user) for _, condition in _TASK_RULES]


# Who may open a page (issue #18: never show a link or button the viewer may not follow). A view states its
# rule with ``@opens_if(rule)``; the rule rides on the view function, so templates ask the very rule the view
# enforces, through ``may_open(user, endpoint, **values)`` (``can_open(...)`` in Jinja): one source of truth.
PageRule = Callable[..., bool]


def opens_if(rule: PageRule, *, refused: int = 404) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let the view run only if ``rule(user, **view_args)`` holds; otherwise answer ``refused`` (404 by
    default: a case one may not see is not revealed to exist; 403 for pages of a role one does not hold)."""
    from functools import wraps

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            from flask import abort
            from flask_login import current_user

            if not rule(current_user, **kwargs):
                abort(refused)
            return view(*args, **kwargs)

        guarded.page_rule = rule  # type: ignore[attr-defined]  # functools.wraps carries it to outer decorators
        return guarded

    return decorate


def may_open(user: User, endpoint: str, **values: Any) -> bool:
    """Whether ``user`` may open the page ``url_for(endpoint, **values)``: the rule its view enforces."""
    from flask import current_app

    view = current_app.view_functions.get(endpoint)
    rule = getattr(view, "page_rule", None)
    return view is not None and (rule is None or bool(rule(user, **values)))


def may_open_agreement(user: User, agreement_id: int, **_: Any) -> bool:
    from service.agreements.models import Agreement
    from service.extensions import db

    agreement = db.session.get(Agreement, agreement_id)
    return agreement is not None and can_view_agreement(user, agreement)


def may_open_deviation(user: User, deviation_id: int, **_: Any) -> bool:
    from service.deviations.models import Deviation
    from service.extensions import db

    deviation = db.session.get(Deviation, deviation_id)
    return deviation is not None and can_view_deviation(user, deviation)


def may_open_dispute(user: User, dispute_id: int, **_: Any) -> bool:
    from service.disputes.models import Dispute
    from service.extensions import db

    dispute = db.session.get(Dispute, dispute_id)
    return dispute is not None and can_view_dispute(user, dispute)


def may_report(user: User, **_: Any) -> bool:
    """Anyone reports a deviation for an organisation of theirs; an auditor and nothing else reports nothing."""
    return not is_read_only(user)


def may_audit(user: User, **_: Any) -> bool:
    """The auditors' pages (the case list, verification): auditors, and administrators."""
    return can_read_everything(user) or is_admin(user)


def may_open_case(user: User, case_type: str, case_id: int, **_: Any) -> bool:
    """A case's history pages (/granskning/<type>/<id>): whoever may see the case."""
    from service.audit.cases import can_view_case, get_case

    case = get_case(case_type, case_id)
    return case is not None and can_view_case(user, case)
