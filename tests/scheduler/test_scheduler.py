"""Real time, real APScheduler, job store in the test database: timers fire without anyone touching
the instance, after a restart, and exactly once with two scheduler processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from service.audit.models import AuditEvent
from service.parties.models import Role
from service.processes.models import HumanTask, ProcessTimer, TaskStatus, TimerStatus
from service.processes.operations import complete_task, start_process
from service.scheduler.setup import TimerScheduler, job_id
from service.transactions import commit_with_retry
from tests.conftest import TEST_SECRET_KEY
from tests.processes.test_timers import deploy_fixture

BOUND_S = 15  # generous: precise lateness is measured in bench/, not asserted here


@pytest.fixture
def office(db: Any, make_organisation: Any, make_user: Any) -> tuple[Any, Any]:
    deploy_fixture("timer_escalation")
    organisation = make_organisation(name="Alingsås kommun")
    return organisation, make_user([(organisation, Role.CASE_OFFICER)])


@pytest.fixture
def scheduler(app: Flask, db: Any) -> Iterator[Callable[[], TimerScheduler]]:
    started: list[TimerScheduler] = []

    def start() -> TimerScheduler:
        instance = TimerScheduler(app)
        instance.start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.shutdown()


def start_case(office: tuple[Any, Any], answer_within: str) -> int:
    organisation, officer = office
    data = {"organisation_id": organisation.id, "reminders": 0, "answer_within": answer_within}
    return commit_with_retry(lambda: start_process("timer_escalation", by=officer, title="Svar", data=data)).id


def wait_for(condition: Callable[[], bool], seconds: float = BOUND_S) -> bool:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if condition():
            return True
        time.sleep(0.2)
    return False


def escalated(db: Any, instance_id: int) -> bool:
    db.session.remove()
    return db.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "escalated_answer")) is not None


def test_pt2s_boundary_timer_fires_by_itself(db: Any, office: Any, scheduler: Any) -> None:
    running = scheduler()
    instance_id = start_case(office, "PT2S")
    deadline = db.session.scalars(select(ProcessTimer).where(ProcessTimer.bpmn_id == "deadline")).one()
    assert running.scheduler.get_job(job_id(deadline.id)) is not None  # scheduled right after the commit
    assert wait_for(lambda: escalated(db, instance_id))
    fired = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fired")).all()
    assert [e.data["timer"] for e in fired] == ["deadline"]


def test_timer_due_while_stopped_fires_at_start(db: Any, office: Any, scheduler: Any) -> None:
    instance_id = start_case(office, "PT1S")  # no scheduler running: nobody schedules it
    time.sleep(1.5)
    assert not escalated(db, instance_id)
    scheduler()  # the start-up re-sync finds the overdue timer; misfire_grace_time=None runs it late
    assert wait_for(lambda: escalated(db, instance_id))


def test_completed_task_removes_its_timer_jobs(db: Any, office: Any, scheduler: Any) -> None:
    running = scheduler()
    instance_id = start_case(office, "P10D")
    rows = db.session.scalars(select(ProcessTimer).where(ProcessTimer.instance_id == instance_id)).all()
    assert all(running.scheduler.get_job(job_id(r.id)) for r in rows)
    task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
    commit_with_retry(lambda: complete_task(task.id, {"note": "Klart."}, by=office[1]))
    assert [running.scheduler.get_job(job_id(r.id)) for r in rows] == [None, None]
    [wait] = db.session.scalars(select(ProcessTimer).where(
        ProcessTimer.instance_id == instance_id, ProcessTimer.status == TimerStatus.WAITING)).all()
    assert running.scheduler.get_job(job_id(wait.id)) is not None


def test_resync_repairs_both_directions(db: Any, office: Any, scheduler: Any) -> None:
    start_case(office, "P10D")
    running = scheduler()
    stray = running.scheduler.add_job("service.scheduler.jobs:fire_timer_job", "date", args=[999999],
                                      id=job_id(999999), run_date="2099-01-01T00:00:00+00:00")
    some = running.scheduler.get_jobs(jobstore="default")[0]
    running.scheduler.remove_job(some.id)
    assert running.full_resync() == (1, 1)
    assert running.scheduler.get_job(stray.id) is None and running.scheduler.get_job(some.id) is not None


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def scheduler_process(app: Flask) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": TEST_SECRET_KEY,
           "SAMVERKAN_SCHEDULER_LEADER_POLL_SECONDS": "1", "SAMVERKAN_SCHEDULER_SYNC_SECONDS": "1"}
    command = [sys.executable, "-c", "from service.cli import main; main()", "scheduler"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_another_scheduler_takes_over_when_the_leader_dies(app: Flask, db: Any, office: Any) -> None:
    from service.parties.models import Organisation, User

    ids = (office[0].id, office[1].id)
    first = scheduler_process(app)
    start_case(office, "P10D")

    def scheduled() -> bool:
        db.session.remove()
        return db.session.scalar(select(func.count()).select_from(ProcessTimer)) > 0 and bool(
            db.session.execute(text("SELECT count(*) FROM scheduler_jobs")).scalar())
    second = scheduler_process(app)
    try:
        assert wait_for(scheduled)  # the first one leads (it started alone)
        first.kill()  # kill -9: its connection drops and PostgreSQL releases the advisory lock
        first.wait(timeout=10)
        office = (db.session.get(Organisation, ids[0]), db.session.get(User, ids[1]))
        instance_id = start_case(office, "PT2S")  # committed here; only a live scheduler can fire it
        assert wait_for(lambda: escalated(db, instance_id), 30)
    finally:
        stop(first, second)


def test_two_scheduler_processes_fire_each_timer_once(app: Flask, db: Any, office: Any, backend: str) -> None:
    """On PostgreSQL the two compete for leadership; on SQLite both run, and the instance lock keeps
    firing exactly-once anyway."""
    count = 200
    instances = [start_case(office, "PT1S") for _ in range(count)]
    time.sleep(1.2)
    processes = [scheduler_process(app) for _ in range(2)]
    try:
        def all_fired() -> bool:
            db.session.remove()
            return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "timer.fired")) >= count
        assert wait_for(all_fired, 120)
        time.sleep(2)  # let a would-be duplicate happen
    finally:
        stop(*processes)
    db.session.remove()
    fired = db.session.scalars(select(AuditEvent.instance_id).where(AuditEvent.action == "timer.fired")).all()
    assert sorted(fired) == sorted(instances)
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.bpmn_id == "escalated_answer", HumanTask.status == TaskStatus.READY)) == count


def test_admin_sees_timers_with_their_jobs_others_are_refused(client: Any, db: Any, office: Any, scheduler: Any,
                                                              make_user: Any) -> None:
    from tests.conftest import login

    organisation, officer = office
    scheduler()
    start_case(office, "P10D")
    make_user([(organisation, Role.ADMIN)], username="admin")
    login(client, officer.username)
    assert client.get("/admin/schemalaggning").status_code == 403
    client.get("/")
    login(client, "admin")
    page = client.get("/admin/schemalaggning").get_data(as_text=True)
    assert page.count("<code>deadline</code>") == 1 and page.count("<code>reminder</code>") == 1
    assert "inget jobb" not in page


def test_a_failed_firing_is_retried(app: Flask, db: Any, office: Any, scheduler: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from service.processes import operations

    monkeypatch.setitem(app.config, "SCHEDULER_RETRY_SECONDS", 1)
    original, failures = operations.fire_timer, []

    def flaky(timer_id: int) -> bool:
        if not failures:
            failures.append(timer_id)
            raise RuntimeError("the database went away for a moment")
        return original(timer_id)

    monkeypatch.setattr(operations, "fire_timer", flaky)
    scheduler()
    instance_id = start_case(office, "PT1S")
    assert wait_for(lambda: escalated(db, instance_id))
    assert len(failures) == 1
