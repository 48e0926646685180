"""The hash chain: intact after real work, and any edit or deletion is found and named."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from service.agreements import operations as agreement_ops
from service.audit import verify
from service.audit.models import AuditEvent
from service.processes.models import HumanTask
from service.processes.operations import complete_task
from service.transactions import commit_with_retry
from tests.conftest import Parties, draft_data


def some_history(db: Any, parties: Parties) -> None:
    agreement = commit_with_retry(lambda: agreement_ops.start_drafting(
        by=parties.coordinator, organisation=parties.goteborg, title="Granskat avtal"))
    draft = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == agreement.latest_version.instance_id)).one()
    commit_with_retry(lambda: complete_task(draft.id, draft_data(parties), by=parties.coordinator))


def tamper(db: Any, *statements: Any) -> None:
    """Change audit rows as a database administrator would: on PostgreSQL the append-only trigger must be
    switched off first (the application's own connection is refused, see test_trigger_refuses_changes)."""
    is_postgres = db.session.get_bind().dialect.name == "postgresql"
    if is_postgres:
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    for statement in statements:
        db.session.execute(statement)
    if is_postgres:
        db.session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.session.commit()


def test_chain_is_intact_after_work(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    result = verify()
    assert result.is_intact and result.checked == db.session.query(AuditEvent).count() >= 5


def test_several_events_of_one_transaction_move_the_head_to_the_last(db: Any, parties: Parties,
                                                                     backend: str) -> None:
    from sqlalchemy import event

    from service import audit
    from service.audit.models import AuditChainHead

    sent: list[str] = []

    def remember(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "audit_" in statement:  # not the reloads of the (expired) actor and subject
            sent.append(statement)

    def three_events() -> None:
        for n in range(3):
            audit.record(parties.coordinator, "test.noted", parties.goteborg, n=n)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        commit_with_retry(three_events)
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    head = db.session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (last.seq, last.hash) and last.data == {"n": 2}
    assert verify().is_intact
    # The head is locked once; PostgreSQL writes it with each event, SQLite once, before the commit.
    assert len(sent) == (4 if backend == "postgresql" else 5), sent


def test_edited_event_is_named(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    target = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).one()
    tamper(db, update(AuditEvent).where(AuditEvent.id == target.id)
           .values(data={**target.data, "data": {"costs": "Regionen betalar allt."}}))
    result = verify()
    assert (result.is_intact, result.broken_seq) == (False, target.seq)
    assert "ändrats" in result.reason


def test_deleted_event_is_found(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    tamper(db, delete(AuditEvent).where(AuditEvent.seq == 2))
    result = verify()
    assert (result.is_intact, result.broken_seq) == (False, 2)


@pytest.mark.no_reexecution  # tampers on purpose
def test_deleting_the_last_event_is_found(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    last = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    tamper(db, delete(AuditEvent).where(AuditEvent.seq == last))
    assert not verify().is_intact


def test_cli_verify_names_the_broken_event(app: Flask, db: Any, parties: Parties) -> None:
    some_history(db, parties)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "obruten" in ok.output
    tamper(db, update(AuditEvent).where(AuditEvent.seq == 3).values(actor_name="Någon annan"))
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "BRUTEN vid händelse 3" in broken.output


def test_reordered_events_are_found(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    third, fourth = (db.session.scalars(select(AuditEvent).where(AuditEvent.seq == seq)).one() for seq in (3, 4))
    swapped = {"seq": -1}
    tamper(db, update(AuditEvent).where(AuditEvent.id == third.id).values(**swapped),
           update(AuditEvent).where(AuditEvent.id == fourth.id).values(seq=3),
           update(AuditEvent).where(AuditEvent.id == third.id).values(seq=4))
    result = verify()
    assert (result.is_intact, result.broken_seq) == (False, 3)


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET actor_name = 'x' WHERE seq = 1",
                                       "DELETE FROM audit_events WHERE seq = 1"])
def test_trigger_refuses_changes(db: Any, parties: Parties, backend: str, statement: str) -> None:
    if backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    some_history(db, parties)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert verify().is_intact
