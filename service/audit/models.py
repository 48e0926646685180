"""The append-only audit log: one hash-chained event per state change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, BigInteger, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from service.columns import UtcDateTime
from service.extensions import db


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    """``hash`` = SHA-256(prev_hash + canonical JSON of this event); ``seq`` is gap-free and unique."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(db.Model):  # type: ignore[name-defined,misc]
    """A single row: the last seq and hash. Updating it first serialises appenders on both databases."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


# Application code never changes or removes an audit row; on PostgreSQL the database refuses it too (also the
# table owner's UPDATE, DELETE and TRUNCATE, unless they first disable the triggers, which the anchors kept outside
# the database then expose: service/audit/verification.py). TRUNCATE fires no row trigger: a statement trigger
# refuses it. The runtime role has no UPDATE, DELETE or TRUNCATE privilege on the table at all (audit/roles.py).
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $body$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused';
END;
$body$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = ("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                       "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")

NO_TRUNCATE_TRIGGER = ("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")
# The chain head only moves forward: a later seq, or the same seq and hash (the no-op UPDATE that locks it).
HEAD_FORWARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_chain_head_forward_only() RETURNS trigger AS $body$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id
       AND (NEW.seq > OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit_chain_head only moves forward: ' || TG_OP || ' refused';
END;
$body$ LANGUAGE plpgsql
"""
HEAD_FORWARD_TRIGGER = ("CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE OR DELETE ON audit_chain_head "
                        "FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward_only()")
HEAD_NO_TRUNCATE_TRIGGER = ("CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
                            "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_forward_only()")

for _table, _statements in ((AuditEvent.__table__, (APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER, NO_TRUNCATE_TRIGGER)),
                            (AuditChainHead.__table__, (HEAD_FORWARD_FUNCTION, HEAD_FORWARD_TRIGGER,
                                                        HEAD_NO_TRUNCATE_TRIGGER))):
    for _statement in _statements:
        event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


class AccessLogEntry(db.Model):  # type: ignore[name-defined,misc]
    """Someone read a case (its page, a task of it, its history or an export). Not in the hash chain: reading
    changes nothing, and the log is kept for at least five years (``ACCESS_LOG_RETENTION_YEARS``)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_case", "case_type", "case_id", "accessed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    accessed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_name: Mapped[str] = mapped_column(String(200))
    case_type: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int]
    what: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500), default="")


class DisposalDecision(db.Model):  # type: ignore[name-defined,misc]
    """A decision on disposal (gallringsbeslut) for one case type: closed cases older than ``after_years``
    lose their content. Without a decision for a case type nothing of it is ever disposed."""

    __tablename__ = "disposal_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[str] = mapped_column(String(32), unique=True)
    after_years: Mapped[int]
    reference: Mapped[str] = mapped_column(String(200))  # the decision's diarienummer, e.g. "RS 2026-00123"
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
