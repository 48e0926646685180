"""The setup commands as the README runs them (issue #18, items 10 and 11): ``deploy`` prints every problem of every
file and finds forms beside the BPMN file; ``seed-demo`` before ``deploy`` says so in one line, and after it prints
its summary and the passwords, not the engine's log."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from service.deviations import demo
from service.parties.models import User
from service.processes.definitions import get_latest_definition
from tests.conftest import ROOT
from tests.processes.test_deploy import stored

BPMN = ROOT / "bpmn"


def test_deploy_prints_every_problem_of_every_file_and_deploys_none(app: Flask, db: Any, tmp_path: Path) -> None:
    adoption = (BPMN / "agreement_adoption.bpmn").read_bytes()
    (tmp_path / "a.bpmn").write_bytes(adoption.replace(b'"agreement-decision.schema.json"', b'"saknas1.json"')
                                      .replace(b'"agreement-consultation.schema.json"', b'"saknas2.json"'))
    dispute = (BPMN / "dispute.bpmn").read_bytes()
    (tmp_path / "b.bpmn").write_bytes(dispute.replace(b'"dispute-line.schema.json"', b'"saknas3.json"'))
    good = BPMN / "deviation.bpmn"

    result = app.test_cli_runner().invoke(args=["deploy", str(good), str(tmp_path / "a.bpmn"), str(tmp_path / "b.bpmn")])

    assert result.exit_code == 1 and "Traceback" not in result.output
    for file, form in (("a.bpmn", "saknas1.json"), ("a.bpmn", "saknas2.json"), ("b.bpmn", "saknas3.json")):
        assert any(line.startswith(f"{file}: avvisad: BPMN-element '") and form in line
                   for line in result.output.splitlines()), (file, form, result.output)
    assert stored(db) == (0, 0)  # not even the good file: all or nothing


def test_deploy_reads_forms_beside_the_bpmn_file_first(app: Flask, db: Any, tmp_path: Path) -> None:
    minutes = json.loads((ROOT / "forms" / "agreement-minutes.schema.json").read_text(encoding="utf-8"))
    (tmp_path / "agreement-minutes.schema.json").write_text(json.dumps({**minutes, "title": "Protokoll (bredvid)"}))
    decision = (ROOT / "forms" / "agreement-decision.schema.json").read_text(encoding="utf-8")
    (tmp_path / "eget-beslut.schema.json").write_text(decision)  # only beside the diagram, not in forms/
    adoption = (BPMN / "agreement_adoption.bpmn").read_bytes()
    (tmp_path / "adoption.bpmn").write_bytes(
        adoption.replace(b'"agreement-decision.schema.json"', b'"eget-beslut.schema.json"'))

    result = app.test_cli_runner().invoke(args=["deploy", str(tmp_path / "adoption.bpmn")])

    assert result.exit_code == 0, result.output
    row = get_latest_definition("agreement_adoption")
    assert row is not None and row.forms["agreement-minutes.schema.json"]["title"] == "Protokoll (bredvid)"
    assert row.forms["eget-beslut.schema.json"] == json.loads(decision)
    assert row.forms["agreement-draft.schema.json"]["title"]  # the others still come from forms/


def test_seed_demo_says_deploy_first_then_prints_only_summary_and_passwords(
        app: Flask, db: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    runner = app.test_cli_runner()
    early = runner.invoke(args=["seed-demo"])
    assert early.exit_code == 1 and early.exception is not None and isinstance(early.exception, SystemExit)
    assert early.output.strip().count("\n") == 0 and "samverkan deploy" in early.output, early.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0  # refused before writing anything

    assert runner.invoke(args=["deploy", *map(str, sorted(BPMN.glob("*.bpmn")))]).exit_code == 0
    monkeypatch.setattr(demo, "REPORTS_PER_MONTH", 1)  # a smaller year, as in tests/deviations/test_demo.py
    monkeypatch.setattr(User, "set_password", lambda self, pw: setattr(
        self, "password_hash", generate_password_hash(pw, method="pbkdf2:sha256:1000")))
    with caplog.at_level(logging.INFO):
        seeded = runner.invoke(args=["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    lines = seeded.output.splitlines()
    header = lines.index("Demoanvändare (lösenorden sätts om varje gång kommandot körs):")
    assert header <= 3, lines[:header]  # a line each for the agreement, the cases and the annual report
    assert len(lines) == header + 1 + db.session.scalar(select(func.count()).select_from(User))
    assert not [record for record in caplog.records if record.name.startswith("spiff")]  # no engine log
