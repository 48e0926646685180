"""``samverkan run`` as ``make run`` starts it: several web worker processes and exactly one scheduler (issue #23).

Real processes on a fresh SQLite file: the command's own process runs the scheduler (its heartbeat names it)
and serves nothing; its granian child forks the web workers, which run no scheduler."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from bench.peer_http import set_up
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
                                  stderr=subprocess.STDOUT, start_new_session=True)  # a group of its own, as a terminal's
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
    # The command's own process fires the timers; granian and its workers are told not to schedule.
    assert wait_until(lambda: _heartbeat_holder(database) == f"{socket.gethostname()}:{server.pid}", 30)
    for pid in [master, *workers()]:
        assert _environ(pid)["SAMVERKAN_SCHEDULER"] == "off"
    time.sleep(2.5)  # a few heartbeats later the scheduler is still the same, single one
    assert _heartbeat_holder(database) == f"{socket.gethostname()}:{server.pid}"
    assert status(base, "/readyz") == 200

    # A worker that dies is replaced, and the service answers again.
    killed = workers()[0]
    os.kill(killed, signal.SIGKILL)
    assert wait_until(lambda: killed not in workers() and len(workers()) == default_workers(), 30)
    assert wait_until(lambda: status(base, "/healthz") == 200, 30)

    # SIGTERM to the whole process group, as `timeout` or a terminal sends it: granian gets it once, through the
    # command (a second signal at once could deadlock it), and everything ends cleanly; a worker that cannot
    # stop (frozen here) is killed after granian's 10 s instead of holding the stop for ever.
    frozen = workers()[0]
    os.kill(frozen, signal.SIGSTOP)
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=40)
    assert server.returncode == 0
    assert not Path(f"/proc/{frozen}").exists()
    assert not Path(f"/proc/{master}").exists()
    # The server's own lines are JSON lines, as the app's are.
    lines = (Path(database).parent / "server.log").read_text().splitlines()
    server_lines = [json.loads(line) for line in lines if line.startswith("{") and '"_granian' in line]
    assert any("Spawning worker" in line["message"] for line in server_lines)


def _request(base: str, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=30)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    headers = {name.lower(): value for name, value in response.getheaders()}
    # Every cookie set, as the next request's Cookie header.
    headers["cookies"] = "; ".join(value.split(";", 1)[0] for value in response.headers.get_all("Set-Cookie") or [])
    return response.status, headers, response.read()


def test_the_server_carries_sign_in_api_files_and_refusals(served) -> None:  # type: ignore[no-untyped-def]
    """The WSGI server under the app, as a user meets it: a form post with its CSRF token and cookie, the
    client's address, a Bearer API call with JSON both ways, a static file byte for byte, a body too large."""
    _, base, database = served
    assert wait_until(lambda: status(base, "/healthz") == 200, 90)
    secret, organisation_id = set_up(f"sqlite:///{database}")  # a case officer "peer" (password "x"), the peer process

    code, headers, page = _request(base, "GET", "/logga-in")
    assert code == 200
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
    form = urllib.parse.urlencode({"csrf_token": token, "username": "peer", "password": "x"}).encode()
    code, headers, _ = _request(base, "POST", "/logga-in", form, {
        "Cookie": headers["cookies"], "Content-Type": "application/x-www-form-urlencoded"})
    assert code == 302, headers
    code, _, page = _request(base, "GET", headers["location"], headers={"Cookie": headers["cookies"]})
    assert code == 200 and "Peer Person" in page.decode()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT address FROM login_attempts").fetchall() == [("127.0.0.1",)]

    api = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    body = json.dumps({"process_id": "peer", "title": "Åäö över HTTP", "data": {"organisation_id": organisation_id}})
    code, _, answer = _request(base, "POST", "/api/v1/instances", body.encode(), api)
    assert code == 201, answer
    started = json.loads(answer)
    assert started["title"] == "Åäö över HTTP" and [task["bpmn_id"] for task in started["open_tasks"]] == ["draft"]

    stylesheet = ROOT / "service" / "inbox" / "static" / "style.css"
    code, headers, content = _request(base, "GET", "/static/inbox/style.css")
    assert (code, content) == (200, stylesheet.read_bytes()) and headers["content-type"].startswith("text/css")

    # A body announced as too large is refused before it is read (the client is told while still sending).
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=30)
    connection.putrequest("POST", "/api/v1/instances")
    for name, value in {**api, "Content-Length": str(17 * 1024 * 1024)}.items():
        connection.putheader(name, value)
    connection.endheaders(b"{" + b" " * 65536)
    assert connection.getresponse().status == 413


def test_the_web_server_does_not_outlive_the_command(served) -> None:  # type: ignore[no-untyped-def]
    """granian runs in a session of its own (group signals reach it once, through the command); a kill -9 of the
    command must still not leave it serving without a scheduler."""
    server, base, _ = served
    assert wait_until(lambda: status(base, "/healthz") == 200 and len(children(server.pid)) == 1, 90)
    [master] = children(server.pid)
    os.kill(server.pid, signal.SIGKILL)
    assert wait_until(lambda: not Path(f"/proc/{master}").exists() and status(base, "/healthz") == 0, 30)
