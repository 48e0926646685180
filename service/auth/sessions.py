"""Starting and ending a signed-in session: a fresh session each time, keeping only the chosen language."""

from __future__ import annotations

from flask import session
from flask_login import login_user, logout_user

from service.i18n import SESSION_KEY
from service.parties.models import User


def start_session(user: User) -> None:
    """Sign ``user`` in on a new session (nothing from before carries over but the language)."""
    _clear_keeping_language()
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
    login_user(user)


def end_session() -> None:
    """Sign out and forget everything in the session but the language."""
    logout_user()
    _clear_keeping_language()


def _clear_keeping_language() -> None:
    language = session.get(SESSION_KEY)
    session.clear()
    if language:
        session[SESSION_KEY] = language
