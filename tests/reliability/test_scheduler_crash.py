"""kill -9 of the scheduler while timers are due and firing; a new scheduler starts; every due timer fires
exactly once and nothing is half-written. (Leader take-over with two live candidates: tests/scheduler.)"""

from __future__ import annotations

import os
import signal
from typing import IO, Any

from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.parties.models import Role
from service.processes.models import HumanTask, TaskStatus
from service.processes.operations import start_process
from service.transactions import commit_with_retry
from tests.processes.test_timers import deploy_fixture
from tests.reliability import harness
from tests.reliability.conftest import tail

CASES = 120


def fired(db: Any) -> int:
    db.session.remove()
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "timer.fired")) or 0)


def test_kill_9_of_the_scheduler_while_timers_fire(postgres: str, db: Any, make_organisation: Any, make_user: Any,
                                                    process_log: IO[bytes]) -> None:
    deploy_fixture("timer_escalation")
    organisation = make_organisation(name="Alingsås kommun")
    officer = make_user([(organisation, Role.CASE_OFFICER)])
    for n in range(CASES):  # deadlines spread over 2-8 s from now, so the kill lands while they fire
        data = {"organisation_id": organisation.id, "reminders": 0, "answer_within": f"PT{2 + 6 * n / CASES:.2f}S"}
        commit_with_retry(lambda data=data: start_process("timer_escalation", by=officer, title="Svar", data=data))
    first = harness.start_scheduler(postgres, process_log)
    second = None
    try:
        assert harness.wait_until(lambda: fired(db) >= CASES // 5, 60), tail(process_log)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = fired(db)
        second = harness.start_scheduler(postgres, process_log)
        assert harness.wait_until(lambda: fired(db) >= CASES, 90), tail(process_log)
    finally:
        harness.stop(*[p for p in (first, second) if p is not None])
    assert at_kill < CASES, "every timer had fired before the kill: the test proved nothing"
    assert fired(db) == CASES
    assert harness.timer_problems() == []
    assert harness.state_problems() == []
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.bpmn_id == "escalated_answer", HumanTask.status == TaskStatus.READY)) == CASES
    code, output = harness.audit_verify(postgres)
    assert code == 0, output
