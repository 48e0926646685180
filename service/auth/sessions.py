"""Signed-in sessions, revocable on the server (issue #17, finding 6).

The signed cookie carries a random token; the user_sessions row it names must exist, be unrevoked and
unexpired on every request, so logout, a password change and an admin disabling the account end a session
everywhere at once, also for a copied cookie. Only the token's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, select, update

from service.auth.models import UserSession
from service.extensions import db
from service.i18n import SESSION_KEY
from service.parties.models import User

TOKEN_KEY = "session_token"


def open_session(user: User) -> str:
    """Store a new session for ``user`` and return its token for the cookie (the caller commits)."""
    token = secrets.token_urlsafe(32)
    moment = _wall_clock()
    # Housekeeping in the same statement batch: the user's expired rows are of no further use.
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at < moment))
    db.session.add(UserSession(user_id=user.id, token_hash=_digest(token), created_at=moment,
                               expires_at=moment + current_app.permanent_session_lifetime))
    db.session.flush()
    return token


def revoke_session(token: str | None) -> None:
    """End the session ``token`` names (the caller commits)."""
    if token:
        db.session.execute(update(UserSession).where(UserSession.token_hash == _digest(token),
                                                     UserSession.revoked_at.is_(None)).values(revoked_at=_wall_clock()))


def revoke_user_sessions(user: User) -> None:
    """End every session of ``user`` (the caller commits): password changed or reset, account disabled."""
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
                       .values(revoked_at=_wall_clock()))


def load_session_user(user_id: int) -> User | None:
    """The signed-in user of this request, if the cookie's session is still open and the account enabled."""
    from service.parties.operations import load_user

    token = session.get(TOKEN_KEY)
    if not token or not db.session.scalar(select(UserSession.id).where(
            UserSession.token_hash == _digest(str(token)), UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None), UserSession.expires_at > _wall_clock())):
        return None
    user = load_user(user_id)
    return user if user is not None and user.is_enabled else None


def current_token() -> str | None:
    """The session token in this request's cookie, if any."""
    token = session.get(TOKEN_KEY)
    return str(token) if token else None


def start_session(user: User, token: str) -> None:
    """Sign ``user`` in on a new cookie session naming ``token`` (nothing from before carries over but the language)."""
    _clear_keeping_language()
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME, as its row does
    session[TOKEN_KEY] = token
    login_user(user)


def end_session() -> None:
    """Sign out and forget everything in the cookie session but the language."""
    logout_user()
    _clear_keeping_language()


def _clear_keeping_language() -> None:
    language = session.get(SESSION_KEY)
    session.clear()
    if language:
        session[SESSION_KEY] = language


def _wall_clock() -> datetime:
    # Real time, as the cookie's own expiry: the service clock moves in tests of deadlines, and a session
    # must not expire (or revive) with it.
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
