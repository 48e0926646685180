"""Two writers on one instance at the same moment: both approvals counted; one task, one winner.

``runner.complete`` is slowed down so the two transactions really overlap. On PostgreSQL the second waits on
the rows' lock and then sees fresh state; on SQLite both do their engine work at once, and the second finds,
when it takes the database's write lock to write, that task or instance moved on, and is run again on fresh
state (transactions.check_when_writing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.agreements import operations as agreement_ops
from service.agreements.models import Agreement
from service.audit import verify
from service.engine import runner
from service.processes import operations
from service.processes.models import HumanTask, ProcessInstance, TaskStatus
from service.processes.operations import complete_task
from service.transactions import commit_with_retry, take_write_lock
from tests.conftest import Parties, csrf_token, decision_data, login
from tests.processes.test_operations import submit as submit_and_receive


@pytest.fixture
def slow_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    original = runner.complete

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(operations.runner, "complete", slow)


def submitted_agreement(db: Any, parties: Parties) -> tuple[Agreement, list[HumanTask]]:
    agreement = commit_with_retry(lambda: agreement_ops.start_drafting(
        by=parties.coordinator, organisation=parties.goteborg, title="Samtidiga beslut"))
    draft = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == agreement.latest_version.instance_id)).one()
    submit_and_receive(db, parties, agreement, draft)
    decide = db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == agreement.latest_version.instance_id, HumanTask.status == TaskStatus.READY)).all()
    return agreement, list(decide)


def run_together(app: Flask, *jobs: Callable[[], Any]) -> list[Any]:
    """Run each job in its own thread and app context, released at the same moment."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[index] = job()
            except Exception as exc:  # the test inspects what each thread got
                results[index] = exc

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_parties_approving_at_once_are_both_counted(app: Flask, db: Any, parties: Parties,
                                                        slow_engine: None) -> None:
    agreement, decide = submitted_agreement(db, parties)
    first, second = decide[0], decide[1]
    ids = {t.id: (t.organisation_id, parties.secretaries[t.organisation_id].id) for t in (first, second)}
    orgs = {o.id: o for o in parties.all}

    def approve(task_id: int) -> str:
        from service.parties.models import User
        org_id, user_id = ids[task_id]
        user = db.session.get(User, user_id)
        commit_with_retry(lambda: complete_task(task_id, decision_data(orgs[org_id]), by=user))
        db.session.remove()
        return "ok"

    assert run_together(app, lambda: approve(first.id), lambda: approve(second.id)) == ["ok", "ok"]
    db.session.expire_all()
    statuses = {t.id: t.status for t in db.session.scalars(select(HumanTask))}
    assert statuses[first.id] == statuses[second.id] == TaskStatus.COMPLETED
    assert len(db.session.get(Agreement, agreement.id).latest_version.current_decisions()) == 2
    instance = db.session.get(ProcessInstance, agreement.latest_version.instance_id)
    assert f'"{decide[2].task_id}"' in instance.state  # the third decision is still open in the engine
    assert verify().is_intact


def test_same_task_submitted_twice_at_once_has_one_winner(app: Flask, db: Any, parties: Parties,
                                                          slow_engine: None) -> None:
    agreement, decide = submitted_agreement(db, parties)
    task = decide[0]
    organisation = next(o for o in parties.all if o.id == task.organisation_id)
    secretary = parties.secretaries[organisation.id].username
    clients = [app.test_client(), app.test_client()]
    tokens = []
    for client in clients:
        login(client, secretary)
        tokens.append(csrf_token(client.get(f"/uppgifter/{task.id}").get_data(as_text=True)))
    data = decision_data(organisation)

    def submit(index: int) -> int:
        response = clients[index].post(f"/uppgifter/{task.id}", data={**data, "csrf_token": tokens[index]})
        return response.status_code

    codes = run_together(app, lambda: submit(0), lambda: submit(1))
    assert sorted(codes) == [302, 409]
    db.session.expire_all()
    assert len(db.session.get(Agreement, agreement.id).latest_version.current_decisions()) == 1
    assert verify().is_intact


