"""``samverkan run`` as ``make run`` starts it: several web worker processes and exactly one scheduler (issue #23).

Real processes on a fresh SQLite file: the command's own process runs the scheduler (its heartbeat names it)
and serves nothing; its gunicorn child forks the web workers, which run no scheduler."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.ops.server import default_workers
from tests.conftest import ROOT, TEST_SECRET_KEY
from tests.reliability.harness import children, free_port, status, stop, wait_until


def _environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(pair.decode().split("=", 1) for pair in pairs if b"=" in pair)


def _heartbeat_holder(database: Path) -> str | None:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT holder FROM scheduler_heartbeat").fetchone()
    return row[0] if row else None


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = tmp_path / "run.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": TEST_SECRET_KEY,
           "SAMVERKAN_SCHEDULER_HEARTBEAT_SECONDS": "1"}
    for name in ("SAMVERKAN_WORKERS", "SAMVERKAN_SCHEDULER", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    samverkan = [sys.executable, "-c", "from service.cli import main; main()"]
    subprocess.run([*samverkan, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    port = free_port()
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen([*samverkan, "run", "--port", str(port)], env=env, cwd=ROOT, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            yield server, f"http://127.0.0.1:{port}", database
        finally:
            stop(server)


def test_the_default_server_runs_several_web_workers_and_one_scheduler(served) -> None:  # type: ignore[no-untyped-def]
    server, base, database = served

    def workers() -> list[int]:
        return [worker for master in children(server.pid) for worker in children(master)]

    assert wait_until(lambda: status(base, "/healthz") == 200 and len(workers()) >= 2, 90), \
        (Path(database).parent / "server.log").read_text()[-3000:]
    [master] = children(server.pid)
    assert len(workers()) == default_workers()
    # The command's own process fires the timers; gunicorn and its workers are told not to schedule.
    assert wait_until(lambda: _heartbeat_holder(database) == f"{socket.gethostname()}:{server.pid}", 30)
    for pid in [master, *workers()]:
        assert _environ(pid)["SAMVERKAN_SCHEDULER"] == "off"
    time.sleep(2.5)  # a few heartbeats later the scheduler is still the same, single one
    assert _heartbeat_holder(database) == f"{socket.gethostname()}:{server.pid}"
    assert status(base, "/readyz") == 200

    stop(server)  # SIGTERM reaches gunicorn through the command, which then ends cleanly
    assert server.returncode == 0
    assert not Path(f"/proc/{master}").exists()
