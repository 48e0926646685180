"""Signing in and out, and changing one's own password: each one transaction with its audit event."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from service.audit import operations as audit
from service.auth.models import LoginOutcome
from service.auth.sessions import open_session, revoke_session, revoke_user_sessions
from service.auth.throttle import Throttle, record_attempt, release_check, reserve_check
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import User

# Checked when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("ingen-användare")


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    retry_after_seconds: int = 0
    # The new server-side session's token, for the cookie (service/auth/sessions.py).
    session_token: str = ""


def login_name(username: str) -> str:
    """The name as the throttle and the history count it: trimmed, lower-cased, at most 80 characters."""
    return username.strip().lower()[:80]


def reserve_login(username: str, address: str) -> Throttle:
    """Count the attempt before any password is checked; committed on its own (service/auth/throttle.py)."""
    return reserve_check(login_name(username), address)


def attempt_login(username: str, password: str, address: str, throttle: Throttle) -> LoginResult:
    """Check a username and password unless ``throttle`` refused; record and audit the attempt (the caller commits)."""
    name = login_name(username)
    if throttle.is_refused:
        attempt = record_attempt(name, address, LoginOutcome.THROTTLED)
        audit.record(None, "auth.login_throttled", attempt, username=name, address=address)
        return LoginResult(LoginOutcome.THROTTLED, retry_after_seconds=throttle.retry_after_seconds)
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
    if user is None or not user.is_active or not user.check_password(password):
        attempt = record_attempt(name, address, LoginOutcome.FAILED)
        audit.record(user, "auth.login_failed", attempt, username=name, address=address)
        return LoginResult(LoginOutcome.FAILED)
    release_check(throttle)
    record_attempt(name, address, LoginOutcome.SUCCEEDED)
    audit.record(user, "auth.login", user, address=address)
    return LoginResult(LoginOutcome.SUCCEEDED, user, session_token=open_session(user))


def record_logout(user: User, session_token: str | None) -> None:
    """End the session on the server and audit the logout (the caller commits)."""
    revoke_session(session_token)
    audit.record(user, "auth.logout", user)


def change_password(user: User, current: str, new: str, repeated: str) -> str:
    """Change one's own password (current, then new twice); end every session, return a new one's token."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(current):
        errors["current_password"] = [_("Det nuvarande lösenordet stämmer inte.")]
    errors.update(password_errors(new, repeated, "new_password", "repeat_password"))
    if errors:
        raise ValidationFailed(_("Lösenordet är inte bytt."), errors)
    user.set_password(new)
    # A cookie stolen before the change must stop working: every session ends, this browser gets a new one.
    revoke_user_sessions(user)
    audit.record(user, "auth.password_changed", user)
    return open_session(user)


def password_errors(new: str, repeated: str | None, field: str, repeat_field: str) -> dict[str, list[str]]:
    """Field errors for a new password (``repeated`` None: no repetition asked)."""
    errors: dict[str, list[str]] = {}
    minimum = int(current_app.config["PASSWORD_MIN_LENGTH"])
    if len(new) < minimum:
        errors[field] = [_("Lösenordet måste ha minst %(count)s tecken.", count=minimum)]
    elif repeated is not None and new != repeated:
        errors[repeat_field] = [_("Lösenorden är inte likadana.")]
    return errors
