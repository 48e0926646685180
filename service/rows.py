"""New rows the ORM's unit of work is spared on the hot path (issue #23): written by a Core INSERT and put in the
session as the ORM would have loaded them, so that the rest of the code sees ordinary persistent objects. What
the ORM does on rollback for the rows its flush wrote is done here for these (_forget_rolled_back_rows).

Reading rows the same way (a Core SELECT, the objects put in the session by hand) was tried for the API token
and the task lock, and cost more than the ORM's own loading: 55.1 -> 57.5 M instructions per peer instance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable, Table, event, insert, inspect
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached

from service.extensions import db
from service.transactions import take_write_lock


def insert_as_loaded(rows: Sequence[Any]) -> None:
    """INSERT new rows of one mapped class at once, by a Core ``INSERT ... RETURNING id``, and put them in the
    session as rows read from the database, not as pending changes for the unit of work: its flush of one new
    row cost a submit about 5 % of its CPU (issue #23). Every column but the id must be given on each object
    (KeyError names one that is not); a None is written as NULL.

    A row inserted so is not one the session knows as new, so a rollback would only expire it and keep it in
    the identity map, where a retry's row given the same id (SQLite reuses it) would collide with it. Each is
    therefore recorded with the transaction it was written in, and expunged when that transaction, or one it
    belongs to, is rolled back (_forget_rolled_back_rows)."""
    if not rows:
        return
    session = db.session()
    take_write_lock(session)
    table: Table = inspect(rows[0]).mapper.local_table  # type: ignore[assignment]
    connection = session.connection()
    written = session.get_nested_transaction() or session.get_transaction()
    inserted = [entry for entry in session.info.get(_INSERTED_KEY, ()) if _root(entry[0]) is _root(written)]
    # Rows giving the same columns go in one statement (several tasks of a parallel or multi-instance step),
    # their ids returned in the rows' order.
    batches: dict[tuple[str, ...], list[tuple[Any, dict[str, Any]]]] = {}
    for row in rows:
        given = {column.key: row.__dict__[column.key] for column in table.columns if not column.primary_key}
        # A None the column has no default for is left out: NULL (given, a JSON column would store JSON's null).
        values = {key: value for key, value in given.items() if value is not None or table.c[key].default is not None}
        batches.setdefault(tuple(values), []).append((row, values))
    for batch in batches.values():
        ids = connection.execute(_returning_id(table), [values for _, values in batch]).scalars().all()
        for (row, _), row_id in zip(batch, ids, strict=True):
            row.id = row_id
            make_transient_to_detached(row)
            session.add(row)
            inserted.append((written, row))
    session.info[_INSERTED_KEY] = inserted


_INSERTED_KEY = "samverkan.inserted_as_loaded"
_RETURNING_ID: dict[str, Executable] = {}


def _returning_id(table: Table) -> Executable:
    statement = _RETURNING_ID.get(table.name)
    if statement is None:
        statement = _RETURNING_ID[table.name] = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return statement


def _root(transaction: SessionTransaction | None) -> SessionTransaction | None:
    while transaction is not None and transaction.parent is not None:
        transaction = transaction.parent
    return transaction


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_rows(session: Session, previous_transaction: SessionTransaction) -> None:
    """Rows insert_as_loaded wrote in a transaction (or savepoint) now rolled back no longer exist: out of the
    session with them, as the session does with the new objects it flushed itself."""
    inserted = session.info.get(_INSERTED_KEY)
    if not inserted:
        return
    kept = []
    for written, row in inserted:
        if not _within(written, previous_transaction):
            kept.append((written, row))
        elif row in session:
            session.expunge(row)
    session.info[_INSERTED_KEY] = kept


@event.listens_for(Session, "after_commit")
def _forget_committed_rows(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint released: its rows go if the transaction rolls back
        session.info.pop(_INSERTED_KEY, None)


