"""Prometheus metrics at /metrics through prometheus-client.

Under gunicorn every worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set (deploy/gunicorn.conf.py
sets it before anything imports prometheus_client) each process writes its samples to files there and a scrape
of any worker adds them up. Figures that live in the database (outbox backlog, heartbeat age) are read at scrape
time, so every worker reports the same value.

Task completions and timer firings are counted without touching the packages that do them: the audit events
``task.completed`` and ``timer.fired`` recorded in a transaction are counted once it commits (a rolled-back or
retried attempt counts nothing).

/metrics answers only a scraper sending ``Authorization: Bearer <METRICS_TOKEN>`` (SAMVERKAN_METRICS_TOKEN) or an
administrator's session: 401 otherwise (403 for a signed-in non-administrator). The figures say how busy the
service is and what it runs; they are not for the public.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, abort, request
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from service.audit.operations import recorded
from service.extensions import db
from service.ops.operators import CHALLENGE, may_read_operations, presented_token

bp = Blueprint("ops_metrics", __name__)
_STARTED = "samverkan.metrics_started"

REQUEST_SECONDS = Histogram(
    "samverkan_http_request_duration_seconds", "Time to answer an HTTP request (server side)",
    ["method", "endpoint", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
TASK_COMPLETIONS = Counter("samverkan_task_completions", "User tasks completed (committed)")
TIMERS_FIRED = Counter("samverkan_timers_fired", "BPMN timers fired (committed)")
TIMER_LATENESS = Histogram(
    "samverkan_timer_lateness_seconds", "How long after its due moment a timer fired",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0))


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)


def _start_timer() -> None:
    request.environ[_STARTED] = time.perf_counter()


def _observe(response: Response) -> Response:
    started = request.environ.get(_STARTED)
    if started is not None:
        # The endpoint name, not the path: paths carry ids and would make a series per task.
        REQUEST_SECONDS.labels(request.method, request.endpoint or "unmatched", str(response.status_code)).observe(
            time.perf_counter() - started)
    return response


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics of this deployment (all workers of this host under gunicorn); token or admin only."""
    _require_operator()
    body = generate_latest(_process_registry()) + generate_latest(_database_registry())
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _require_operator() -> None:
    if may_read_operations():
        return
    if current_user.is_authenticated and presented_token() is None:
        abort(403)
    abort(Response("Ange mätvärdesnyckeln: Authorization: Bearer <SAMVERKAN_METRICS_TOKEN>.\n", 401,
                   {"WWW-Authenticate": CHALLENGE}, mimetype="text/plain"))


def _process_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def _database_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return registry


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from service.notifications.models import Notification
        from service.scheduler.heartbeat import age_seconds, last_beat

        backlog = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.sent_at.is_(None)))
        heartbeat = last_beat()
        db.session.rollback()  # end the read transaction: a scrape holds no connection state
        yield GaugeMetricFamily("samverkan_outbox_backlog", "Notifications not yet sent", value=backlog or 0)
        if heartbeat is not None:
            yield GaugeMetricFamily("samverkan_scheduler_heartbeat_age_seconds", "Seconds since the scheduler's last "
                                    "heartbeat", value=age_seconds(heartbeat))


@event.listens_for(Session, "after_commit")
def _count(session: Session) -> None:
    for entry in recorded(session):
        if entry.action == "task.completed":
            TASK_COMPLETIONS.inc()
        elif entry.action == "timer.fired":
            TIMERS_FIRED.inc()
            lateness = _lateness(entry.occurred_at, entry.data)
            if lateness is not None:
                TIMER_LATENESS.observe(lateness)


def _lateness(occurred_at: datetime, data: dict[str, Any]) -> float | None:
    try:
        return max(0.0, (occurred_at - datetime.fromisoformat(str(data["due_at"]))).total_seconds())
    except (KeyError, TypeError, ValueError):
        return None
