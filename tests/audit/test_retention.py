"""Disposal only under a decision, leaving the chain verifiable; the daily anchor; access-log retention."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import clock
from service.audit import verify
from service.audit.access_log import purge_expired, record_access, retention_years
from service.audit.anchor import verify_and_anchor
from service.audit.models import AccessLogEntry, AuditChainHead, AuditEvent
from service.audit.retention import DISPOSED, dispose_due, set_disposal_decision
from service.disputes.models import Dispute
from service.transactions import commit_with_retry
from tests.audit import scenarios
from tests.deviations.world import World


def test_nothing_is_disposed_without_a_decision(world: World) -> None:
    dispute = scenarios.dispute_to_county(world)
    clock.advance(timedelta(days=365 * 30))
    assert commit_with_retry(dispose_due) == []
    assert world.db.session.get(Dispute, dispute.id).question == scenarios.dispute_flow.QUESTION


def test_disposal_removes_content_and_records_hashes(world: World) -> None:
    db = world.db
    dispute = scenarios.dispute_to_county(world)
    commit_with_retry(lambda: set_disposal_decision("dispute", 2, "RS 2026-00123", by=None))
    clock.advance(timedelta(days=365))
    assert commit_with_retry(dispose_due) == []  # not yet two years after it was resolved
    clock.advance(timedelta(days=366))
    assert [d.case_id for d in commit_with_retry(lambda: dispose_due(dry_run=True))] == [dispute.id]
    assert [d.case_id for d in commit_with_retry(dispose_due)] == [dispute.id]
    db.session.expire_all()
    disposed = db.session.get(Dispute, dispute.id)
    assert (disposed.question, disposed.decision) == (DISPOSED, DISPOSED)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dispute.disposed")).one()
    removed = event.data["removed_sha256"]
    assert removed["question"] == hashlib.sha256(scenarios.dispute_flow.QUESTION.encode()).hexdigest()
    assert event.data["decision"] == "RS 2026-00123"
    assert commit_with_retry(dispose_due) == []  # once
    assert verify().is_intact


def test_anchor_file_holds_the_chain_head(world: World, app: Flask, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    scenarios.dispute_to_county(world)
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_DIR", str(tmp_path))
    assert commit_with_retry(verify_and_anchor).is_intact
    head = world.db.session.get(AuditChainHead, 1)
    line = json.loads(next(tmp_path.glob("anchor-*.jsonl")).read_text().splitlines()[-1])
    assert (line["seq"], line["hash"]) == (head.seq, head.hash)


def test_access_log_is_kept_five_years_and_shorter_is_refused(db: Any, app: Flask) -> None:
    record_access(None, "dispute", 1, "history")
    db.session.commit()
    clock.advance(timedelta(days=365 * 5))
    try:
        assert commit_with_retry(purge_expired) == 0
        clock.advance(timedelta(days=366 * 1 + 10))
        assert commit_with_retry(purge_expired) == 1
    finally:
        clock.reset()
    assert db.session.scalars(select(AccessLogEntry)).all() == []
    app.config["ACCESS_LOG_RETENTION_YEARS"] = 3
    try:
        with pytest.raises(ValueError, match="minst 5 år"):
            retention_years()
        result = app.test_cli_runner().invoke(args=["audit", "purge-access-log"])
        assert result.exit_code != 0 and "minst 5 år" in result.output
    finally:
        app.config.pop("ACCESS_LOG_RETENTION_YEARS")
