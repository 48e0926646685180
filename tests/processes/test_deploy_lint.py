"""The modeller's lint (bpmnlint and our rules) runs at deploy too: an error refuses, naming element and rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.errors import BpmnError
from service.parties.models import Role
from service.processes import lint
from service.processes.definitions import list_versions
from tests.conftest import ROOT, csrf_token, login
from tests.processes.test_deploy import ADOPTION, deploy, stored

SHIPPED = sorted((ROOT / "bpmn").glob("*.bpmn"))
FORMS = sorted(path.name for path in (ROOT / "forms").glob("*.json"))
# The first user task of agreement_adoption.bpmn's "Handläggare" lane, in a lane that names no role.
NO_ROLE = ADOPTION.replace(b'name="Handl\xc3\xa4ggare"', b'name="Kaffebryggare"', 1)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_shipped_diagrams_have_no_lint_errors(path: Path) -> None:
    errors = [finding for finding in lint.lint(path.read_bytes(), FORMS) if finding.is_error]
    assert errors == []


def test_lint_finds_the_user_task_in_a_lane_that_is_no_role() -> None:
    found = {(f.element_id, f.rule) for f in lint.lint(NO_ROLE, FORMS) if f.is_error}
    assert ("draft", "samverkan/user-task-lane-role") in found
    assert ("draft", "samverkan/user-task-lane-role") not in {(f.element_id, f.rule) for f in lint.lint(ADOPTION, FORMS)}


def test_deploy_refuses_a_lint_error_naming_element_and_rule(db: Any) -> None:
    with pytest.raises(BpmnError) as refused:
        deploy(NO_ROLE)
    assert refused.value.element_id == "draft"
    assert "samverkan/user-task-lane-role" in refused.value.message and "'draft'" in refused.value.message
    assert stored(db) == (0, 0)


def test_modeller_deploy_answers_422_with_the_rule(client: FlaskClient, make_organisation: Any, make_user: Any) -> None:
    make_user([(make_organisation(), Role.PROCESS_OWNER)], username="owner")
    login(client, "owner")
    token = csrf_token(client.get("/processer/modell").get_data(as_text=True))
    response = client.post("/processer/modell/driftsatt", json={"xml": NO_ROLE.decode(), "comment": "x"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert {"element_id": "draft", "rule": "samverkan/user-task-lane-role"}.items() <= next(
        p for p in response.json["problems"] if p["element_id"] == "draft").items()
    assert list_versions("agreement_adoption") == []
    # The check answers the same list: the server's own lane check gives way to the lint rule's word.
    checked = client.post("/processer/modell/validera", json={"xml": NO_ROLE.decode()}, headers={"X-CSRFToken": token})
    on_draft = [p for p in checked.json["problems"] if p["element_id"] == "draft"]
    assert [p.get("rule") for p in on_draft] == ["samverkan/user-task-lane-role"]


def test_cli_deploy_refuses_a_lint_error(app: Flask, db: Any, tmp_path: Path) -> None:
    broken = tmp_path / "agreement_adoption.bpmn"
    broken.write_bytes(NO_ROLE)
    result = app.test_cli_runner().invoke(args=["deploy", str(broken)])
    assert result.exit_code == 1 and "BPMN-element 'draft'" in result.output
    assert "(regel samverkan/user-task-lane-role)" in result.output
    assert stored(db) == (0, 0)


def test_cli_deploy_counts_the_warnings_of_a_new_version_and_prints_them_on_request(app: Flask, db: Any,
                                                                                     tmp_path: Path) -> None:
    unnamed = tmp_path / "agreement_adoption.bpmn"
    unnamed.write_bytes(ADOPTION.replace('id="draft" name="Ta fram avtalsförslag"'.encode(), b'id="draft"', 1))
    expected = lint.lint_warnings(unnamed.read_bytes(), FORMS)
    assert ("draft", "label-required") in {(w.element_id, w.rule) for w in expected}
    counted = app.test_cli_runner().invoke(args=["deploy", str(unnamed)])
    assert counted.exit_code == 0 and f"{len(expected)} varningar från granskningen" in counted.output
    assert "varning: BPMN-element" not in counted.output
    again = app.test_cli_runner().invoke(args=["deploy", "--warnings", str(unnamed)])
    assert again.exit_code == 0 and "varningar" not in again.output  # unchanged: shown when it was deployed
    unnamed.write_bytes(unnamed.read_bytes().replace(b"</bpmn:definitions>", b"<!-- v2 --></bpmn:definitions>"))
    listed = app.test_cli_runner().invoke(args=["deploy", "--warnings", str(unnamed)])
    assert listed.exit_code == 0, listed.output
    assert "varning: BPMN-element 'draft': " in listed.output and "(regel label-required)" in listed.output
    assert listed.output.count(": varning: ") == len(expected)


def test_without_node_the_deploy_is_refused_saying_so(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lint.shutil, "which", lambda name: None)
    monkeypatch.setattr(lint, "_CACHE", {})
    with pytest.raises(BpmnError) as refused:
        deploy(ADOPTION)
    assert "Node.js" in refused.value.message
    assert stored(db) == (0, 0)


def test_the_deploy_command_runs_no_lint_for_unchanged_files(app: Flask, db: Any, monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    runs: list[str] = []
    real = lint._run
    monkeypatch.setattr(lint, "_run", lambda payload: runs.append(payload) or real(payload))
    monkeypatch.setattr(lint, "_CACHE", {})
    files = [str(path) for path in SHIPPED]
    first = app.test_cli_runner().invoke(args=["deploy", *files])
    assert first.exit_code == 0, first.output
    assert len(runs) >= len(SHIPPED)
    runs.clear()
    monkeypatch.setattr(lint, "_CACHE", {})  # as in a new process (`make run` deploys on every start)
    again = app.test_cli_runner().invoke(args=["deploy", *files])
    assert again.exit_code == 0 and again.output.count("oförändrad") == len(SHIPPED), again.output
    assert runs == []
    # A changed file among them is checked again (and refused here: its user task's lane names no role).
    broken = tmp_path / "agreement_adoption.bpmn"
    broken.write_bytes(NO_ROLE)
    refused = app.test_cli_runner().invoke(args=["deploy", *files[1:], str(broken)])
    assert refused.exit_code == 1 and "samverkan/user-task-lane-role" in refused.output and len(runs) == 1
