"""Liveness and readiness for load balancers and orchestrators, without login: so they tell an anonymous caller
no more than "up" and "ready" (which checks pass). The scheduler's holder (host and process id), ages and error
names are for the metrics token or an administrator's session (service/ops/operators.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import text

from service.extensions import db
from service.ops.operators import may_read_operations

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """Answer while the process is up (touches nothing else)."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Ready when the database answers and the scheduler's heartbeat is fresh; 503 naming what is not."""
    checks = {"database": _database(), "scheduler": _scheduler()}
    is_ready = all(check["ok"] for check in checks.values())
    if not may_read_operations():
        checks = {name: {"ok": check["ok"]} for name, check in checks.items()}
    return {"status": "ready" if is_ready else "not ready", "checks": checks}, 200 if is_ready else 503


def _database() -> dict[str, Any]:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # any driver error means "not reachable"; say which
        return {"ok": False, "error": type(exc).__name__}
    finally:
        db.session.rollback()


def _scheduler() -> dict[str, Any]:
    from service.scheduler.heartbeat import age_seconds, last_beat

    try:
        heartbeat = last_beat()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    finally:
        db.session.rollback()
    if heartbeat is None:
        return {"ok": False, "error": "no scheduler has run on this database"}
    age, limit = age_seconds(heartbeat), float(current_app.config["READY_HEARTBEAT_MAX_AGE_SECONDS"])
    return {"ok": age <= limit, "holder": heartbeat.holder, "age_seconds": round(age, 1), "max_age_seconds": limit}
