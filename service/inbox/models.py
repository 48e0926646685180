"""Tables of the inbox: substitutes during leave, saved task filters, case comments, form attachments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db


class Substitute(db.Model):  # type: ignore[name-defined,misc]
    """While ``user`` is on leave (``starts_on``..``ends_on`` inclusive), ``substitute`` sees and completes
    their personal and group tasks."""

    __tablename__ = "inbox_substitutes"
    __table_args__ = (Index("ix_inbox_substitutes_substitute", "substitute_id", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    user = relationship("User", foreign_keys=[user_id])
    substitute = relationship("User", foreign_keys=[substitute_id])


class SavedFilter(db.Model):  # type: ignore[name-defined,misc]
    """A named inbox query (its URL parameters); shared with a group (organisation × role) when set."""

    __tablename__ = "inbox_saved_filters"
    __table_args__ = (Index("ix_inbox_saved_filters_group", "shared_organisation_id", "shared_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    shared_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    shared_role: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    owner = relationship("User")
    shared_organisation = relationship("Organisation")


class CaseComment(db.Model):  # type: ignore[name-defined,misc]
    """A comment on a case (agreement, deviation, dispute, or a bare process instance)."""

    __tablename__ = "inbox_case_comments"
    __table_args__ = (Index("ix_inbox_case_comments_case", "case_type", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    author = relationship("User")


class Attachment(db.Model):  # type: ignore[name-defined,misc]
    """A file uploaded in a task's form, stored in the database; the form value is its id."""

    __tablename__ = "inbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"))
    field: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    uploaded_by = relationship("User")
