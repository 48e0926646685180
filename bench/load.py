"""Load test, full form: simulated users against gunicorn (2 workers by default) and a scheduler on PostgreSQL,
reading the inbox, completing tasks and reporting deviations; then the checks: zero 5xx, every 302 completion
has exactly one task.completed event and every completed task row one event, every instance loads and its task
list equals the engine's READY tasks, and ``samverkan audit verify`` passes. Loopback only.

    .venv/bin/python bench/load.py [--users 50] [--minutes 5] [--workers 2] [--kill-worker-at SECONDS]

The reduced form runs in the test suite: tests/reliability/test_load.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root, for tests.reliability

from common import fresh_app  # bench/common.py

from service.extensions import db
from tests.reliability import harness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_load")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--organisations", type=int, default=10)
    parser.add_argument("--cases", type=int, default=120, help="open peer cases per organisation at the start")
    parser.add_argument("--kill-worker-at", type=float, help="kill -9 one gunicorn worker after this many seconds")
    args = parser.parse_args()
    print(f"load: {args.users} users, {args.minutes:g} min, {args.workers} gunicorn workers + 1 scheduler, PostgreSQL; "
          f"{time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    app = fresh_app(args.database_url)
    with app.app_context(), tempfile.TemporaryDirectory() as metrics, tempfile.TemporaryFile() as log:
        began = time.perf_counter()
        world = harness.build_world(args.users, args.organisations, args.cases)
        print(f"set-up: {args.organisations * args.cases} cases in {time.perf_counter() - began:.0f} s", flush=True)
        scheduler, gunicorn, base = harness.start_service(args.database_url, args.workers, log, Path(metrics))
        try:
            if not harness.wait_until(lambda: harness.status(base, "/readyz") == 200, 60):
                raise SystemExit("the service never became ready")
            if args.kill_worker_at is not None:
                threading.Timer(args.kill_worker_at, lambda: os.kill(harness.children(gunicorn.pid)[0], signal.SIGKILL)).start()
            outcomes = harness.Load(base, world, args.minutes * 60).run()
        finally:
            harness.stop(gunicorn, scheduler)
        report(outcomes, args)
        db.engine.dispose()


def report(outcomes: list[harness.Outcome], args: argparse.Namespace) -> None:
    seconds = args.minutes * 60
    print(harness.summary(outcomes))
    succeeded = harness.completed(outcomes)
    errors = [o for o in outcomes if o.status >= 500]
    print(f"requests: {len(outcomes)} ({len(outcomes) / seconds:.1f}/s); completions: {len(succeeded)} "
          f"({len(succeeded) / seconds:.1f}/s); 5xx: {len(errors)}; connection failures: {sum(o.status == 0 for o in outcomes)}")
    problems = harness.completion_problems(succeeded) + harness.state_problems()
    code, output = harness.audit_verify(args.database_url)
    print(f"lost or duplicated completions, half-written instances: {len(problems)}")
    for problem in problems[:20]:
        print(f"  {problem}")
    print(f"samverkan audit verify (exit {code}): {output}")
    print("RESULT: " + ("PASS" if not errors and not problems and code == 0 and succeeded else "FAIL"))


if __name__ == "__main__":
    main()