def test_a_change_of_the_task_while_the_engine_works_is_never_overwritten(app: Flask, db: Any, parties: Parties,
                                                                          slow_engine: None) -> None:
    """The task is withdrawn (as a timer's escalation does) while its completion is in the engine: exactly one
    of the two wins, and the task's row and the decisions say which."""
    from sqlalchemy import text

    agreement, decide = submitted_agreement(db, parties)
    task = decide[0]
    organisation = next(o for o in parties.all if o.id == task.organisation_id)
    secretary_id = parties.secretaries[organisation.id].id

    def complete() -> str:
        from service.parties.models import User
        user = db.session.get(User, secretary_id)
        try:
            commit_with_retry(lambda: complete_task(task.id, decision_data(organisation), by=user))
            return "completed"
        except Exception as exc:  # the loser is told the task is no longer there to do
            return type(exc).__name__
        finally:
            db.session.remove()

    def withdraw() -> int:
        time.sleep(0.1)  # the completion is in the (slowed) engine now
        result = db.session.execute(text("UPDATE human_tasks SET status = 'cancelled' WHERE id = :id "
                                         "AND status = 'ready'"), {"id": task.id})
        db.session.commit()
        db.session.remove()
        return int(result.rowcount)

    completed, withdrawn = run_together(app, complete, withdraw)
    db.session.expire_all()
    status = db.session.get(HumanTask, task.id).status
    decisions = len(db.session.get(Agreement, agreement.id).latest_version.current_decisions())
    if db.engine.dialect.name == "sqlite":  # nobody waits: the withdrawal commits first, the completion yields
        assert (completed, withdrawn, status, decisions) == ("Conflict", 1, TaskStatus.CANCELLED, 0)
    else:  # the withdrawal waits on the row lock, then finds the task done
        assert (completed, withdrawn, status, decisions) == ("completed", 0, TaskStatus.COMPLETED, 1)
    assert verify().is_intact


def test_sqlite_writers_of_one_process_queue_on_its_lock(app: Flask, db: Any) -> None:
    """On SQLite a second writer waits, on our lock, until the first commits (not in SQLite's busy handler,
    which polls with sleeps of up to 100 ms); on PostgreSQL there is nothing to take (rows are locked instead)."""
    order: list[str] = []
    first_has_lock, let_first_commit = threading.Event(), threading.Event()

    def first() -> None:
        take_write_lock(db.session())
        order.append("first locked")
        first_has_lock.set()
        let_first_commit.wait(10)
        order.append("first commits")
        db.session.commit()

    def second() -> None:
        first_has_lock.wait(10)
        threading.Timer(1.0, let_first_commit.set).start()
        take_write_lock(db.session())
        order.append("second locked")
        db.session.commit()

    run_together(app, first, second)
    if db.engine.dialect.name == "sqlite":
        assert order == ["first locked", "first commits", "second locked"]
    else:
        assert order == ["first locked", "second locked", "first commits"]


def test_the_state_write_checks_and_steps_the_instance_version(db: Any, parties: Parties) -> None:
    """The second line of defence behind the lock: a state written over a version someone else has stepped is
    refused (StaleDataError, which commit_with_retry retries on fresh state); a good write steps the version
    and leaves the loaded instance equal to its row, with nothing left for the unit of work to write."""
    from sqlalchemy import text
    from sqlalchemy.orm.exc import StaleDataError

    agreement, _ = submitted_agreement(db, parties)
    instance = db.session.get(ProcessInstance, agreement.latest_version.instance_id)
    version, state = instance.lock_version, instance.state
    instance.title = "Ny titel"  # pending (as a migration's new version is): flushed after, on the new version
    operations._write_instance(instance, {"state": state + " "}, new=False)
    assert instance.lock_version == version + 1
    db.session.flush()
    assert instance.lock_version == version + 2 and instance not in db.session.dirty
    row = db.session.execute(text("SELECT lock_version, state, title FROM process_instances WHERE id = :id"),
                             {"id": instance.id}).one()
    assert tuple(row) == (version + 2, state + " ", "Ny titel")
    db.session.execute(text("UPDATE process_instances SET lock_version = lock_version + 1 WHERE id = :id"),
                       {"id": instance.id})  # another writer, as far as this session's object knows
    with pytest.raises(StaleDataError):
        operations._write_instance(instance, {"state": "{}"}, new=False)
    db.session.rollback()
    assert db.session.get(ProcessInstance, instance.id).state == state
