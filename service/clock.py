"""The service's one clock. Real time in production; tests set or advance it.

Every timestamp the service stores and every timer the engine evaluates reads this clock, so a test can
move a case 60 days forward and see deadlines, reminders and timers behave as they would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_frozen: datetime | None = None
# One operation (a task completion, a timer firing) sees one moment; per thread/context, not global.
_pinned: ContextVar[datetime | None] = ContextVar("pinned_moment", default=None)


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


@contextmanager
def pinned(moment: datetime | None = None) -> Iterator[datetime]:
    """Inside the block, now() is one moment (``moment``, or the current one): the engine sees a single
    instant per operation, which the audit event records, so a replay can give it the same instant."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("pinned() needs a timezone-aware moment")
    value = (moment or now()).astimezone(UTC)
    token = _pinned.set(value)
    try:
        yield value
    finally:
        _pinned.reset(token)


def freeze(moment: datetime) -> None:
    """Stop the clock at ``moment`` (tests)."""
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware moment")
    _frozen = moment.astimezone(UTC)


def advance(delta: timedelta) -> None:
    """Move the clock forward, frozen or running (tests, and admin tools that fire timers early)."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


def reset() -> None:
    """Back to real time."""
    global _frozen, _offset
    _frozen, _offset = None, timedelta(0)
