"""Login attempts: the throttle's memory, in the database so that every app process sees the same counts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
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
