"""Login attempts, the throttle's counters and the signed-in sessions: in the database, so that every app process
sees the same counts and a revoked session ends everywhere at once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.columns import UtcDateTime, now
from service.extensions import db


class LoginOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Refused without checking the password, because of earlier failures.
    THROTTLED = "throttled"


class LoginAttempt(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_attempted_at", "username", "attempted_at"),
        Index("ix_login_attempts_address_attempted_at", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # As typed (lower-cased), whether or not such a user exists.
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    outcome: Mapped[str] = mapped_column(String(16))


class LoginThrottle(db.Model):  # type: ignore[name-defined,misc]
    """One counter of attempts that reached (or were about to reach) a password check, per key and window.

    Keys: ``pair:<username> <address>``, ``address:<address>``, ``username:<username>`` (service/auth/throttle.py).
    Moved by one INSERT ... ON CONFLICT DO UPDATE ... RETURNING, so concurrent attempts each get their own count.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """A signed-in browser session, revocable on the server (the cookie only carries its random token)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token in the cookie: a copy of this table does not sign anyone in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
