"""THE PEER SCENARIO over HTTP, against the service exactly as ``make run`` starts it (issue #23).

Draft -> Approve -> Sign (bench/peer/peer.bpmn, one-field JSON Schema forms), started and completed through
the REST API (POST /api/v1/instances, POST /api/v1/tasks/<id>/complete, Bearer token) over loopback, against
``samverkan run``: its default web workers (granian, one process per core) and its one scheduler. An instance
is a start and three submits; each submit answers with the tasks the caller can do next.

Each round measures 1 client, then 4 clients (threads of this process, each on its own keep-alive
connection); rounds repeat so that a shared VM's changes of speed show as spread, not as a result. Printed per
round and as the median over rounds: p50 and p99 of start and submit as the client sees them, instances/s, and
the server's CPU ms per request (CPU time of ``samverkan run`` and all its processes / requests; "web": granian
and its workers alone, without the scheduler's process, whose work is per second, not per request): the figure
that depends least on what else the machine is doing. Then submit time as one instance's history grows, and
the peer's figures measured on this machine kind (SpiffArena's backend, SQLite, one worker; issue #23).

    .venv/bin/python bench/peer_http.py --rounds 8                 # SQLite, then PostgreSQL with 1 and 2 workers
    .venv/bin/python bench/peer_http.py --backend sqlite --rounds 3 --instances 10 --loop 20   # quick look
    .venv/bin/python bench/peer_http.py --profile                   # py-spy on the running server (4 clients)
    .venv/bin/python bench/peer_http.py --profile --clients 1       # the same, one request at a time
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root, for tests.reliability

from service.api.tokens import create_token
from service.app import create_app
from service.extensions import db
from service.ops.server import default_workers
from service.parties.models import AuthorisedBody, Membership, Organisation, OrganisationKind, Role, User
from service.processes.definitions import deploy_definition
from tests.reliability.harness import TEST_SECRET_KEY, free_port, stop, wait_until

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT / "bench" / "peer"
FORM_DATA = {"draft": {"text": "Utkast"}, "approve": {"approved": True}, "sign": {"signed_by": "Anna"}}
# SpiffArena's backend on SQLite, one worker, measured on this machine kind in the quiet rounds (issue #23):
# p50 59.5-72 ms a start, 50.6-62.2 ms a submit, 2.8-3.6 instances/s with 4 clients.
PEER_FIGURES = {"start": 60.0, "submit": 55.0, "instances/s": 3.6}
TARGETS = "p50 <= 5 ms a start, <= 4 ms a submit, p99 <= 3x p50; >= 60 instances/s with 4 clients on SQLite"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_peer_http"


# ---- the database and the server ----------------------------------------------------------------------------

def set_up(url: str) -> tuple[str, int]:
    """Schema through the migrations, one organisation with a case officer, the peer diagrams; a write token."""
    if url.startswith("postgresql"):
        _empty_postgres(url)
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


def _empty_postgres(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone():
            connection.execute(f'CREATE DATABASE "{parsed.database}"')
    with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@contextmanager
def served(url: str, workers: int | None, log: Any) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``samverkan run`` as ``make run`` starts it (its default workers unless ``workers`` is given)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET_KEY}
    env.pop("SAMVERKAN_WORKERS", None)
    if workers is not None:
        env["SAMVERKAN_WORKERS"] = str(workers)
    server = subprocess.Popen([sys.executable, "-c", "from service.cli import main; main()", "run", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        expected = workers or default_workers()
        if not wait_until(lambda: _up(port) and len(_web_workers(server.pid)) >= expected, 90):
            log.seek(0)
            raise SystemExit(log.read().decode()[-3000:])
        yield server, port
    finally:
        stop(server)


def _up(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    except OSError:
        return []


def _web_workers(pid: int) -> list[int]:
    return [worker for master in _children(pid) for worker in _children(master)]


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants, those it has reaped included."""
    ticks, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile: its time is in its parent's cutime once reaped
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        stack.extend(_children(current))
    return ticks / os.sysconf("SC_CLK_TCK")


# ---- the clients --------------------------------------------------------------------------------------------

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


@dataclass
class Phase:
    clients: int
    instances: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    web_cpu_seconds: float = 0.0
    ms: dict[str, list[float]] = field(default_factory=lambda: {"start": [], "submit": []})

    @property
    def rate(self) -> float:
        return self.instances / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds * 1000 / (len(self.ms["start"]) + len(self.ms["submit"]))

    @property
    def web_cpu_ms_per_request(self) -> float:
        return self.web_cpu_seconds * 1000 / (len(self.ms["start"]) + len(self.ms["submit"]))


def run_instances(client: Client, organisation_id: int, count: int, ms: dict[str, list[float]]) -> None:
    for _ in range(count):
        elapsed, instance = client.start("peer", organisation_id)
        ms["start"].append(elapsed)
        task: dict[str, Any] | None = instance["open_tasks"][0]
        while task is not None:
            elapsed, done = client.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": FORM_DATA[task["bpmn_id"]]})
            ms["submit"].append(elapsed)
            task = next(iter(done["next_tasks"]), None)


