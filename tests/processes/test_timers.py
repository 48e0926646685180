"""Every timer kind our diagrams use, driven by the controllable clock: rows, firing, idempotency,
cancellation and escalation (tests/fixtures/bpmn/timer_escalation.bpmn, timer_start.bpmn)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from service import clock
from service.audit.models import AuditEvent
from service.parties.models import Organisation, Role, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, ProcessInstance, ProcessTimer, TaskStatus, TimerStatus
from service.processes.operations import complete_task, fire_timer, start_process
from service.transactions import commit_with_retry
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
MIDSOMMAR_WEEK = datetime(2026, 6, 17, 9, 0, tzinfo=UTC)  # a Wednesday; Friday is midsommarafton


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(MIDSOMMAR_WEEK)
    yield
    clock.reset()


def deploy_fixture(name: str) -> None:
    xml = (FIXTURES / "bpmn" / f"{name}.bpmn").read_bytes()
    commit_with_retry(lambda: deploy_definition(xml, f"{name}.bpmn", FIXTURES / "forms", by=None))


@pytest.fixture
def office(db: Any, make_organisation: Any, make_user: Any) -> tuple[Organisation, User, User]:
    deploy_fixture("timer_escalation")
    deploy_fixture("timer_start")
    organisation = make_organisation(name="Lerums kommun")
    return organisation, make_user([(organisation, Role.CASE_OFFICER)]), make_user([(organisation, Role.MANAGER)])


def start(office: tuple[Organisation, User, User], **data: Any) -> ProcessInstance:
    organisation, officer, _ = office
    values = {"organisation_id": organisation.id, "reminders": 0, "answer_within": "P2D", **data}
    return commit_with_retry(lambda: start_process("timer_escalation", by=officer, title="Svar", data=values))


def timers(db: Any, instance_id: int, status: str | None = None) -> list[ProcessTimer]:
    query = select(ProcessTimer).where(ProcessTimer.instance_id == instance_id).order_by(ProcessTimer.id)
    rows = db.session.scalars(query).all()
    return [row for row in rows if status is None or row.status == status]


def fire(db: Any, timer_id: int) -> bool:
    fired = commit_with_retry(lambda: fire_timer(timer_id))
    db.session.expire_all()
    return fired


def audit_count(db: Any, action: str) -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)))


def ready(db: Any, instance_id: int) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)))


def test_waiting_timers_are_stored_with_the_state(db: Any, office: Any, frozen: None) -> None:
    instance = start(office)
    rows = timers(db, instance.id, TimerStatus.WAITING)
    assert {r.bpmn_id: (r.kind, r.due_at) for r in rows} == {
        "reminder": ("cycle", MIDSOMMAR_WEEK + timedelta(hours=1)),
        "deadline": ("duration", MIDSOMMAR_WEEK + timedelta(days=2)),
    }


def test_cycle_reminder_fires_each_occurrence_once(db: Any, office: Any, frozen: None) -> None:
    instance = start(office)
    reminder = next(r for r in timers(db, instance.id) if r.bpmn_id == "reminder")
    assert not fire(db, reminder.id)  # not due yet: an early job changes nothing
    clock.advance(timedelta(hours=1, seconds=1))
    assert fire(db, reminder.id)
    assert not fire(db, reminder.id)  # a duplicate job changes nothing
    assert audit_count(db, "timer.fired") == 1
    assert db.session.get(ProcessTimer, reminder.id).status == TimerStatus.FIRED
    waiting = {r.bpmn_id: r.due_at for r in timers(db, instance.id, TimerStatus.WAITING)}
    assert waiting["reminder"] == MIDSOMMAR_WEEK + timedelta(hours=2)  # the next occurrence
    assert [t.bpmn_id for t in ready(db, instance.id)] == ["answer"]  # non-interrupting
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fired")).one()
    assert (event.data["timer"], event.data["due_at"]) == ("reminder", (MIDSOMMAR_WEEK + timedelta(hours=1)).isoformat())
    run = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "instance.timers_run")).one()
    assert "count_reminder" in run.data["steps"]


def test_deadline_escalates_to_the_manager(db: Any, office: Any, frozen: None) -> None:
    organisation, _, manager = office
    instance = start(office)
    deadline = next(r for r in timers(db, instance.id) if r.bpmn_id == "deadline")
    clock.advance(timedelta(days=2, seconds=1))
    assert fire(db, deadline.id)
    [task] = ready(db, instance.id)
    assert (task.bpmn_id, task.role, task.organisation_id) == ("escalated_answer", Role.MANAGER, organisation.id)
    # Fired Friday 19 June (midsommarafton) 09:00: 3 working days = Mon 22, Tue 23, Wed 24 June.
    assert task.due_at == datetime(2026, 6, 24, 21, 59, 59, tzinfo=UTC)
    assert audit_count(db, "task.escalated") == 1
    assert timers(db, instance.id, TimerStatus.WAITING) == []
    statuses = {r.bpmn_id: r.status for r in timers(db, instance.id) if r.id == deadline.id}
    assert statuses == {"deadline": TimerStatus.FIRED}
    commit_with_retry(lambda: complete_task(task.id, {"note": "Besvarat av chefen."}, by=manager))
    assert db.session.get(ProcessInstance, instance.id).status == "completed"


def test_completing_the_task_cancels_its_timers_and_waits_working_days(db: Any, office: Any, frozen: None) -> None:
    _, officer, _ = office
    instance = start(office)
    [task] = ready(db, instance.id)
    commit_with_retry(lambda: complete_task(task.id, {"note": "Besvarat i tid."}, by=officer))
    db.session.expire_all()
    ended = {r.bpmn_id: r.status for r in timers(db, instance.id) if r.bpmn_id in ("reminder", "deadline")}
    assert ended == {"reminder": TimerStatus.CANCELLED, "deadline": TimerStatus.CANCELLED}
    [wait] = timers(db, instance.id, TimerStatus.WAITING)
    # Wednesday 17 June + 2 working days: Thursday, then Monday 22 June (midsommarafton and the
    # weekend are not working days), end of that day in Stockholm (CEST, UTC+2).
    assert (wait.bpmn_id, wait.due_at) == ("wait_working_days", datetime(2026, 6, 22, 21, 59, 59, tzinfo=UTC))
    clock.freeze(datetime(2026, 6, 22, 21, 0, tzinfo=UTC))
    assert not fire(db, wait.id)
    clock.freeze(datetime(2026, 6, 22, 22, 0, tzinfo=UTC))
    assert fire(db, wait.id)
    assert db.session.get(ProcessInstance, instance.id).status == "completed"


def test_timer_start_event_waits_for_its_date(db: Any, office: Any, frozen: None) -> None:
    organisation, officer, _ = office
    instance = commit_with_retry(lambda: start_process("timer_start", by=officer, title="Uppföljning", data={
        "organisation_id": organisation.id, "start_date": "2026-07-01T08:00:00+02:00", "follow_up_days": 10}))
    assert ready(db, instance.id) == []
    [row] = timers(db, instance.id, TimerStatus.WAITING)
    assert (row.kind, row.due_at) == ("date", datetime(2026, 7, 1, 6, 0, tzinfo=UTC))
    clock.freeze(datetime(2026, 7, 1, 6, 0, 1, tzinfo=UTC))
    assert fire(db, row.id)
    [task] = ready(db, instance.id)
    # The number of working days comes from the case's data; 1 July + 10 working days = 15 July.
    assert (task.bpmn_id, task.due_at) == ("follow_up", datetime(2026, 7, 15, 21, 59, 59, tzinfo=UTC))


def test_unknown_timer_changes_nothing(db: Any, office: Any, frozen: None) -> None:
    assert not fire(db, 987654)
    assert audit_count(db, "timer.fired") == 0


def test_offered_and_escalated_tasks_notify_their_group(db: Any, office: Any, frozen: None,
                                                        make_organisation: Any, make_user: Any) -> None:
    from service.notifications.models import Notification

    _, officer, manager = office
    other_place = make_organisation(name="Annan kommun")
    stranger = make_user([(other_place, Role.MANAGER)])
    instance = start(office)
    deadline = next(r for r in timers(db, instance.id) if r.bpmn_id == "deadline")
    clock.advance(timedelta(days=2, seconds=1))
    fire(db, deadline.id)
    sent = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert sent == {(officer.id, "task_offered"), (manager.id, "escalated")}
    assert not any(user_id == stranger.id for user_id, _ in sent)


def test_deadline_reminder_is_sent_once(db: Any, office: Any, frozen: None) -> None:
    from service.notifications.models import Notification
    from service.processes.operations import remind_due_soon

    _, _, manager = office
    instance = start(office)
    clock.advance(timedelta(days=2, seconds=1))
    fire(db, next(r for r in timers(db, instance.id) if r.bpmn_id == "deadline").id)  # escalated task, due in 3 working days
    assert commit_with_retry(lambda: remind_due_soon(timedelta(hours=48))) == 0
    clock.advance(timedelta(days=4))
    assert commit_with_retry(lambda: remind_due_soon(timedelta(hours=48))) == 1
    assert commit_with_retry(lambda: remind_due_soon(timedelta(hours=48))) == 0
    kinds = [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == manager.id))]
    assert sorted(kinds) == ["deadline_soon", "escalated"]
