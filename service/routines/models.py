"""What the routine-health checks have already told the coordinator about (each finding once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.columns import UtcDateTime, now
from service.extensions import db


class RoutineNotice(db.Model):  # type: ignore[name-defined,misc]
    """A routine-health finding the coordinator was told about, so each is told once (service/routines)."""

    __tablename__ = "routine_notices"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))  # e.g. "task:17", "body:3:2026"
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
