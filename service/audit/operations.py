"""Record audit events in the caller's transaction, and verify the hash chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from service.audit.models import AuditChainHead, AuditEvent
from service.columns import now
from service.extensions import db

GENESIS_HASH = "0" * 64
_HEAD_ID = 1
_BATCH = 1000


def record(actor: Any, action: str, subject: Any, *, instance_id: int | None = None, **data: Any) -> AuditEvent:
    """Append one event to the chain; call it last in an operation, the head row stays locked until commit."""
    if getattr(subject, "id", None) is None:
        db.session.flush()
    seq, prev_hash = _advance_head()
    event = AuditEvent(
        seq=seq, occurred_at=now(), actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "display_name", None) or "Systemet", action=action,
        subject_type=subject.__tablename__, subject_id=str(subject.id), instance_id=instance_id,
        data=json.loads(json.dumps(data, default=str)), prev_hash=prev_hash,
    )
    event.hash = chain_hash(prev_hash, event)
    db.session.execute(update(AuditChainHead).where(AuditChainHead.id == _HEAD_ID)
                       .values(hash=event.hash).execution_options(synchronize_session=False))
    db.session.add(event)
    return event


def _advance_head() -> tuple[int, str]:
    """Take the next seq. The UPDATE locks the head row (PostgreSQL) or the database (SQLite) until commit,
    so two transactions can never chain onto the same predecessor."""
    statement = (update(AuditChainHead).where(AuditChainHead.id == _HEAD_ID)
                 .values(seq=AuditChainHead.seq + 1)
                 .returning(AuditChainHead.seq, AuditChainHead.hash)
                 .execution_options(synchronize_session=False))
    row = db.session.execute(statement).first()
    if row is None:  # first event ever; a concurrent first insert fails on the primary key and is retried
        db.session.add(AuditChainHead(id=_HEAD_ID, seq=1, hash=GENESIS_HASH))
        db.session.flush()
        return 1, GENESIS_HASH
    return int(row.seq), str(row.hash)


def canonical(event: AuditEvent) -> bytes:
    """The event's content as canonical JSON: sorted keys, no spaces, UTF-8, UTC time to microseconds."""
    content = {
        "seq": event.seq, "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": event.actor_id, "actor_name": event.actor_name, "action": event.action,
        "subject_type": event.subject_type, "subject_id": event.subject_id,
        "instance_id": event.instance_id, "data": event.data,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


@dataclass(frozen=True)
class Verification:
    is_intact: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify() -> Verification:
    """Walk the whole chain; name the first event whose link or content does not match."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for event in _events_in_order():
        if event.seq != expected_seq:
            return Verification(False, checked, expected_seq, f"händelse {expected_seq} saknas (nästa är {event.seq})")
        if event.prev_hash != prev_hash:
            return Verification(False, checked, event.seq, "länken till föregående händelse stämmer inte")
        if chain_hash(prev_hash, event) != event.hash:
            return Verification(False, checked, event.seq, "innehållet har ändrats efter att händelsen skrevs")
        expected_seq, prev_hash, checked = expected_seq + 1, event.hash, checked + 1
    head = db.session.get(AuditChainHead, _HEAD_ID)
    if head is not None and (head.seq, head.hash) != (checked, prev_hash):
        return Verification(False, checked, head.seq, f"kedjans huvud anger händelse {head.seq} men loggen slutar vid {checked}")
    return Verification(True, checked)


def _events_in_order() -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = db.session.scalars(select(AuditEvent).where(AuditEvent.seq > last)
                                   .order_by(AuditEvent.seq).limit(_BATCH)).all()
        yield from batch
        if len(batch) < _BATCH:
            return
        last = batch[-1].seq
        db.session.expunge_all()
