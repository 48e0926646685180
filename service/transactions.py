"""The one place a unit of work is committed, retried when a concurrent writer got there first; and how
a transaction takes SQLite's write lock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.exc import StaleDataError

from service.errors import Conflict
from service.extensions import db

T = TypeVar("T")
log = logging.getLogger(__name__)

# PostgreSQL: serialization_failure, deadlock_detected, unique_violation (two first audit events).
_RETRY_SQLSTATES = {"40001", "40P01", "23505"}


def commit_with_retry(work: Callable[[], T]) -> T:
    """Run ``work`` and commit; on a lost race, or a connection a database restart closed under ``work``,
    roll back and run it again on fresh state.

    Any other exception rolls everything back and propagates: nothing is half-written.
    """
    attempts = int(current_app.config["COMMIT_RETRIES"])
    for attempt in range(1, attempts + 1):
        committing = False
        try:
            result = work()
            committing = True
            db.session.commit()
            return result
        except Exception as exc:
            db.session.rollback()
            if not (_is_race(exc) or (not committing and lost_connection(exc))):
                raise
            log.info("concurrent change or lost connection, retrying (attempt %s): %s", attempt, type(exc).__name__)
    raise Conflict("Ärendet ändrades samtidigt av någon annan. Försök igen.")


def lost_connection(exc: BaseException) -> bool:
    """The database closed the connection (a restart): SQLAlchemy has invalidated the pool, and a new attempt
    gets a new connection. Lost before the commit was sent, nothing was written and the work may run again;
    lost during COMMIT, it is not retried (the commit may have been applied)."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _is_race(exc: Exception) -> bool:
    if isinstance(exc, StaleDataError):
        return True
    if isinstance(exc, OperationalError) and "database is locked" in str(exc):
        return True
    if isinstance(exc, IntegrityError | DBAPIError):
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        return sqlstate in _RETRY_SQLSTATES and _is_retryable_integrity(exc)
    return False


def _is_retryable_integrity(exc: Exception) -> bool:
    # A unique violation is a race only on the audit chain's head or seq; anything else is a real error.
    text = str(exc)
    return not isinstance(exc, IntegrityError) or "audit_chain_head" in text or "audit_events" in text


def take_write_lock(session: Session) -> None:
    """SQLite has no row locks: take the database's write lock now (BEGIN IMMEDIATE), which is what
    SELECT ... FOR UPDATE does on PostgreSQL (there this does nothing). Writers in other processes wait on
    SQLite's busy timeout; threads of this process queue on a lock of their own first, because SQLite's
    busy handler polls with sleeps of up to 100 ms where a thread waiting on a lock wakes at its release.
    Every flush that writes takes it too (_lock_before_flush). Released when the transaction ends."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or session.info.get(_WRITER_KEY):
        return
    driver = connection.connection.driver_connection
    if driver is None or driver.in_transaction:
        # It has written already, so it holds SQLite's lock: no other writer can be running, and waiting for
        # our lock now (held by a thread waiting on SQLite's) would only stall both until the busy timeout.
        return
    _WRITER.acquire()
    session.info[_WRITER_KEY] = True
    connection.exec_driver_sql("BEGIN IMMEDIATE")


_WRITER = threading.RLock()
_WRITER_KEY = "samverkan.sqlite_writer"


@event.listens_for(Session, "before_flush")
def _lock_before_flush(session: Session, flush_context: object, instances: object) -> None:
    if (session.new or session.dirty or session.deleted) and not session.info.get(_WRITER_KEY):
        take_write_lock(session)


@event.listens_for(Session, "after_transaction_end")
def _release_writer(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop(_WRITER_KEY, False):
        _WRITER.release()
