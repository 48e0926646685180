"""gunicorn settings for Samverkan's app processes (deploy/README section in docs/operations.md).

    SAMVERKAN_SCHEDULER=off gunicorn -c deploy/gunicorn.conf.py "service.app:create_app()"

Every value can be overridden by the environment variable named beside it. Timers are fired by a separate
``samverkan scheduler`` process (one or more, leader-elected), never by gunicorn workers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

bind = os.environ.get("SAMVERKAN_BIND", "127.0.0.1:8000")
# Synchronous workers: each request holds one worker and at most one database connection.
workers = int(os.environ.get("SAMVERKAN_WORKERS", "4"))
worker_class = "sync"
timeout = int(os.environ.get("SAMVERKAN_WORKER_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# A worker is replaced after this many requests (with jitter), bounding any slow leak.
max_requests = int(os.environ.get("SAMVERKAN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# The app logs each request as JSON with its request id (service/ops/logs.py); gunicorn's own access log would
# repeat it without the id.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("SAMVERKAN_LOG_LEVEL", "info").lower()
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.ops.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": loglevel.upper()},
    "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False}},
}
# Metrics from all workers: prometheus-client writes per-process files here (see service/ops/metrics.py).
# Set before the app (and with it prometheus_client) is imported; emptied at start, as the library asks.
_metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / "samverkan-metrics")))
os.environ.setdefault("SAMVERKAN_SCHEDULER", "off")


def on_starting(server: Any) -> None:
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    _metrics_dir.mkdir(parents=True, exist_ok=True)


def post_fork(server: Any, worker: Any) -> None:
    # Connections must not cross fork(): with preload_app the parent may have opened the pool already.
    from service.extensions import db

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "app_context"):
        with app.app_context():
            db.engine.dispose(close=False)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    # The app's long-lived objects out of the collector's reach: a full collection otherwise stalls a request
    # for up to 0.6 s under load (measured: service/ops/server.py, which `samverkan run` uses).
    from service.ops.server import freeze_after_loading

    freeze_after_loading()
