"""Task completions per second with 2 app processes (gunicorn workers, deploy/gunicorn.conf.py) on PostgreSQL.

Each client owns its own open peer cases (no two clients race for a task) and completes their tasks through the
API: POST /api/v1/tasks/<id>/complete, then GET /api/v1/instances/<id> for the next task. A scheduler process
runs alongside, as deployed. Afterwards the same checks as the load test (nothing lost or duplicated).

    .venv/bin/python bench/throughput.py [--workers 2] [--clients 1 4 8] [--cases 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root, for tests.reliability

from common import fresh_app  # bench/common.py
from peer_http import FORM_DATA, Client  # bench/peer_http.py
from sqlalchemy import select

from service.api.tokens import create_token
from service.extensions import db
from service.parties.models import User
from service.processes.models import HumanTask, TaskStatus
from tests.reliability import harness


def open_tasks(instance_ids: list[int]) -> list[int]:
    rows = db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id.in_(instance_ids),
                                                        HumanTask.status == TaskStatus.READY)).all()
    db.session.remove()
    return list(rows)


def work(port: int, secret: str, tasks: list[int], done: list[int]) -> None:
    client = Client(port, secret)
    for task_id in tasks:
        next_task: Any = {"id": task_id, "bpmn_id": "draft"}
        while next_task is not None:
            _, completed = client.call("POST", f"/api/v1/tasks/{next_task['id']}/complete",
                                       {"data": FORM_DATA[next_task["bpmn_id"]]})
            done.append(next_task["id"])
            next_task = next(iter(completed["next_tasks"]), None)


def run(port: int, secrets: list[str], tasks: list[int], clients: int) -> tuple[float, list[int]]:
    done: list[int] = []
    shares = [tasks[n::clients] for n in range(clients)]
    threads = [threading.Thread(target=work, args=(port, secrets[n % len(secrets)], shares[n], done)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / (time.perf_counter() - began), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_throughput")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--cases", type=int, default=60, help="peer cases per client count (3 completions each)")
    args = parser.parse_args()
    print(f"throughput: gunicorn {args.workers} workers + scheduler, PostgreSQL, API completions; "
          f"{time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    app = fresh_app(args.database_url)
    with app.app_context(), tempfile.TemporaryDirectory() as metrics, tempfile.TemporaryFile() as log:
        world = harness.build_world(users=max(args.clients), organisations=1, cases_per_organisation=0)
        users = db.session.scalars(select(User).where(User.username.like("last%"))).all()
        secrets = [create_token(u, "bench", {"read", "write"}, 1).secret for u in users]
        officer_id, organisation_id = users[0].id, world.organisation_ids[0]
        db.session.commit()
        scheduler, gunicorn, base = harness.start_service(args.database_url, args.workers, log, Path(metrics))
        port = int(base.rsplit(":", 1)[1])
        try:
            all_done: list[int] = []
            for clients in args.clients:
                instance_ids = harness.start_cases(db.session.get_one(User, officer_id), organisation_id, args.cases)
                rate, done = run(port, secrets, open_tasks(instance_ids), clients)
                all_done += done
                print(f"{clients} client(s): {len(done)} completions, {rate:.1f} completions/s", flush=True)
        finally:
            harness.stop(gunicorn, scheduler)
        problems = harness.completion_problems(all_done) + harness.state_problems()
        print(f"checks: {len(problems)} problems" + "".join(f"\n  {p}" for p in problems[:10]))
        db.engine.dispose()


if __name__ == "__main__":
    main()
