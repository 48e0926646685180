"""THE PEER SCENARIO over HTTP: Draft -> Approve -> Sign (bench/peer/peer.bpmn, one-field JSON Schema forms),
started and completed through the running service: ``samverkan run`` (waitress, one process) on SQLite, real HTTP
over loopback, through the REST API (POST /api/v1/instances, POST /api/v1/tasks/<id>/complete, Bearer token).

Measures start and submit latency (median, p95) as the client sees it, instances/s with 1 and 4 concurrent
clients (an instance: start, 3 x complete; each completion answers with the tasks the caller can do next), and submit time as one
instance's history grows (bench/peer/peer_loop.bpmn: the 500th submit vs the 5th). Targets (issue #10):
<= 4 ms median per start and per submit, >= 50 instances/s with 4 clients, 500th within 1.2x of the 5th.
The peer (SpiffArena's backend): 44 ms start, 40 ms per submit, 4.6 instances/s.

    .venv/bin/python bench/peer_http.py [--instances 200] [--loop 500]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask_migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root, for tests.reliability

from service.api.tokens import create_token
from service.app import create_app
from service.extensions import db
from service.parties.models import AuthorisedBody, Membership, Organisation, OrganisationKind, Role, User
from service.processes.definitions import deploy_definition
from tests.reliability.harness import TEST_SECRET_KEY, free_port, stop, wait_until

PEER = Path(__file__).resolve().parent / "peer"
FORM_DATA = {"draft": {"text": "Utkast"}, "approve": {"approved": True}, "sign": {"signed_by": "Anna"}}
SPIFFARENA = {"start": 44.0, "submit": 40.0, "instances/s": 4.6}


def set_up(url: str) -> tuple[str, int]:
    """Schema through the migrations, one organisation with a case officer, the peer diagrams; a write token."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": TEST_SECRET_KEY})
    with app.app_context():
        upgrade()
        organisation = Organisation(name="Peerkommun", kind=OrganisationKind.KOMMUN, bodies=[AuthorisedBody(name="KS")])
        db.session.add(organisation)
        db.session.flush()
        user = User(username="peer", display_name="Peer Person")
        user.set_password("x")
        user.memberships = [Membership(organisation_id=organisation.id, role=Role.CASE_OFFICER)]
        db.session.add(user)
        for name in ("peer.bpmn", "peer_loop.bpmn"):
            deploy_definition((PEER / name).read_bytes(), name, PEER, by=None)
        secret = create_token(user, "bench", {"read", "write"}, 30).secret
        db.session.commit()
        organisation_id = organisation.id
        db.engine.dispose()
    return secret, organisation_id


class Client:
    def __init__(self, port: int, secret: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[float, Any]:
        began = time.perf_counter()
        self.connection.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - began) * 1000
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:500]!r}")
        return elapsed, json.loads(payload) if payload else None

    def start(self, process_id: str, organisation_id: int) -> tuple[float, dict[str, Any]]:
        return self.call("POST", "/api/v1/instances", {"process_id": process_id, "title": "Peer",
                                                      "data": {"organisation_id": organisation_id}})


def run_instances(port: int, secret: str, organisation_id: int, count: int, ms: dict[str, list[float]]) -> None:
    client = Client(port, secret)
    for _ in range(count):
        elapsed, instance = client.start("peer", organisation_id)
        ms["start"].append(elapsed)
        task: dict[str, Any] | None = instance["open_tasks"][0]
        while task is not None:
            elapsed, done = client.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": FORM_DATA[task["bpmn_id"]]})
            ms["submit"].append(elapsed)
            task = next(iter(done["next_tasks"]), None)


