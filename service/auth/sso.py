"""Signing in with verified OpenID Connect claims: link, optional account and roles, session; refusals audited.

Each function runs in the caller's transaction. A refusal raises :class:`SsoRefused`; the caller rolls back
and commits :func:`record_refusal` on its own, so a refused sign-in creates no user, role or session.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from service.audit import operations as audit
from service.auth.models import LoginOutcome
from service.auth.oidc import Provider, is_local_login_allowed, linked_user
from service.auth.operations import LoginResult, attempt_login, login_name
from service.auth.sessions import open_session
from service.auth.throttle import Throttle, record_attempt
from service.extensions import db
from service.parties.models import Membership, Organisation, Role, User

# Why a sign-in was refused: the audit event's reason, and the Swedish message shown.
REASONS = {
    "state": "Inloggningen kunde inte slutföras: svaret hör inte till en inloggning som startades här "
             "(state saknas eller är redan använt). Försök igen.",
    "audience": "Inloggningen nekades: ID-token är utfärdat för en annan tjänst (aud).",
    "expired": "Inloggningen nekades: ID-token har gått ut.",
    "signature": "Inloggningen nekades: ID-token har en ogiltig signatur.",
    "unknown_key": "Inloggningen nekades: ID-token är signerat med en nyckel som identitetsleverantören inte publicerar.",
    "nonce": "Inloggningen nekades: ID-token hör inte till den här inloggningen (nonce).",
    "issuer": "Inloggningen nekades: utfärdaren är inte konfigurerad i Samverkan.",
    "token": "Inloggningen nekades: ID-token kunde inte godkännas.",
    "provider": "Identitetsleverantören avbröt inloggningen.",
    "unlinked": "Ingen användare i Samverkan är kopplad till den här identiteten. Kontakta administratören.",
    "disabled": "Kontot är avstängt. Kontakta administratören.",
    "organisation": "Identitetsleverantören får inte användas för att logga in för den organisationen.",
}


class SsoRefused(Exception):
    """A sign-in refused for ``reason`` (a key of REASONS), with what the audit event keeps."""

    def __init__(self, reason: str, subject: str = "", **details: Any) -> None:
        super().__init__(reason)
        self.reason, self.subject, self.details = reason, subject, details

    @property
    def message(self) -> str:
        return _(REASONS[self.reason])


def record_refusal(provider: Provider | None, refusal: SsoRefused, address: str) -> None:
    """Audit a refused single sign-on (the caller commits): the attempt and the reason."""
    name = f"sso:{provider.key if provider else '?'}:{refusal.subject}"[:80].lower()
    attempt = record_attempt(name, address, LoginOutcome.FAILED)
    audit.record(None, "auth.sso_refused", attempt, reason=refusal.reason, provider=provider.key if provider else None,
                 external_subject=refusal.subject or None, address=address, **refusal.details)


def sign_in(provider: Provider, claims: Mapping[str, Any], address: str, organisation: Organisation | None) -> tuple[User, str]:
    """Sign in the person the verified ``claims`` name; return the user and the new session's token."""
    subject = str(claims.get("sub") or "")
    if claims.get("iss") != provider.issuer or not subject:
        raise SsoRefused("issuer", subject, issuer=str(claims.get("iss")))
    if organisation is not None and organisation.name not in provider.organisations:
        raise SsoRefused("organisation", subject, organisation=organisation.name)
    user = linked_user(provider.issuer, subject) or _create_account(provider, claims)
    if not user.is_enabled:
        raise SsoRefused("disabled", subject, user_id=user.id)
    _apply_role_claim(provider, user, claims)
    if user.memberships and not any(m.organisation.name in provider.organisations for m in user.memberships):
        raise SsoRefused("organisation", subject, user_id=user.id)
    record_attempt(f"sso:{provider.key}:{subject}"[:80].lower(), address, LoginOutcome.SUCCEEDED)
    audit.record(user, "auth.sso_login", user, provider=provider.key, address=address)
    return user, open_session(user)


def _create_account(provider: Provider, claims: Mapping[str, Any]) -> User:
    """A just-in-time account with no roles, waiting for an admin (only where the provider allows it)."""
    subject = str(claims["sub"])
    if not provider.create_accounts:
        raise SsoRefused("unlinked", subject)
    user = User(username=_free_username(claims), display_name=str(claims.get("name") or subject)[:200],
                email=str(claims["email"])[:254] if claims.get("email") else None,
                external_issuer=provider.issuer, external_subject=subject)
    user.set_password(secrets.token_urlsafe(32))  # no local password: this account signs in through its provider
    db.session.add(user)
    db.session.flush()
    audit.record(user, "auth.sso_account_created", user, provider=provider.key, issuer=provider.issuer,
                 external_subject=subject)
    return user


def _free_username(claims: Mapping[str, Any]) -> str:
    wanted = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])[:70]
    candidate, number = wanted, 1
    while db.session.scalar(select(User.id).where(User.username == candidate)) is not None:
        number += 1
        candidate = f"{wanted}-{number}"
    return candidate


def _apply_role_claim(provider: Provider, user: User, claims: Mapping[str, Any]) -> None:
    """Set the user's roles in the provider's organisations from its roles claim (only where configured)."""
    if not provider.roles_claim:
        return
    mapping = dict(provider.role_map)
    values = claims.get(provider.roles_claim) or []
    wanted = {Role(mapping[value]) for value in ([values] if isinstance(values, str) else values) if value in mapping}
    organisations = db.session.scalars(select(Organisation).where(Organisation.name.in_(provider.organisations))).all()
    held = {(m.organisation_id, m.role) for m in user.memberships}
    target = {(organisation.id, role.value) for organisation in organisations for role in wanted}
    scope = {organisation.id for organisation in organisations}
    for membership in [m for m in user.memberships if m.organisation_id in scope and (m.organisation_id, m.role) not in target]:
        user.memberships.remove(membership)
    for organisation_id, role in sorted(target - held):
        user.memberships.append(Membership(organisation_id=organisation_id, role=role))
    if target != {pair for pair in held if pair[0] in scope}:
        db.session.flush()
        audit.record(user, "auth.sso_roles_set", user, provider=provider.key, roles=sorted(r.value for r in wanted))


def attempt_password_login(username: str, password: str, address: str, throttle: Throttle) -> LoginResult:
    """A password login; while local login is off, only a break-glass account gets here, and it is audited as such."""
    result = attempt_login(username, password, address, throttle)
    if result.user is not None and not is_local_login_allowed():
        audit.record(result.user, "auth.break_glass_login", result.user, address=address)
    return result


def refuse_password_login(username: str, address: str) -> None:
    """Audit a password login refused because local login is off (the caller commits)."""
    attempt = record_attempt(login_name(username), address, LoginOutcome.FAILED)
    audit.record(None, "auth.local_login_refused", attempt, username=login_name(username), address=address)
