"""``samverkan run``: several web worker processes and exactly one scheduler, started by one command.

The command's own process runs the scheduler and serves no request: on SQLite directly, on PostgreSQL under
the leader election (service/scheduler/leader.py), so a ``samverkan scheduler`` elsewhere stays a candidate. It
starts gunicorn as a child process (this module's settings, ``python:service.ops.server``), whose workers serve
with SAMVERKAN_SCHEDULER=off and pick up nothing but requests. Workers are threaded (gthread): a worker
waiting on the database lets another thread of it run, and several workers use several cores.

Why not one process (waitress, as before issue #23): with 4 clients on this 2-core machine kind requests were
served one at a time (server time per request rose 4x, throughput stayed flat: one GIL), and py-spy found
waitress's hand-off between its I/O thread and the handler thread adding ~20% to the app's own time (bench/RESULTS.md).
Why not the scheduler in a worker: its jobs would stall that worker's requests, and gunicorn replaces
workers; nor in gunicorn's master: it forks workers, and a fork must not copy running threads.
"""

from __future__ import annotations

import gc
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

# ---- gunicorn settings (read by gunicorn in the child process: ``-c python:service.ops.server``) ----------

bind = os.environ.get("SAMVERKAN_BIND", "127.0.0.1:5000")
worker_class = "gthread"
workers = int(os.environ.get("SAMVERKAN_WORKERS", "2"))
threads = int(os.environ.get("SAMVERKAN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# A worker is replaced after this many requests (with jitter), bounding any slow leak.
max_requests = 5000
max_requests_jitter = 500
accesslog = None  # the app logs each request as JSON with its request id (service/ops/logs.py)
errorlog = "-"
loglevel = os.environ.get("SAMVERKAN_LOG_LEVEL", "info").lower()
# gunicorn >= 25.1's control socket has one default path per user ($HOME/.gunicorn/gunicorn.ctl): a second
# server on the host (a test's, a benchmark's) would take it over; nothing here uses it.
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """The app is loaded: move everything it allocated out of the collector's reach. Otherwise a full
    collection, which comes every so often as objects survive requests, walks the app's ~210 000 long-lived
    objects during some request: 0.5-0.6 s measured under load (2026-12-04 02:36, load average 7.8), 2 ms after
    gc.freeze(); likely the stall that held all four clients' requests for ~130 ms in issue #23's quiet rounds."""
    gc.collect()
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# ---- the command ------------------------------------------------------------------------------------------

def default_workers() -> int:
    """One worker per core, at least two (one can wait on the database while the other computes), at most four:
    on PostgreSQL each worker has a pool of its own (DB_POOL_SIZE + DB_MAX_OVERFLOW), and four workers' pools
    stay below PostgreSQL's default max_connections of 100. More: SAMVERKAN_WORKERS, or gunicorn (docs)."""
    return min(4, max(2, os.cpu_count() or 1))


def serve(host: str, port: int, workers: int, threads: int, *, with_scheduler: bool) -> int:
    """Run the web workers until they stop or this process is told to stop; the scheduler runs here meanwhile.
    Returns gunicorn's exit code."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    metrics_dir = given or tempfile.mkdtemp(prefix="samverkan-metrics-")
    shutil.rmtree(metrics_dir, ignore_errors=True)  # emptied at start, as prometheus-client asks
    Path(metrics_dir).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SAMVERKAN_SCHEDULER": "off", "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
           "SAMVERKAN_BIND": f"{host}:{port}", "SAMVERKAN_WORKERS": str(workers), "SAMVERKAN_THREADS": str(threads)}
    command = [sys.executable, "-m", "gunicorn", "-c", "python:service.ops.server", "service.app:create_app()"]
    web = subprocess.Popen(command, env=env)
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
        except KeyboardInterrupt:  # Ctrl-C: gunicorn stops its workers (once more if it had it already)
            web.send_signal(signal.SIGINT)
