"""The hash chain: intact after real work, and any edit or deletion is found and named."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import delete, select, update

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


def test_chain_is_intact_after_work(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    result = verify()
    assert result.is_intact and result.checked == db.session.query(AuditEvent).count() >= 5


def test_edited_event_is_named(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    target = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).one()
    db.session.execute(update(AuditEvent).where(AuditEvent.id == target.id)
                       .values(data={**target.data, "data": {"costs": "Regionen betalar allt."}}))
    db.session.commit()
    result = verify()
    assert (result.is_intact, result.broken_seq) == (False, target.seq)
    assert "ändrats" in result.reason


def test_deleted_event_is_found(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    db.session.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    db.session.commit()
    result = verify()
    assert (result.is_intact, result.broken_seq) == (False, 2)


def test_deleting_the_last_event_is_found(db: Any, parties: Parties) -> None:
    some_history(db, parties)
    last = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    db.session.execute(delete(AuditEvent).where(AuditEvent.seq == last))
    db.session.commit()
    assert not verify().is_intact


def test_cli_verify_names_the_broken_event(app: Flask, db: Any, parties: Parties) -> None:
    some_history(db, parties)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "obruten" in ok.output
    db.session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(actor_name="Någon annan"))
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "BRUTEN vid händelse 3" in broken.output
