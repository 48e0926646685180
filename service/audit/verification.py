"""Verify the hash chain: every link, every event's content, the head, and every anchor kept outside the database.

The links and contents find an edited, deleted or reordered event; the anchors find what re-hashing can hide
(a truncated tail with the head moved back, a TRUNCATE and a re-hashed rewrite) up to the last anchor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from service.audit.anchor_file import Anchor, AnchorError, read_anchors
from service.audit.models import AuditChainHead, AuditEvent
from service.audit.operations import GENESIS_HASH, chain_hash
from service.extensions import db

_BATCH = 1000
_EVENTS = AuditEvent.__table__
_HEAD = AuditChainHead.__table__


@dataclass(frozen=True)
class Verification:
    is_intact: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    anchors: int = 0  # anchor lines the chain was held against
    last_hash: str = ""  # of the last event checked, when intact: what the anchor job anchors


def verify() -> Verification:
    """Walk the whole chain and hold it against every anchor; name the first event that does not match."""
    try:
        anchors = read_anchors()
    except AnchorError as exc:
        return Verification(False, 0, exc.seq, exc.message)
    anchored: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        anchored.setdefault(anchor.seq, []).append(anchor)
    walk = _Walk(anchored)
    problem = walk.on(None)
    while problem is None and walk.checked < _head()[0]:
        # Events committed while we walked (each moves the head in its own transaction, so every event up
        # to a head we can read is visible): walk on to it, once; a head beyond the chain stays a problem.
        before = walk.checked
        problem = walk.on(before)
        if walk.checked == before:
            break
    problem = problem or _end_problem(walk.checked, walk.last_hash, anchors)
    if problem is not None:
        return Verification(False, walk.checked, problem[0], problem[1], len(anchors))
    return Verification(True, walk.checked, anchors=len(anchors), last_hash=walk.last_hash)


class _Walk:
    """The chain checked so far: its last seq and hash."""

    def __init__(self, anchored: dict[int, list[Anchor]]) -> None:
        self.anchored, self.checked, self.last_hash = anchored, 0, GENESIS_HASH

    def on(self, after: int | None) -> tuple[int, str] | None:
        """Check the events after seq ``after`` (None: every row, also any below 1); the first problem."""
        for event in _events_in_order(after):
            problem = _link_problem(event, self.checked + 1, self.last_hash) or _anchor_problem(event, self.anchored)
            if problem is not None:
                return problem
            self.checked, self.last_hash = event.seq, event.hash
        return None


def _head() -> tuple[int, str]:
    head = db.session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).first()
    return (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS_HASH)


def _link_problem(event: Any, expected_seq: int, prev_hash: str) -> tuple[int, str] | None:
    if event.seq != expected_seq:
        return expected_seq, f"händelse {expected_seq} saknas (nästa är {event.seq})"
    if event.prev_hash != prev_hash:
        return event.seq, "länken till föregående händelse stämmer inte"
    if chain_hash(prev_hash, event) != event.hash:
        return event.seq, "innehållet har ändrats efter att händelsen skrevs"
    return None


def _anchor_problem(event: Any, anchored: dict[int, list[Anchor]]) -> tuple[int, str] | None:
    for anchor in anchored.get(event.seq, ()):
        if anchor.hash != event.hash:
            return event.seq, f"händelsen skiljer sig från ankaret {anchor.source} (kedjan har skrivits om)"
    return None


def _end_problem(checked: int, last_hash: str, anchors: list[Anchor]) -> tuple[int, str] | None:
    """The chain's end against the anchors (none may lie beyond it) and against the head row."""
    furthest = max(anchors, key=lambda anchor: anchor.seq, default=None)
    if furthest is not None and furthest.seq > checked:
        return checked + 1, (f"händelse {checked + 1} saknas: loggen slutar vid {checked} men ankaret "
                             f"{furthest.source} anger händelse {furthest.seq}")
    head_seq, head_hash = _head()
    if (head_seq, head_hash) != (checked, last_hash):
        return head_seq, f"kedjans huvud anger händelse {head_seq} men loggen slutar vid {checked}"
    return None


def _events_in_order(after: int | None) -> Iterator[Any]:
    """Rows by seq, a batch at a time, read as Core rows: nothing enters (or is expunged from) the session,
    so objects the caller holds, such as the signed-in user, stay attached. Without ``after`` the first batch
    starts below 1, so that a row slipped in before the first event is not skipped."""
    query = select(_EVENTS).order_by(_EVENTS.c.seq).limit(_BATCH)
    batch = db.session.execute(query if after is None else query.where(_EVENTS.c.seq > after)).all()
    while batch:
        yield from batch
        if len(batch) < _BATCH:
            return
        batch = db.session.execute(query.where(_EVENTS.c.seq > batch[-1].seq)).all()
