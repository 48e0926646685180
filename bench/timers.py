"""Time how late BPMN timers fire on PostgreSQL with 10 000 waiting timers, 1 000 of them due within a minute.

1. fresh bench database through the migrations, demo parties, tests/fixtures/bpmn/timer_escalation.bpmn;
2. instances by ``start_process``, 2 waiting timers each (reminder +1 h, deadline ``answer_within``): ``--due``
   deadlines evenly in a window from ~20 s after creation ends, the rest in 30 days; 3. only then the scheduler
   (subprocess or in-process): time until every timer has its job; 4. lateness = ``fired_at - due_at``.

    .venv/bin/python bench/timers.py [--pending 10000] [--due 1000] [--spread-seconds 60] [--mode process|in-process]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from common import BENCH_SECRET_KEY, fresh_app  # bench/common.py (the script's own folder is on sys.path)
from flask import Flask
from sqlalchemy import distinct, func, select

from service.audit.models import AuditEvent
from service.columns import now
from service.extensions import db
from service.parties.models import Organisation, User
from service.processes.definitions import deploy_definition
from service.processes.models import ProcessTimer, TimerStatus
from service.processes.operations import start_process
from service.scheduler.models import scheduler_jobs
from service.scheduler.setup import TimerScheduler
from service.transactions import commit_with_retry

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
BPMN = FIXTURES / "bpmn" / "timer_escalation.bpmn"
OFFICER, ORGANISATION = "anna", "Göteborgs Stad"  # a demo case officer (lane "Handläggare") and her organisation
LEAD_S, RATE_MARGIN, GUESS_S = 20.0, 1.25, 0.05  # window lead; safety factor on the measured creation rate
SPIFFARENA_LATE_S = 60.0  # our brief: in SpiffArena a 5-second timer fires about 60 s late
FIRED_DEADLINES = (ProcessTimer.status == TimerStatus.FIRED, ProcessTimer.bpmn_id == "deadline")


@dataclass(frozen=True)
class Office:  # where the instances are started and by whom
    organisation_id: int
    officer_id: int


def set_up_service(url: str) -> tuple[Flask, Office]:
    """Create the database if missing; schema through the migrations, demo parties, the fixture deployed."""
    app = fresh_app(url)
    with app.app_context():
        deploy_definition(BPMN.read_bytes(), BPMN.name, FIXTURES / "forms", by=None)
        db.session.commit()
        return app, Office(db.session.scalars(select(Organisation.id).where(Organisation.name == ORGANISATION)).one(),
                           db.session.scalars(select(User.id).where(User.username == OFFICER)).one())


def start_case(office: Office, number: int, answer_within: str) -> None:
    data = {"organisation_id": office.organisation_id, "reminders": 0, "answer_within": answer_within}
    try:
        commit_with_retry(lambda: start_process("timer_escalation", by=db.session.get_one(User, office.officer_id),
                                                title=f"Svar {number}", data=data))
    finally:
        db.session.remove()


def duration_until(moment: datetime) -> str:
    """An ISO duration from now to ``moment`` in whole ms (SpiffWorkflow accepts "PT12.345S"); at least 1 ms."""
    ms = max(1, round((moment - now()).total_seconds() * 1000))
    return f"PT{ms // 1000}.{ms % 1000:03d}S"


def create_instances(office: Office, instances: int, due: int, spread_s: float) -> datetime:
    """Far instances first (their rate places the window), then the due ones; returns the window start."""
    began, far, behind, window_start = time.perf_counter(), instances - due, 0, now()
    for number in range(instances):
        if number == far:
            per_instance = (time.perf_counter() - began) / far if far else GUESS_S
            window_start = now() + timedelta(seconds=due * per_instance * RATE_MARGIN + LEAD_S)
        planned = window_start + timedelta(seconds=spread_s * (number - far) / due)
        behind += number >= far and planned <= now()
        start_case(office, number, "P30D" if number < far else duration_until(planned))
        if (number + 1) % 500 == 0 or number + 1 == instances:
            spent = time.perf_counter() - began
            print(f"  created {number + 1:>5}/{instances} instances, {spent:6.1f} s ({(number + 1) / spent:5.1f}/s)",
                  flush=True)
    print(f"{count(ProcessTimer, ProcessTimer.status == 'waiting')} waiting timers in process_timers; the window "
          f"starts {(window_start - now()).total_seconds():.1f} s after creation ended"
          + (f"; {behind} planned due moments had already passed!" if behind else ""), flush=True)
    return window_start


def count(table: Any, *where: Any, of: Any = None) -> int:
    """Rows (or distinct ``of`` values) in a fresh session, so it sees other processes' commits."""
    value = db.session.scalar(select(func.count(of) if of is not None else func.count()).select_from(table).where(*where))
    db.session.remove()
    return value or 0


def count_fired() -> int:
    return count(ProcessTimer, *FIRED_DEADLINES)


def poll(condition: Callable[[], bool], seconds: float, every: float, alive: Callable[[], None]) -> bool:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        alive()
        if condition():
            return True
        time.sleep(every)
    return condition()


