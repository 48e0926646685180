"""``samverkan run``: several web worker processes and exactly one scheduler, started by one command.

The command's own process runs the scheduler and serves no request: on SQLite directly, on PostgreSQL under
the leader election (service/scheduler/leader.py), so a ``samverkan scheduler`` elsewhere stays a candidate. It
starts granian (a WSGI server written in Rust) as a child process, whose worker processes each build the app
(``worker_app``) with SAMVERKAN_SCHEDULER=off and pick up nothing but requests. Each worker runs requests on a
few threads: a worker waiting on the database lets another thread of it run, and several workers use several
cores. A worker that dies is replaced.

Why granian (issue #23): side by side with the same app (bench/servers.py, bench/RESULTS.md), the server's own
cost of a request was about 0.3 ms CPU lower than under gunicorn's gthread worker (0.36-0.44 against 0.70 ms for
a bare request: its HTTP handling is Rust, gunicorn's parsing and thread hand-off Python); the peer scenario's
latency showed no difference beyond the VM's spread. Why not one process (waitress, before issue #23): with 4
clients on 2 cores requests were served one at a time (one GIL). Why not the scheduler in a worker: its jobs
would stall that worker's requests; nor in granian's main process: it forks the workers, and a fork must not
copy running threads. gunicorn stays the server of deploy/gunicorn.conf.py, for app processes on hosts of their
own.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def worker_app() -> Any:
    """The app of one web worker (granian calls this in each worker process, ``--factory``)."""
    from service.app import create_app

    app = create_app()
    freeze_after_loading()
    return app


def freeze_after_loading() -> None:
    """The app is built: move everything it allocated out of the collector's reach (also deploy/gunicorn.conf.py).
    Otherwise a full collection, which comes every so often as objects survive requests, walks the app's
    ~210 000 long-lived objects during some request: 0.5-0.6 s measured under load (2026-12-04 02:36, load
    average 7.8), 2 ms after gc.freeze(); likely the stall that held all four clients' requests for ~130 ms in
    issue #23's quiet rounds."""
    gc.collect()
    gc.freeze()


# ---- the command ------------------------------------------------------------------------------------------

def default_workers() -> int:
    """One worker per core, at least two (one can wait on the database while the other computes), at most four:
    on PostgreSQL each worker has a pool of its own (DB_POOL_SIZE + DB_MAX_OVERFLOW), and four workers' pools
    stay below PostgreSQL's default max_connections of 100. More: SAMVERKAN_WORKERS (docs/operations.md)."""
    return min(4, max(2, os.cpu_count() or 1))


def serve(host: str, port: int, workers: int, threads: int, *, with_scheduler: bool) -> int:
    """Run the web workers until they stop or this process is told to stop; the scheduler runs here meanwhile.
    Returns granian's exit code."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    metrics_dir = given or tempfile.mkdtemp(prefix="samverkan-metrics-")
    shutil.rmtree(metrics_dir, ignore_errors=True)  # emptied at start, as prometheus-client asks
    Path(metrics_dir).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SAMVERKAN_SCHEDULER": "off", "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--factory", "--host", host, "--port", str(port),
               "--workers", str(workers), "--blocking-threads", str(threads),
               # A worker that dies is replaced; one that has not stopped 10 s after it was told to is killed.
               "--respawn-failed-workers", "--workers-kill-timeout", "10",
               # The app logs each request as JSON with its request id (service/ops/logs.py).
               "--no-access-log", "--log-level", os.environ.get("SAMVERKAN_LOG_LEVEL", "info").lower(),
               *_json_log_config(metrics_dir), "service.ops.server:worker_app"]
    # A session of its own: a signal to this command's process group (Ctrl-C in a terminal, `timeout`) reaches
    # granian once, forwarded from here, not also directly. Two signals within microseconds of each other can
    # deadlock granian's main process (its handler sets a threading.Event, and the second handler call waits on
    # the lock the first holds): seen once in five group SIGTERMs.
    web = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_stop_with_parent)
    forward = {number: signal.signal(number, lambda number, _frame: web.send_signal(number))
               for number in (signal.SIGTERM, signal.SIGHUP)}
    scheduler = checkpoints = None
    try:
        scheduler = _start_scheduler() if with_scheduler else None
        checkpoints = _Checkpoints.start_if_sqlite()
        return _wait(web)
    finally:
        if web.poll() is None:  # the scheduler could not start: no web workers without it
            web.terminate()
            web.wait()
        for number, handler in forward.items():
            signal.signal(number, handler)
        if checkpoints is not None:
            checkpoints.stopping.set()
        if scheduler is not None:
            # Do not wait for running jobs: each is one transaction, and an interrupted one rolls back.
            scheduler.shutdown(wait=False)
        if not given:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _stop_with_parent() -> None:
    """In the child, before granian starts (Linux): SIGTERM when this command's process dies, however it dies
    (a kill -9 included), so that no web server goes on serving without its scheduler. Its own session keeps it
    out of the signals sent to this command's process group; this keeps it from outliving the command."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def _json_log_config(directory: str) -> list[str]:
    """granian's own lines (start, workers spawned or lost) as JSON lines like the app's, when the app logs JSON."""
    from flask import current_app

    if str(current_app.config["LOG_FORMAT"]) != "json":
        return []
    path = Path(directory) / "granian-logging.json"  # beside the metrics files: same lifetime, same owner
    path.write_text(json.dumps({
        "formatters": {"json": {"()": "service.ops.logs.JsonFormatter"}},
        "handlers": {"console": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
        "loggers": {"_granian": {"handlers": ["console"], "propagate": False},
                    "granian.access": {"handlers": ["console"], "propagate": False}},
    }))
    return ["--log-config", str(path)]


def _start_scheduler() -> Any:
    from flask import current_app

    from service.scheduler.setup import start_scheduling

    return start_scheduling(current_app._get_current_object())  # type: ignore[attr-defined]


class _Checkpoints(threading.Thread):
    """SQLite: copy the write-ahead log into the database file here, every second, rather than in a request.
    SQLite's automatic checkpoint runs inside whichever commit takes the log past 1000 pages; the peer scenario
    writes ~4 pages a request, so every ~250th request paid for copying them (a 420-page checkpoint took 19.5 ms
    under load, 2026-12-04). PASSIVE: it never waits for, nor blocks, a reader or writer; the automatic
    checkpoint stays as the safety net (and does the work when this process is not running)."""

    def __init__(self, app: Any) -> None:
        super().__init__(name="samverkan-wal-checkpoint", daemon=True)
        self.app, self.stopping = app, threading.Event()

    @classmethod
    def start_if_sqlite(cls) -> _Checkpoints | None:
        from flask import current_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
            return None
        checkpoints = cls(app)
        checkpoints.start()
        return checkpoints

    def run(self) -> None:
        from service.extensions import db

        while not self.stopping.wait(1):
            try:
                with self.app.app_context(), db.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # the automatic checkpoint still runs; try again in a second
                log.warning("WAL checkpoint failed", exc_info=True)


def _wait(web: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return web.wait()
        except KeyboardInterrupt:  # Ctrl-C: granian stops its workers (once more if it had it already)
            web.send_signal(signal.SIGINT)
