"""Health, readiness, metrics and request ids (service/ops)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from service import audit
from service.ops.logs import JsonFormatter
from service.parties.models import Role
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask
from service.processes.operations import complete_task, start_process
from service.scheduler import heartbeat
from service.scheduler.models import SchedulerHeartbeat
from service.transactions import commit_with_retry

PEER = Path(__file__).resolve().parents[2] / "bench" / "peer"


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def write_beat(db: Any, age_seconds: float = 0) -> None:
    heartbeat.beat("host:1", datetime.now(UTC))
    db.session.commit()
    db.session.execute(update(SchedulerHeartbeat).values(beat_at=datetime.now(UTC) - timedelta(seconds=age_seconds)))
    db.session.commit()


def test_healthz_answers_without_login(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_needs_a_fresh_scheduler_heartbeat(client: Any, db: Any, app: Flask,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    body = client.get("/readyz").get_json()
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["scheduler"]["ok"] is False and client.get("/readyz").status_code == 503
    write_beat(db)
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "ops-test-token")  # the holder is shown to operators only
    response = client.get("/readyz", headers={"Authorization": "Bearer ops-test-token"})
    assert response.status_code == 200 and response.get_json()["checks"]["scheduler"]["holder"] == "host:1"
    write_beat(db, age_seconds=float(app.config["READY_HEARTBEAT_MAX_AGE_SECONDS"]) + 5)
    assert client.get("/readyz").status_code == 503


def test_a_second_beat_updates_the_one_row(db: Any) -> None:
    write_beat(db)
    heartbeat.beat("host:2", datetime.now(UTC))
    db.session.commit()
    assert [row.holder for row in db.session.scalars(select(SchedulerHeartbeat))] == ["host:2"]


def test_the_scheduler_writes_its_heartbeat_when_it_starts(app: Flask, db: Any) -> None:
    from service.scheduler.setup import TimerScheduler

    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        db.session.remove()
        row = heartbeat.last_beat()
        assert row is not None and row.holder == scheduler.holder and heartbeat.age_seconds(row) < 60
    finally:
        scheduler.shutdown()


def test_metrics_count_committed_completions_only(client: Any, db: Any, app: Flask, make_organisation: Any,
                                                  make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    xml = (PEER / "peer.bpmn").read_bytes()
    commit_with_retry(lambda: deploy_definition(xml, "peer.bpmn", PEER, by=None))
    organisation = make_organisation()
    officer = make_user([(organisation, Role.CASE_OFFICER)])
    commit_with_retry(lambda: start_process("peer", by=officer, title="P", data={"organisation_id": organisation.id}))
    task = db.session.scalars(select(HumanTask)).one()
    before = sample("samverkan_task_completions_total")
    complete_task(task.id, {"text": "Utkast"}, by=officer)
    db.session.rollback()  # a rolled-back completion is not counted
    assert sample("samverkan_task_completions_total") == before
    commit_with_retry(lambda: complete_task(task.id, {"text": "Utkast"}, by=officer))
    assert sample("samverkan_task_completions_total") == before + 1
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "ops-test-token")
    text = client.get("/metrics", headers={"Authorization": "Bearer ops-test-token"}).get_data(as_text=True)
    assert "samverkan_task_completions_total" in text and "samverkan_outbox_backlog" in text


def test_a_fired_timer_is_counted_with_its_lateness(db: Any, make_organisation: Any) -> None:
    organisation = make_organisation()
    before = (sample("samverkan_timers_fired_total"), sample("samverkan_timer_lateness_seconds_count"),
              sample("samverkan_timer_lateness_seconds_sum"))
    due = datetime.now(UTC) - timedelta(seconds=2)
    audit.record(None, "timer.fired", organisation, timer="deadline", due_at=due.isoformat())
    db.session.commit()
    assert sample("samverkan_timers_fired_total") == before[0] + 1
    assert sample("samverkan_timer_lateness_seconds_count") == before[1] + 1
    assert sample("samverkan_timer_lateness_seconds_sum") - before[2] >= 2


def test_request_latency_is_observed_per_endpoint(client: Any) -> None:
    labels = {"method": "GET", "endpoint": "ops.healthz", "status": "200"}
    before = REGISTRY.get_sample_value("samverkan_http_request_duration_seconds_count", labels) or 0
    client.get("/healthz")
    assert REGISTRY.get_sample_value("samverkan_http_request_duration_seconds_count", labels) == before + 1


@pytest.mark.parametrize(("sent", "kept"), [("abc-123", True), ("bad id; with spaces", False), ("x" * 200, False)])
def test_request_id_is_kept_when_sane_and_made_otherwise(client: Any, sent: str, kept: bool) -> None:
    returned = client.get("/healthz", headers={"X-Request-Id": sent}).headers["X-Request-Id"]
    assert (returned == sent) is kept and returned


def test_json_log_lines_carry_the_request_id(app: Flask) -> None:
    with app.test_request_context("/"):
        from flask import request

        request.environ["samverkan.request_id"] = "req-7"
        record = logging.LogRecord("service.x", logging.WARNING, __file__, 1, "hej %s", ("åäö",), None)
        record.status = 500
        line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-7" and line["message"] == "hej åäö" and line["status"] == 500
    assert line["level"] == "WARNING"
