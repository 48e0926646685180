"""Record audit events in the caller's transaction (verification.py verifies the hash chain)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from service.audit.models import AuditChainHead, AuditEvent
from service.columns import now
from service.extensions import db
from service.security.personal_data import refuse_in_audit
from service.transactions import execute_core, take_write_lock

GENESIS_HASH = "0" * 64
_HEAD_ID = 1
_SESSION_KEY = "samverkan.audit_head"
_RECORDED_KEY = "samverkan.audit_recorded"


def record(actor: Any, action: str, subject: Any, *, instance_id: int | None = None, **data: Any) -> AuditEvent:
    """Append one event to the chain in the caller's transaction (the chain head stays locked until commit).

    The row is written at once, by a Core INSERT, not at the next flush of the unit of work; the event
    returned is not in the session (``recorded(session)`` lists the transaction's events)."""
    details = json.loads(json.dumps(data, default=str))
    refuse_in_audit(details)  # the chain keeps what it is given for ever: no identity numbers (docs/security.md)
    session = db.session()
    if getattr(subject, "id", None) is None:
        session.flush()
    head = _locked_head(session)
    entry = AuditEvent(
        seq=head.seq + 1, occurred_at=now(), actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "display_name", None) or "Systemet", action=action,
        subject_type=subject.__tablename__, subject_id=str(subject.id), instance_id=instance_id,
        data=details, prev_hash=head.hash,
    )
    entry.hash = chain_hash(head.hash, entry)
    head.seq, head.hash = entry.seq, entry.hash
    values = {column: getattr(entry, column) for column in _EVENT_COLUMNS}
    if head.moves_with_events:  # PostgreSQL: the head is written by the same statement
        execute_core(_INSERT_EVENT_MOVING_HEAD, {**values, "head_seq": entry.seq, "head_hash": entry.hash})
        head.written_seq = entry.seq
    else:
        execute_core(_INSERT_EVENT, values)
    session.info.setdefault(_RECORDED_KEY, []).append(entry)
    return entry


def recorded(session: Session) -> list[AuditEvent]:
    """The events recorded in the session's current transaction (read them at its commit, e.g. to count them)."""
    events: list[AuditEvent] = session.info.get(_RECORDED_KEY, [])
    return events


# Core statements on the tables (not the ORM's unit of work): these run in every transaction that records.
_EVENT_COLUMNS = ("seq", "occurred_at", "actor_id", "actor_name", "action", "subject_type", "subject_id",
                  "instance_id", "data", "prev_hash", "hash")
_INSERT_EVENT = insert(AuditEvent.__table__)
_HEAD = AuditChainHead.__table__
_LOCK_HEAD = (update(_HEAD).where(_HEAD.c.id == _HEAD_ID).values(seq=_HEAD.c.seq)
              .returning(_HEAD.c.seq, _HEAD.c.hash))
_WRITE_HEAD = update(_HEAD).where(_HEAD.c.id == _HEAD_ID).values(seq=bindparam("seq"), hash=bindparam("hash"))
# PostgreSQL: the event and the head it moves to in one statement (a data-modifying WITH), a round trip less
# than writing the head back at commit. SQLite has no UPDATE in WITH: there it is written back at commit.
_INSERT_EVENT_MOVING_HEAD = insert(AuditEvent.__table__).add_cte(
    update(_HEAD).where(_HEAD.c.id == _HEAD_ID).values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
    .cte("moved_head"))


@dataclass
class _Head:
    seq: int
    hash: str
    written_seq: int  # the seq the head row holds in this transaction
    moves_with_events: bool


def _locked_head(session: Session) -> _Head:
    """The chain head, locked once per transaction: a no-op UPDATE locks the row (PostgreSQL) or the
    database (SQLite) until commit, so two transactions can never chain onto the same predecessor.
    Later events of the same transaction chain on in memory; the head is written with each event
    (PostgreSQL) or back before commit (SQLite)."""
    head: _Head | None = session.info.get(_SESSION_KEY)
    if head is None:
        take_write_lock(session)
        # On the connection, so no autoflush: the head is not among the changes pending, which are flushed
        # with the event
        row = session.connection().execute(_LOCK_HEAD).first()
        seq, chain_head = (int(row[0]), str(row[1])) if row is not None else (0, GENESIS_HASH)
        if row is None:  # an empty database built without migrations: start the chain
            session.add(AuditChainHead(id=_HEAD_ID, seq=0, hash=GENESIS_HASH))
            session.flush()
        head = _Head(seq, chain_head, seq, session.connection().dialect.name == "postgresql")
        session.info[_SESSION_KEY] = head
    return head


@orm_event.listens_for(Session, "before_commit")
def _write_head(session: Session) -> None:
    head: _Head | None = session.info.pop(_SESSION_KEY, None)
    if head is not None and head.seq != head.written_seq:
        session.connection().execute(_WRITE_HEAD, {"seq": head.seq, "hash": head.hash})


@orm_event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)
    session.info.pop(_RECORDED_KEY, None)


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_recorded(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # after the commit's listeners (after_commit) have read them
        session.info.pop(_RECORDED_KEY, None)


def canonical(event: Any) -> bytes:
    """The event's content as canonical JSON: sorted keys, no spaces, UTF-8, UTC time to microseconds."""
    content = {
        "seq": event.seq, "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": event.actor_id, "actor_name": event.actor_name, "action": event.action,
        "subject_type": event.subject_type, "subject_id": event.subject_id,
        "instance_id": event.instance_id, "data": event.data,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, event: Any) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()
