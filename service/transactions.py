"""The one place a unit of work is committed, retried when a concurrent writer got there first; and how
a transaction takes SQLite's write lock."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import CursorResult, Executable, event
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


def execute_core(statement: Executable, parameters: dict[str, Any] | None = None) -> CursorResult[Any]:
    """Run a Core statement as Session.execute would (on the session's connection, in its transaction, after
    the autoflush of pending changes unless in ``no_autoflush``), without the ORM's execution path: about half
    the overhead (62 against 28 us a statement, measured in issue #23), on every completion's hot path."""
    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, parameters)


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
    SELECT ... FOR UPDATE does on PostgreSQL (there this does nothing). Threads of this process queue on a
    lock of their own first, and processes on a file lock (_queue_between_processes), because SQLite's busy
    handler polls with sleeps of up to 100 ms where a waiter on a lock wakes at its release.
    Every flush that writes takes it too (_lock_before_flush). Released when the transaction ends."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or session.info.get(_WRITER_KEY):
        return
    driver = connection.connection.driver_connection
    if driver is None or driver.in_transaction:
        # It has written already, so it holds SQLite's lock: no other writer can be running, and waiting for
        # our lock now (held by a thread waiting on SQLite's) would only stall both until the busy timeout.
        _run_checks(session)
        return
    _WRITER.acquire()
    session.info[_WRITER_KEY] = True
    _queue_between_processes(connection.engine.url.database)
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    _run_checks(session)


def check_when_writing(session: Session, check: Callable[[], None]) -> None:
    """SQLite: run ``check`` when this transaction takes the write lock (at once if it holds it already).

    What SELECT ... FOR UPDATE gives on PostgreSQL, read optimistically: rows read without the lock (so that
    the engine's work on one case runs while another case's commit holds the lock) are read again under it by
    ``check``, which raises StaleDataError if another writer changed them meanwhile; the unit of work is then
    retried on fresh state (commit_with_retry). A transaction that never writes needs no check. PostgreSQL:
    nothing to do (its rows are locked as they are read)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if session.info.get(_WRITER_KEY) or driver is None or driver.in_transaction:
        check()
        return
    session.info.setdefault(_CHECKS_KEY, []).append(check)


def _run_checks(session: Session) -> None:
    for check in session.info.pop(_CHECKS_KEY, []):
        check()


_WRITER = threading.RLock()
_WRITER_KEY = "samverkan.sqlite_writer"
_CHECKS_KEY = "samverkan.checks_under_the_write_lock"
_queues: dict[tuple[int, str], int] = {}  # (process id, database): the lock file's descriptor in that process
_held = threading.local()  # this thread's depth in _WRITER (an RLock) and the lock file it holds


def _queue_between_processes(database: str | None) -> None:
    """Writers in other processes (``samverkan run``'s web workers) queue on a file lock beside the database,
    for the reason threads queue on _WRITER: SQLite's busy handler sleeps up to 100 ms between tries, where
    flock wakes the next writer at the release. Held, like _WRITER, until the transaction ends; SQLite's own
    lock stays what guarantees safety (a writer that does not queue here, or a second host, still waits on it)."""
    depth = getattr(_held, "depth", 0)
    _held.depth = depth + 1
    if depth or not database or database == ":memory:" or database.startswith("file:"):
        return
    key = (os.getpid(), database)  # a descriptor inherited through fork() would share the parent's lock
    if key not in _queues:
        _queues[key] = os.open(f"{database}.writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(_queues[key], fcntl.LOCK_EX)
    _held.descriptor = _queues[key]


def _leave_queue() -> None:
    _held.depth = getattr(_held, "depth", 1) - 1
    descriptor = getattr(_held, "descriptor", None)
    if _held.depth == 0 and descriptor is not None:
        _held.descriptor = None
        fcntl.flock(descriptor, fcntl.LOCK_UN)


@event.listens_for(Session, "before_flush")
def _lock_before_flush(session: Session, flush_context: object, instances: object) -> None:
    if (session.new or session.dirty or session.deleted) and not session.info.get(_WRITER_KEY):
        take_write_lock(session)


@event.listens_for(Session, "after_transaction_end")
def _release_writer(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHECKS_KEY, None)  # a transaction that wrote nothing had nothing to check
    if transaction.parent is None and session.info.pop(_WRITER_KEY, False):
        _leave_queue()
        _WRITER.release()
