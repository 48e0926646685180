"""Login throttling against password guessing, counted from login_attempts rows (shared by every process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from service.auth.models import LoginAttempt, LoginOutcome
from service.columns import now
from service.extensions import db


@dataclass(frozen=True)
class Throttle:
    """Whether attempts are refused now, and for how many more seconds."""

    is_refused: bool
    retry_after_seconds: int = 0


def check_throttle(username: str, address: str) -> Throttle:
    """Refuse when the username or the address has too many recent wrong passwords."""
    config = current_app.config
    window_start = now() - timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"]))
    since_success = _last_success(username, window_start) or window_start
    by_name = _failures(LoginAttempt.username == username, since_success)
    by_address = _failures(LoginAttempt.address == address, window_start)
    refusals = []
    if len(by_name) >= int(config["LOGIN_MAX_FAILURES"]):
        refusals.append(by_name[-int(config["LOGIN_MAX_FAILURES"])])
    if len(by_address) >= int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        refusals.append(by_address[-int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"])])
    if not refusals:
        return Throttle(False)
    # Attempts are allowed again when the oldest failure that still counts leaves the window.
    free_at = max(refusals) + timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"]))
    return Throttle(True, max(1, int((free_at - now()).total_seconds()) + 1))


def record_attempt(username: str, address: str, outcome: LoginOutcome) -> LoginAttempt:
    """Remember one attempt in the caller's transaction."""
    attempt = LoginAttempt(username=username, address=address, outcome=outcome, attempted_at=now())
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _last_success(username: str, since: datetime) -> datetime | None:
    return db.session.scalar(select(func.max(LoginAttempt.attempted_at)).where(
        LoginAttempt.username == username, LoginAttempt.outcome == LoginOutcome.SUCCEEDED,
        LoginAttempt.attempted_at >= since))


def _failures(condition: object, since: datetime) -> list[datetime]:
    """Times of failed attempts matching ``condition`` after ``since``, oldest first."""
    return list(db.session.scalars(select(LoginAttempt.attempted_at).where(
        condition, LoginAttempt.outcome == LoginOutcome.FAILED, LoginAttempt.attempted_at > since)  # type: ignore[arg-type]
        .order_by(LoginAttempt.attempted_at)))
