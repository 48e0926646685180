"""The WSGI server under the same app, side by side (issue #23): granian as ``samverkan run`` starts it against
gunicorn's threaded worker as ``samverkan run`` started it before (gthread, 4 threads a worker), interleaved, on
SQLite, with no scheduler process (the servers alone). Per server and pass: the peer scenario's rounds
(bench/peer_http.py's ``measure``), then a bare ``GET /healthz`` on one keep-alive connection: the server's
own cost a request (web CPU and wall time), next to the app's in process.

    .venv/bin/python bench/servers.py                      # 2 passes of 3 rounds x 30 instances per server
    .venv/bin/python bench/servers.py --passes 1 --rounds 2 --instances 10
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root, for bench.* and tests.*

from bench.peer_http import _up, load_average, machine_speed, measure, tree_cpu_seconds
from tests.reliability.harness import TEST_SECRET_KEY, free_port, stop, wait_until

ROOT = Path(__file__).resolve().parent.parent
WORKERS, THREADS = 2, 4


def granian_command(port: int) -> list[str]:
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(WORKERS), "--blocking-threads", str(THREADS),
            "--no-access-log", "--log-level", "warning", "service.ops.server:worker_app"]


def gunicorn_command(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(WORKERS),
            "--threads", str(THREADS), "--keep-alive", "5", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "service.ops.server:worker_app()"]


SERVERS = {"granian": granian_command, "gunicorn": gunicorn_command}


def serving(name: str) -> Any:
    @contextmanager
    def serve(url: str, _workers: int | None, log: Any) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET_KEY, "SAMVERKAN_SCHEDULER": "off"}
        server = subprocess.Popen(SERVERS[name](port), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            if not wait_until(lambda: _up(port), 90):
                log.seek(0)
                raise SystemExit(log.read().decode()[-3000:])
            yield server, port
        finally:
            stop(server)
    return serve


def bare_requests(name: str, url: str, count: int) -> str:
    """``count`` GET /healthz on one keep-alive connection: the server's CPU (all its processes) and wall time."""
    with tempfile.TemporaryFile() as log, serving(name)(url, None, log) as (server, port):
        connection = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(200):  # warm-up
            connection.request("GET", "/healthz")
            connection.getresponse().read()
        cpu, began = tree_cpu_seconds(server.pid), time.perf_counter()
        for _ in range(count):
            connection.request("GET", "/healthz")
            connection.getresponse().read()
        seconds, cpu = time.perf_counter() - began, tree_cpu_seconds(server.pid) - cpu
    return f"  GET /healthz: server CPU {cpu * 1000 / count:.3f} ms, wall {seconds * 1000 / count:.3f} ms a request"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--passes", type=int, default=2, help="times each server is measured, interleaved")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--instances", type=int, default=30, help="instances per client in a round")
    parser.add_argument("--bare", type=int, default=3000, help="GET /healthz requests per server and pass")
    args = parser.parse_args()
    args.loop = 0
    print(f"servers side by side, {time.strftime('%Y-%m-%d %H:%M %Z')}; {load_average()}; {machine_speed()}", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        for number in range(1, args.passes + 1):
            for name in SERVERS:
                url = f"sqlite:///{directory}/{name}-{number}.sqlite3"
                measure(f"{name}, pass {number}", url, WORKERS, args, with_history=False, serve=serving(name))
                print(bare_requests(name, url, args.bare), flush=True)


if __name__ == "__main__":
    main()