def phase(server_pid: int, port: int, secret: str, organisation_id: int, clients: int, per_client: int) -> Phase:
    """``clients`` concurrent clients, ``per_client`` instances each (list.append is atomic: one list for all)."""
    result = Phase(clients, clients * per_client)
    connections = [Client(port, secret) for _ in range(clients)]
    threads = [threading.Thread(target=run_instances, args=(client, organisation_id, per_client, result.ms))
               for client in connections]
    web = _children(server_pid) or [server_pid]  # granian and its workers, without the scheduler's process
    cpu, web_cpu, began = tree_cpu_seconds(server_pid), sum(map(tree_cpu_seconds, web)), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds, result.cpu_seconds = time.perf_counter() - began, tree_cpu_seconds(server_pid) - cpu
    result.web_cpu_seconds = sum(map(tree_cpu_seconds, web)) - web_cpu
    if len(result.ms["start"]) != result.instances:
        raise SystemExit("a client failed (see above)")
    return result


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


# ---- reporting ----------------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def describe(result: Phase) -> str:
    start, submit = result.ms["start"], result.ms["submit"]
    return (f"{result.clients} client{'s' if result.clients > 1 else ' '}: start p50 {percentile(start, .5):6.2f} p99 "
            f"{percentile(start, .99):6.2f} ms; submit p50 {percentile(submit, .5):6.2f} p99 {percentile(submit, .99):6.2f} ms; "
            f"{result.rate:6.1f} instances/s; server CPU {result.cpu_ms_per_request:5.2f} ms/request "
            f"(web {result.web_cpu_ms_per_request:5.2f})")


def machine_speed() -> str:
    """A fixed pure-Python workload: this VM's speed changes by up to 2x from minute to minute."""
    began = time.perf_counter()
    total = 0
    for number in range(2_000_000):
        total += number * number
    return f"reference loop {(time.perf_counter() - began) * 1000:.0f} ms"


def load_average() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def summary(label: str, rounds: list[tuple[Phase, Phase]]) -> dict[str, float]:
    """The medians over rounds of each round's figures, printed beside the peer's."""
    def median(clients: int, pick: Any) -> float:
        return statistics.median(pick(pair[0] if clients == 1 else pair[1]) for pair in rounds)

    figures = {
        "start p50": median(1, lambda p: percentile(p.ms["start"], .5)),
        "start p99": median(1, lambda p: percentile(p.ms["start"], .99)),
        "submit p50": median(1, lambda p: percentile(p.ms["submit"], .5)),
        "submit p99": median(1, lambda p: percentile(p.ms["submit"], .99)),
        "cpu 1": median(1, lambda p: p.cpu_ms_per_request),
        "web cpu 1": median(1, lambda p: p.web_cpu_ms_per_request),
        "rate 1": median(1, lambda p: p.rate),
        "start p50 4": median(4, lambda p: percentile(p.ms["start"], .5)),
        "submit p50 4": median(4, lambda p: percentile(p.ms["submit"], .5)),
        "submit p99 4": median(4, lambda p: percentile(p.ms["submit"], .99)),
        "cpu 4": median(4, lambda p: p.cpu_ms_per_request),
        "web cpu 4": median(4, lambda p: p.web_cpu_ms_per_request),
        "rate 4": median(4, lambda p: p.rate),
    }
    f = figures
    print(f"{label}, median of {len(rounds)} rounds:")
    print(f"  1 client:  start p50 {f['start p50']:.2f} ms (p99 {f['start p99']:.2f}), submit p50 {f['submit p50']:.2f} ms "
          f"(p99 {f['submit p99']:.2f}), {f['rate 1']:.1f} instances/s, server CPU {f['cpu 1']:.2f} ms/request "
          f"(web workers {f['web cpu 1']:.2f})")
    print(f"  4 clients: start p50 {f['start p50 4']:.2f} ms, submit p50 {f['submit p50 4']:.2f} ms (p99 "
          f"{f['submit p99 4']:.2f}), {f['rate 4']:.1f} instances/s, server CPU {f['cpu 4']:.2f} ms/request "
          f"(web workers {f['web cpu 4']:.2f})")
    print(f"  vs the peer (p50 {PEER_FIGURES['start']:.0f} ms a start, {PEER_FIGURES['submit']:.0f} ms a submit, "
          f"{PEER_FIGURES['instances/s']} instances/s): start {PEER_FIGURES['start'] / f['start p50']:.1f}x faster, "
          f"submit {PEER_FIGURES['submit'] / f['submit p50']:.1f}x faster, "
          f"{f['rate 4'] / PEER_FIGURES['instances/s']:.1f}x the instances/s")
    return figures


