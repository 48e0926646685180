"""CPU per request of the peer scenario, in process: what a web worker of ``samverkan run`` spends on a start and
on a submit, measured so that a shared machine's load matters little (issue #23).

The app is built as a worker of ``samverkan run`` builds it (SQLite file, SAMVERKAN_SCHEDULER=off, JSON logs,
here written to /dev/null, ``gc.freeze()`` after start-up), and the peer scenario (Draft -> Approve -> Sign, REST
API, Bearer token) runs through Flask's test client. Around the app's WSGI call only (not the test client's
building of the request), it sums the thread's CPU time and counts SQL statements, per kind of request. Printed:
CPU ms per start and per submit (median over repeats, with min and max), and statements per request.

    .venv/bin/python bench/cpu_per_request.py                        # 5 repeats of 60 instances
    .venv/bin/python bench/cpu_per_request.py --profile               # cProfile of one repeat, by own time
    .venv/bin/python bench/cpu_per_request.py --instructions          # instructions per instance (callgrind)

CPU time still varies with what else the machine runs (caches, a VM's stolen time: +60 % at load average 6);
instruction counts do not. ``--instructions`` runs the same loop once under valgrind's callgrind, counting
only the measured instances (switched on and off with callgrind_control), and prints instructions per
instance (a start and three submits): slow (a few minutes), but the same figure on a busy or a quiet machine.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import logging
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root, for bench.* and tests.*

from sqlalchemy import event

from bench.peer_http import FORM_DATA, set_up
from service.app import create_app
from service.extensions import db
from tests.reliability.harness import TEST_SECRET_KEY


class Meter:
    """WSGI middleware: CPU seconds and SQL statements per kind of request ("start", "submit")."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app
        self.cpu: dict[str, float] = {"start": 0.0, "submit": 0.0}
        self.count: dict[str, int] = {"start": 0, "submit": 0}
        self.statements: dict[str, int] = {"start": 0, "submit": 0}
        self.kind: str | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        kind = "start" if environ["PATH_INFO"] == "/api/v1/instances" else "submit"
        self.kind = kind
        began = time.thread_time()
        body = b"".join(self.wsgi_app(environ, start_response))  # the whole answer, as a server writes it
        self.cpu[kind] += time.thread_time() - began
        self.count[kind] += 1
        self.kind = None
        return [body]

    def statement(self, *_: Any) -> None:
        if self.kind is not None:
            self.statements[self.kind] += 1

    def reset(self) -> None:
        for figures in (self.cpu, self.count, self.statements):
            for key in figures:
                figures[key] = 0


def build(url: str) -> tuple[Any, Meter]:
    os.environ["SAMVERKAN_SCHEDULER"] = "off"  # as samverkan run's web workers
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": TEST_SECRET_KEY})
    devnull = open(os.devnull, "w")  # noqa: SIM115  # the JSON log lines are formatted, then dropped
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    meter = Meter(app.wsgi_app)
    app.wsgi_app = meter  # type: ignore[method-assign]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", meter.statement)
    return app, meter


def run_instances(client: Any, secret: str, organisation_id: int, count: int) -> None:
    headers = {"Authorization": f"Bearer {secret}"}
    for _ in range(count):
        response = client.post("/api/v1/instances", headers=headers,
                               json={"process_id": "peer", "title": "Peer", "data": {"organisation_id": organisation_id}})
        assert response.status_code == 201, response.get_data(as_text=True)
        task: dict[str, Any] | None = response.get_json()["open_tasks"][0]
        while task is not None:
            response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers,
                                   json={"data": FORM_DATA[task["bpmn_id"]]})
            assert response.status_code == 200, response.get_data(as_text=True)
            task = next(iter(response.get_json()["next_tasks"]), None)


def measure_cpu(url: str, secret: str, organisation_id: int, args: argparse.Namespace) -> None:
    app, meter = build(url)
    client = app.test_client()
    run_instances(client, secret, organisation_id, 10)  # warm-up: caches, first parses, lazy imports
    gc.collect()
    gc.freeze()  # as the workers do after loading the app (service/ops/server.py)
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(run_instances, client, secret, organisation_id, args.instances)
        if args.profile_out:
            profile.dump_stats(args.profile_out)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
        return
    rounds: dict[str, list[float]] = {"start": [], "submit": [], "request": []}
    for _ in range(args.repeats):
        meter.reset()
        run_instances(client, secret, organisation_id, args.instances)
        for kind in ("start", "submit"):
            rounds[kind].append(meter.cpu[kind] * 1000 / meter.count[kind])
        rounds["request"].append(sum(meter.cpu.values()) * 1000 / sum(meter.count.values()))
    print(f"peer scenario in process (SQLite, test client), {args.repeats} x {args.instances} instances; "
          f"{load_average()}")
    for kind, values in rounds.items():
        print(f"  CPU ms per {kind:7s}: median {statistics.median(values):.3f} (min {min(values):.3f}, "
              f"max {max(values):.3f})")
    print(f"  SQL statements per start {meter.statements['start'] / meter.count['start']:.1f}, "
          f"per submit {meter.statements['submit'] / meter.count['submit']:.1f}")


def load_average() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---- instructions (callgrind) -------------------------------------------------------------------------------

def instructions(url: str, secret: str, organisation_id: int, args: argparse.Namespace) -> None:
    """Run this script under callgrind (collection off), let it switch collection on for the measured
    instances only, and read the total from its output."""
    with tempfile.NamedTemporaryFile(suffix=".callgrind") as output:
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={output.name}",
                   sys.executable, __file__, "--under-callgrind", url, secret, str(organisation_id),
                   "--instances", str(args.instances)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = next(int(line.split()[1]) for line in Path(output.name).read_text().splitlines()
                     if line.startswith("totals:"))
    print(f"peer scenario in process under callgrind (SQLite, test client), {args.instances} instances; "
          f"{load_average()}")
    print(f"  instructions per instance (a start and 3 submits): {total / args.instances / 1e6:.2f} M; "
          f"per request {total / args.instances / 4e6:.2f} M")


def under_callgrind(url: str, secret: str, organisation_id: int, count: int) -> None:
    app, _ = build(url)
    client = app.test_client()
    run_instances(client, secret, organisation_id, 10)
    gc.collect()
    gc.freeze()
    _collect("on")
    run_instances(client, secret, organisation_id, count)
    _collect("off")


def _collect(state: str) -> None:
    """callgrind_control -i on|off for this process (valgrind's gdbserver takes the command while this
    process waits for it: about 0.6 M instructions are counted with the measured ones)."""
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--instances", type=int, default=60, help="instances per repeat (a start and 3 submits each)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one repeat; print functions by own time")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--profile-out", help="with --profile: also write the profile here (pstats, snakeviz)")
    parser.add_argument("--instructions", action="store_true", help="instructions per instance, under callgrind")
    parser.add_argument("--under-callgrind", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.under_callgrind:
        url, secret, organisation_id = args.under_callgrind
        under_callgrind(url, secret, int(organisation_id), args.instances)
        return
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/cpu.sqlite3"
        secret, organisation_id = set_up(url)
        if args.instructions:
            instructions(url, secret, organisation_id, args)
        else:
            measure_cpu(url, secret, organisation_id, args)


if __name__ == "__main__":
    main()