@contextmanager
def running_scheduler(args: argparse.Namespace, app: Flask, log: IO[bytes]) -> Iterator[Callable[[], None]]:
    """The scheduler, stopped on leaving; yields a check that raises if the subprocess died."""
    if args.mode == "in-process":
        scheduler = TimerScheduler(app)
        scheduler.start()
        try:
            yield lambda: None
        finally:
            scheduler.shutdown()
        return
    env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": BENCH_SECRET_KEY,
           "SAMVERKAN_SCHEDULER_LEADER_POLL_SECONDS": "1"}
    command = [sys.executable, "-c", "from service.cli import main; main()", "scheduler"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def alive() -> None:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the scheduler exited with {process.returncode}:\n{log.read().decode()[-3000:]}")
    try:
        yield alive
    finally:
        process.terminate()
        process.wait(timeout=30)


def time_resync(pending: int, began: float, alive: Callable[[], None]) -> tuple[str, datetime]:
    """Until every waiting timer got its job: the jobs in scheduler_jobs (only timer jobs: the periodic ones
    live in memory) plus 2 per fired deadline (its own job ran, its reminder's was removed). Approximate while
    timers fire: a reminder job added after its deadline fired lives up to the 2 s sync interval."""
    poll(lambda: count(scheduler_jobs) + 2 * count_fired() >= pending, 600, 0.1, alive)
    jobs, fired, spent = count(scheduler_jobs), count_fired(), time.monotonic() - began
    state = "all " if jobs + 2 * fired >= pending else f"TIMEOUT, only {jobs + 2 * fired}/"
    return (f"start-up re-sync: {state}{pending} jobs created after {spent:.2f} s (process start and election "
            f"included; {fired} deadlines had fired by then)", now())


def measure(args: argparse.Namespace, app: Flask, window_start: datetime, log: IO[bytes]) -> tuple[list[Any], datetime]:
    """Start the scheduler, wait for every due deadline to fire; (due_at, lateness ms) rows, the re-sync's end."""
    began = time.monotonic()
    with running_scheduler(args, app, log) as alive:
        line, synced_at = time_resync(args.pending, began, alive)
        print(line, flush=True)
        window_end = window_start + timedelta(seconds=args.spread_seconds)
        if not poll(lambda: count_fired() >= args.due, (window_end - now()).total_seconds() + 120, 1.0, alive):
            print(f"TIMEOUT: {count_fired()}/{args.due} due timers fired by window end + 120 s")
        time.sleep(2)  # give a would-be duplicate the chance to happen
    rows = db.session.execute(select(ProcessTimer.due_at, ProcessTimer.fired_at).where(*FIRED_DEADLINES)).all()
    db.session.remove()
    return [(due, (fired - due).total_seconds() * 1000) for due, fired in rows if fired is not None], synced_at


def stats(ms: list[float]) -> str:
    ms = sorted(ms)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return f"median {statistics.median(ms):.1f}, p95 {cuts[94]:.1f}, p99 {cuts[98]:.1f}, max {ms[-1]:.1f}" if ms else "-"


def report(rows: list[Any], synced_at: datetime, args: argparse.Namespace) -> None:
    late = sorted(ms for _, ms in rows)
    if not late:
        raise SystemExit(f"none of the {args.due} due timers fired")
    print(f"fired {len(late)}/{args.due} due timers; lateness (fired_at - due_at) ms: {stats(late)}, min {late[0]:.1f}; "
          f"fired early: {sum(ms < 0 for ms in late)}")
    after = [ms for due, ms in rows if due >= synced_at]
    during = [ms for due, ms in rows if due < synced_at]
    print(f"  due after the re-sync ended ({len(after)}): {stats(after)}\n  due before it ended ({len(during)}): {stats(during)}")
    fired = AuditEvent.action == "timer.fired"
    events, instances = count(AuditEvent, fired), count(AuditEvent, fired, of=distinct(AuditEvent.instance_id))
    others = count(ProcessTimer, ProcessTimer.status == TimerStatus.FIRED, ProcessTimer.bpmn_id != "deadline")
    print(f"exactly once: {events} timer.fired audit events on {instances} instances for {args.due} due timers, "
          f"{others} other timers fired: {'OK' if events == instances == args.due and others == 0 else 'MISMATCH'}")
    print(f"SpiffArena reference (our brief): a 5-second timer fires about {SPIFFARENA_LATE_S:.0f} s late; Samverkan with "
          f"{args.pending} pending timers: {stats(late)} ms late" + (f" ({stats(after)} ms once re-synced)" if during else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_timers")
    parser.add_argument("--pending", type=int, default=10000, help="waiting timers in total (2 per instance)")
    parser.add_argument("--due", type=int, default=1000, help="how many deadlines come due during the measurement")
    parser.add_argument("--spread-seconds", type=float, default=60.0)
    parser.add_argument("--mode", choices=("in-process", "process"), default="process")
    args = parser.parse_args()
    if args.pending % 2 or not 0 < args.due <= args.pending // 2:
        parser.error("--pending must be even (2 timers per instance) and 0 < --due <= --pending / 2")
    print(f"timer_escalation.bpmn: {args.pending} waiting timers, {args.due} due across {args.spread_seconds:g} s, "
          f"scheduler mode {args.mode}; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    app, office = set_up_service(args.database_url)
    with app.app_context(), tempfile.TemporaryFile() as log:
        window_start = create_instances(office, args.pending // 2, args.due, args.spread_seconds)
        report(*measure(args, app, window_start, log), args)
        db.engine.dispose()


if __name__ == "__main__":
    main()
