"""The notification outbox: one row per person and event, listed in the app and delivered by e-mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db
from service.parties.models import User


class NotificationKind(StrEnum):
    TASK_OFFERED = "task_offered"
    DEADLINE_SOON = "deadline_soon"
    ESCALATED = "escalated"
    OTHER = "other"


NOTIFICATION_KIND_LABELS: dict[str, str] = {
    NotificationKind.TASK_OFFERED: "Ny uppgift",
    NotificationKind.DEADLINE_SOON: "Påminnelse",
    NotificationKind.ESCALATED: "Eskalering",
    NotificationKind.OTHER: "Meddelande",
}


class Notification(db.Model):  # type: ignore[name-defined,misc]
    """A message to one person. Written in the workflow's transaction; the sender delivers it later, so an
    SMTP outage never rolls back the change that caused it."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The sender's query: unsent rows due for an attempt.
        Index("ix_notifications_outbox", "sent_at", "next_attempt_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # SET NULL: a notification is a record of what the person was told; it outlives a deleted case.
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id", ondelete="SET NULL"))
    task_row_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    is_digest: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(default=0)  # failed attempts; sent_at marks the one that worked
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def kind_label(self) -> str:
        return NOTIFICATION_KIND_LABELS.get(self.kind, "Meddelande")


class NotificationSettings(db.Model):  # type: ignore[name-defined,misc]
    """A person's delivery choices; no row means the defaults (every notification sent at once)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    wants_digest: Mapped[bool] = mapped_column(default=False)
