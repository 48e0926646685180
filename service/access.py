"""One authorisation layer for the web pages and the API: who may see and do what.

Every view and API endpoint asks here; the domain packages keep the detailed rules for their own
cases (who is a party, which roles see deviations) and this module adds the cross-cutting ones:
auditors read everything and change nothing, process owners manage definitions, admins manage
organisations and people.
"""

from __future__ import annotations

from typing import Any

from service.parties.models import Role, User


def holds(user: User, role: Role) -> bool:
    """Whether ``user`` holds ``role`` in any organisation."""
    return any(m.role == role for m in user.memberships)


def is_auditor(user: User) -> bool:
    return holds(user, Role.AUDITOR)


def is_process_owner(user: User) -> bool:
    return holds(user, Role.PROCESS_OWNER)


def is_admin(user: User) -> bool:
    return holds(user, Role.ADMIN)


def can_read_everything(user: User) -> bool:
    """Auditors read every case (and change none: write paths never consult this)."""
    return is_auditor(user)


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
    """Complete, claim or save a draft of ``task``: offered to the user or to one of their groups."""
    from service.processes.operations import can_work_on as rule

    return rule(user, task)


def can_view_task(user: User, task: Any) -> bool:
    return can_work_on(user, task) or can_read_everything(user)


def can_manage_definitions(user: User) -> bool:
    return is_process_owner(user)


def can_administer(user: User) -> bool:
    return is_admin(user)
