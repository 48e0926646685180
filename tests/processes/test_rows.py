"""service/rows.py. New instance and task rows are written by a Core INSERT and put in the session as loaded
rows (insert_as_loaded): a rollback, of the transaction or of a savepoint, must take them out of the session as
it does the rows its own flush wrote, or the next attempt's rows (SQLite gives them the same ids) collide with
them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, inspect, select

from service.agreements import operations as agreement_ops
from service.agreements.models import Agreement
from service.processes.models import HumanTask, ProcessInstance
from service.processes.operations import complete_with_open_tasks
from service.transactions import commit_with_retry, take_write_lock
from tests.conftest import Parties, draft_data


class Refused(Exception):
    pass


def _start(parties: Parties, title: str = "Samverkan kring psykisk hälsa") -> Agreement:
    return agreement_ops.start_drafting(by=parties.coordinator, organisation=parties.goteborg, title=title)


def _count(db: Any, model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def _rows_of(agreement: Agreement) -> tuple[ProcessInstance, list[HumanTask]]:
    instance = agreement.latest_version.instance
    return instance, list(instance.tasks)


def test_a_rolled_back_start_leaves_nothing_in_the_session_and_the_next_start_works(db: Any, parties: Parties) -> None:
    instances, tasks = _count(db, ProcessInstance), _count(db, HumanTask)
    seen: list[tuple[ProcessInstance, list[HumanTask]]] = []

    def refused() -> None:
        seen.append(_rows_of(_start(parties)))
        raise Refused

    with pytest.raises(Refused):
        commit_with_retry(refused)
    [(instance, rows)] = seen
    assert rows  # the draft task was written, then rolled back
    assert all(inspect(row).detached or inspect(row).transient for row in [instance, *rows])
    assert (_count(db, ProcessInstance), _count(db, HumanTask)) == (instances, tasks)

    agreement = commit_with_retry(lambda: _start(parties, "Andra försöket"))
    instance, rows = _rows_of(agreement)
    assert instance.title.startswith("Andra försöket") and [row.bpmn_id for row in rows] == ["draft"]
    assert (_count(db, ProcessInstance), _count(db, HumanTask)) == (instances + 1, tasks + 1)
    db.session.expire_all()  # read back from the database, not the objects written
    assert db.session.get(HumanTask, rows[0].id).instance_id == instance.id


def test_a_savepoint_rolled_back_takes_its_rows_out_and_the_transaction_goes_on(db: Any, parties: Parties) -> None:
    instances = _count(db, ProcessInstance)
    take_write_lock(db.session())  # SQLite: a savepoint outside BEGIN would be a transaction of its own
    savepoint = db.session.begin_nested()
    instance, rows = _rows_of(_start(parties))
    savepoint.rollback()
    assert instance not in db.session and not any(row in db.session for row in rows)

    agreement = _start(parties, "Efter sparpunkten")
    db.session.commit()
    assert _count(db, ProcessInstance) == instances + 1
    assert agreement.latest_version.instance.title.startswith("Efter sparpunkten")


def test_rows_of_a_released_savepoint_go_when_the_transaction_rolls_back(db: Any, parties: Parties) -> None:
    instances = _count(db, ProcessInstance)
    take_write_lock(db.session())
    with db.session.begin_nested():
        instance, rows = _rows_of(_start(parties))
    assert instance in db.session  # released: still the transaction's
    db.session.rollback()
    assert instance not in db.session and not any(row in db.session for row in rows)
    assert _count(db, ProcessInstance) == instances
    commit_with_retry(lambda: _start(parties, "Igen"))
    assert _count(db, ProcessInstance) == instances + 1


def test_committed_rows_stay_in_the_session_and_read_as_written(db: Any, parties: Parties) -> None:
    agreement = commit_with_retry(lambda: _start(parties))
    instance, [task] = _rows_of(agreement)
    assert instance in db.session and task in db.session
    written = (instance.id, instance.lock_version, instance.status, task.status, task.due_at, task.draft_data)
    db.session.expire_all()
    assert (instance.id, instance.lock_version, instance.status, task.status, task.due_at, task.draft_data) == written
    assert db.session.scalar(select(HumanTask.draft_data.is_(None)).where(HumanTask.id == task.id)) is True



def test_several_new_tasks_go_in_one_statement_each_with_its_own_id(db: Any, parties: Parties) -> None:
    agreement = commit_with_retry(lambda: _start(parties))
    _, [draft] = _rows_of(agreement)
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO human_tasks"):
            inserts.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        completion = commit_with_retry(lambda: complete_with_open_tasks(draft.id, draft_data(parties),
                                                                        by=parties.coordinator))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    created = completion.open_tasks
    assert len(created) == len(parties.secretaries) >= 3  # one per party
    if db.engine.dialect.name == "postgresql":  # one round trip; SQLite (in process) gets them row by row from
        assert len(inserts) == 1  # SQLAlchemy, which cannot otherwise give its ids in the rows' order there
    written = {(row.id, row.task_id, row.organisation_id) for row in created}
    db.session.expire_all()
    assert {(row.id, row.task_id, row.organisation_id) for row in db.session.scalars(
        select(HumanTask).where(HumanTask.id.in_([row_id for row_id, _, _ in written])))} == written