def measure(label: str, url: str, workers: int | None, args: argparse.Namespace, *, with_history: bool,
            serve: Any = None) -> dict[str, float]:
    """Rounds of 1 and 4 clients against ``serve(url, workers, log)`` (``served``, samverkan run, by default)."""
    secret, organisation_id = set_up(url)
    with tempfile.TemporaryFile() as log, (serve or served)(url, workers, log) as (server, port):
        web = len(_web_workers(server.pid)) or len(_children(server.pid))  # samverkan run's, or a bare server's
        print(f"{label}: {web} web workers; {load_average()}; {machine_speed()}", flush=True)
        phase(server.pid, port, secret, organisation_id, 1, 10)  # warm-up: every worker's first requests
        phase(server.pid, port, secret, organisation_id, 4, 5)
        rounds = []
        for number in range(1, args.rounds + 1):
            single = phase(server.pid, port, secret, organisation_id, 1, args.instances)
            four = phase(server.pid, port, secret, organisation_id, 4, args.instances)
            print(f"  round {number}  {describe(single)}\n           {describe(four)}", flush=True)
            rounds.append((single, four))
        figures = summary(label, rounds)
        if with_history and args.loop:
            times, control = history(port, secret, organisation_id, args.loop)
            late, fresh = statistics.median(times[-10:]), statistics.median(control[-10:])
            print(f"  history: submit p50 around the {args.loop}th {late:.2f} ms, a fresh instance's at the same "
                  f"moments {fresh:.2f} ms: {late / fresh:.2f}x")
        print(f"  {load_average()}; {machine_speed()}", flush=True)
    return figures


def profile(url: str, args: argparse.Namespace) -> None:
    """Where the running server spends its time (``--clients``, 4 by default): py-spy on every process of
    ``samverkan run``."""
    secret, organisation_id = set_up(url)
    with tempfile.TemporaryFile() as log, served(url, None, log) as (server, port), \
            tempfile.NamedTemporaryFile(suffix=".txt") as output:
        phase(server.pid, port, secret, organisation_id, 4, 5)
        spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.pid),
                                "--subprocesses", "--rate", "250", "--format", "raw", "-o", output.name],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        result = phase(server.pid, port, secret, organisation_id, args.clients, args.instances * 2)
        spy.send_signal(2)
        spy.wait(60)
        print(describe(result))
        print_profile(Path(output.name))


def print_profile(path: Path, top: int = 45) -> None:
    """Inclusive share of request time per function (samples inside a request: under Flask's wsgi_app)."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "wsgi_app" not in stack:
            continue
        total += int(count)
        for frame in {frame.rsplit(":", 1)[0] for frame in stack.split(";")}:
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    print(f"{total} samples inside requests; inclusive share:")
    for frame, count in sorted(inclusive.items(), key=lambda item: -item[1])[:top]:
        print(f"  {100 * count / total:5.1f}%  {frame}")
    leaves: dict[str, int] = {}
    own: dict[str, int] = {}  # by package or project module: where the time is spent, not who asked for it
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "wsgi_app" in stack:
            leaf = stack.split(";")[-1]
            where = leaf[leaf.find("(") + 1:].split(":")[0].rstrip(")")
            module = where.split("/")[0] if not where.startswith("service/") else where
            own[module] = own.get(module, 0) + int(count)
            leaves[leaf] = leaves.get(leaf, 0) + int(count)
    print("self share by package (project files by module):")
    for module, count in sorted(own.items(), key=lambda item: -item[1])[:25]:
        print(f"  {100 * count / total:5.1f}%  {module}")
    print("self share by line:")
    for leaf, count in sorted(leaves.items(), key=lambda item: -item[1])[:20]:
        print(f"  {100 * count / total:5.1f}%  {leaf}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--instances", type=int, default=20, help="instances per client in a round")
    parser.add_argument("--loop", type=int, default=300, help="history length on SQLite (0: skip)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--profile", action="store_true", help="instead: py-spy on the running server (SQLite)")
    parser.add_argument("--clients", type=int, default=4, help="with --profile: clients while profiling")
    args = parser.parse_args()
    print(f"peer scenario over HTTP, {time.strftime('%Y-%m-%d %H:%M %Z')}; targets: {TARGETS}", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        sqlite_url = f"sqlite:///{directory}/peer.sqlite3"
        if args.profile:
            profile(sqlite_url, args)
            return
        if args.backend in ("sqlite", "both"):
            measure("SQLite", sqlite_url, None, args, with_history=True)
        if args.backend in ("postgresql", "both"):
            one = measure("PostgreSQL, 1 worker", args.postgres_url, 1, args, with_history=False)
            two = measure("PostgreSQL, 2 workers", args.postgres_url, 2, args, with_history=False)
            print(f"PostgreSQL, 4 clients: 2 workers {two['rate 4']:.1f} instances/s, 1 worker {one['rate 4']:.1f} "
                  f"({two['rate 4'] / one['rate 4']:.2f}x)")


if __name__ == "__main__":
    main()
