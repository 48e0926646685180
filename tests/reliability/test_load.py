"""Reduced load test: a few simulated users against 2 gunicorn workers and a scheduler on PostgreSQL for
about 30 s, then nothing lost, duplicated or half-written. Full form: bench/load.py (50 users, 5 minutes)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import IO, Any

from tests.reliability import harness
from tests.reliability.conftest import tail

SECONDS = float(os.environ.get("SAMVERKAN_LOAD_SECONDS", "30"))


def run_load(postgres: str, process_log: IO[bytes], metrics_dir: Path, *, kill_worker_after: float | None) -> Any:
    world = harness.build_world(users=6, organisations=3, cases_per_organisation=25)
    scheduler, gunicorn, base = harness.start_service(postgres, 2, process_log, metrics_dir)
    killed: list[tuple[int, float]] = []
    try:
        assert harness.wait_until(lambda: harness.status(base, "/readyz") == 200, 60), tail(process_log)
        load = harness.Load(base, world, SECONDS)
        if kill_worker_after is not None:
            threading.Timer(kill_worker_after, lambda: killed.append(kill_a_worker(gunicorn.pid))).start()
        outcomes = load.run()
        # gunicorn replaced the killed worker: the service answers again.
        assert harness.wait_until(lambda: harness.status(base, "/healthz") == 200, 30)
        metrics = harness.scrape_metrics(base)
    finally:
        harness.stop(gunicorn, scheduler)
    return outcomes, killed, metrics


def kill_a_worker(master: int) -> tuple[int, float]:
    worker = harness.children(master)[0]
    os.kill(worker, signal.SIGKILL)
    return worker, time.monotonic()


def assert_nothing_lost(postgres: str, outcomes: list[harness.Outcome], process_log: IO[bytes]) -> None:
    print(harness.summary(outcomes))
    server_errors = [o for o in outcomes if o.status >= 500]
    assert not server_errors, f"{len(server_errors)} 5xx answers\n{tail(process_log)}"
    succeeded = harness.completed(outcomes)
    assert succeeded, "no task was completed: the load did nothing"
    assert harness.completion_problems(succeeded) == []
    assert harness.state_problems() == []
    code, output = harness.audit_verify(postgres)
    assert code == 0, output


def test_load_loses_and_duplicates_nothing(postgres: str, process_log: IO[bytes], metrics_dir: Path) -> None:
    outcomes, _, metrics = run_load(postgres, process_log, metrics_dir, kill_worker_after=None)
    assert_nothing_lost(postgres, outcomes, process_log)
    assert not [o for o in outcomes if o.status == 0], "connection failures without a crash"
    assert any(o.action == "report deviation" and o.status == 302 for o in outcomes)
    assert "samverkan_task_completions_total" in metrics  # summed over both workers (multi-process mode)


def test_kill_9_of_an_app_worker_mid_load_loses_nothing(postgres: str, process_log: IO[bytes], metrics_dir: Path) -> None:
    outcomes, killed, _ = run_load(postgres, process_log, metrics_dir, kill_worker_after=SECONDS / 2)
    assert killed, "no worker was killed"
    assert_nothing_lost(postgres, outcomes, process_log)
    [(_, killed_at)] = killed
    # Answers after the kill (the tasks may all be done by then, so not necessarily completions).
    assert [o for o in outcomes if o.status in (200, 302) and o.at > killed_at + 1], "gunicorn did not carry on"