def concurrent(port: int, secret: str, organisation_id: int, clients: int,
               per_client: int) -> tuple[float, dict[str, list[float]]]:
    ms: dict[str, list[float]] = {"start": [], "submit": []}
    threads = [threading.Thread(target=run_instances, args=(port, secret, organisation_id, per_client, ms))
               for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * per_client / (time.perf_counter() - began), ms


def history(port: int, secret: str, organisation_id: int, loops: int) -> tuple[list[float], list[float]]:
    """Submit times on one instance as its history grows to ``loops`` steps, and, interleaved with each, a
    submit on a fresh instance (restarted every 10 steps): the same moments with a short history, so a change
    of the machine's speed during the run (a shared VM's can double) shows in both and cancels out."""
    client = Client(port, secret)
    task = client.start("peer_loop", organisation_id)[1]["open_tasks"][0]
    times: list[float] = []
    control: list[float] = []
    fresh: dict[str, Any] | None = None
    for n in range(loops):
        elapsed, done = client.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": {"again": n < loops - 1}})
        times.append(elapsed)
        task = next(iter(done["next_tasks"]), None)
        if fresh is None or n % 10 == 0:
            fresh = client.start("peer_loop", organisation_id)[1]["open_tasks"][0]
        elapsed, done = client.call("POST", f"/api/v1/tasks/{fresh['id']}/complete", {"data": {"again": True}})
        control.append(elapsed)
        fresh = next(iter(done["next_tasks"]), None)
    return times, control


def engine_history(loops: int) -> str:
    """Why submits slow down with history: the engine alone (no HTTP, no database) on peer_loop.bpmn, timing
    load + complete + dump of the state around the 5th and the last submit, and the state's size."""
    from service.engine import runner, serializer, specs

    definition = specs.parse((PEER / "peer_loop.bpmn").read_bytes(), "peer_loop.bpmn")
    workflow, _ = runner.start(definition, {"organisation_id": 1})
    state, times, sizes = serializer.dump(workflow), [], []
    for n in range(loops):
        began = time.perf_counter()
        workflow = runner.load(definition, state)
        [ready] = runner.ready_tasks(workflow, definition)
        runner.complete(workflow, ready.task_id, {"again": n < loops - 1})
        state = serializer.dump(workflow)
        times.append((time.perf_counter() - began) * 1000)
        sizes.append(len(state))
    early, late = statistics.median(times[2:7]), statistics.median(times[-5:])
    return (f"engine only (load + complete + dump): around the 5th {early:.2f} ms, the {loops}th {late:.2f} ms "
            f"({late / early:.1f}x); state {sizes[4]:,} chars after 5 submits, {sizes[-1]:,} after {loops}")


def stats(values: list[float]) -> str:
    p95 = statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]
    return f"median {statistics.median(values):6.2f} ms, p95 {p95:6.2f} ms ({len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--instances", type=int, default=200, help="instances per client count")
    parser.add_argument("--loop", type=int, default=500)
    parser.add_argument("--profile", action="store_true",
                        help="instead: profile 50 instances in-process (Flask test client, same SQLite) with pyinstrument")
    args = parser.parse_args()
    print(f"peer scenario over HTTP, samverkan run (waitress, 1 process), SQLite; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    with tempfile.TemporaryDirectory() as directory, tempfile.TemporaryFile() as log:
        url = f"sqlite:///{directory}/peer.sqlite3"
        secret, organisation_id = set_up(url)
        if args.profile:
            profile(url, secret, organisation_id)
            return
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET_KEY}
        server = subprocess.Popen([sys.executable, "-c", "from service.cli import main; main()", "run", "--port", str(port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if not wait_until(lambda: _up(port), 60):
                log.seek(0)
                raise SystemExit(log.read().decode()[-3000:])
            concurrent(port, secret, organisation_id, 1, 20)  # warm-up
            report(args, port, secret, organisation_id)
        finally:
            stop(server)


def profile(url: str, secret: str, organisation_id: int) -> None:
    """Where a start and a submit spend their time inside the service (no HTTP server, same code path)."""
    from pyinstrument import Profiler

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": TEST_SECRET_KEY, "SCHEDULER": "off"})
    client, headers = app.test_client(), {"Authorization": f"Bearer {secret}"}

    def instance() -> None:
        body = {"process_id": "peer", "title": "Peer", "data": {"organisation_id": organisation_id}}
        created = client.post("/api/v1/instances", json=body, headers=headers).get_json()
        task = created["open_tasks"][0]
        while task is not None:
            done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": FORM_DATA[task["bpmn_id"]]},
                               headers=headers).get_json()
            task = next(iter(done["next_tasks"]), None)
    for _ in range(10):
        instance()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(50):
        instance()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False))


def _up(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def machine_speed() -> str:
    """A fixed pure-Python workload: this VM's speed changes by up to 2x from minute to minute."""
    began = time.perf_counter()
    total = 0
    for number in range(2_000_000):
        total += number * number
    return f"reference loop {(time.perf_counter() - began) * 1000:.0f} ms"


def report(args: argparse.Namespace, port: int, secret: str, organisation_id: int) -> None:
    print(f"machine before: {machine_speed()}")
    single_rate, single = concurrent(port, secret, organisation_id, 1, args.instances)
    print(f"1 client:  start {stats(single['start'])}; submit {stats(single['submit'])}; {single_rate:.1f} instances/s")
    four_rate, four = concurrent(port, secret, organisation_id, 4, args.instances // 4)
    print(f"4 clients: start {stats(four['start'])}; submit {stats(four['submit'])}; {four_rate:.1f} instances/s")
    times, control = history(port, secret, organisation_id, args.loop)
    early, late = statistics.median(times[2:7]), statistics.median(times[-10:])
    fresh = statistics.median(control[-10:])
    print(f"history: submit median around the 5th {early:.2f} ms, around the {args.loop}th {late:.2f} ms "
          f"({late / early:.2f}x); a fresh instance's at the same moments {fresh:.2f} ms: "
          f"{late / fresh:.2f}x (target <= 1.2x)")
    print(engine_history(args.loop))
    start, submit = statistics.median(single["start"]), statistics.median(single["submit"])
    print(f"targets: start {start:.2f} ms (<= 4: {'MET' if start <= 4 else 'MISSED'}), submit {submit:.2f} ms "
          f"(<= 4: {'MET' if submit <= 4 else 'MISSED'}), 4 clients {four_rate:.1f}/s (>= 50: "
          f"{'MET' if four_rate >= 50 else 'MISSED'}), history {late / fresh:.2f}x "
          f"({'MET' if late / fresh <= 1.2 else 'MISSED'})")
    print(f"machine after: {machine_speed()}")
    print(f"vs SpiffArena: start {SPIFFARENA['start'] / start:.1f}x faster, submit {SPIFFARENA['submit'] / submit:.1f}x "
          f"faster, {four_rate / SPIFFARENA['instances/s']:.1f}x the instances/s")


if __name__ == "__main__":
    main()
