"""Process tests stored with a process (issue #22 item 5), on both databases: the page saves, runs and deletes
cases; a deploy that breaks a case is refused naming the case and the element, with nothing stored; the command."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.extensions import db
from service.modeller import operations
from service.parties.models import Role
from service.processes.definitions import deploy_definition, list_versions
from service.processes.test_cases import delete_test_case, list_test_cases, save_test_case
from service.transactions import commit_with_retry
from tests.conftest import csrf_token, login
from tests.security.payloads import IDENTITY_BASES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROCESS = "timer_escalation"
XML = (FIXTURES / "bpmn" / f"{PROCESS}.bpmn").read_text()
FORM = "simple.schema.json"
IN_TIME = {"name": "Besvarad i tid", "start": {"organisation_id": 1, "reminders": 0, "answer_within": "P2D"},
           "steps": [{"task": "answer", "data": {"note": "klart"}}, {"timer": "wait_working_days"}],
           "expect": {"path": ["answer", "wait_working_days"], "end": "done"}}


@pytest.fixture
def owner(make_organisation: Any, make_user: Any) -> Any:
    organisation = make_organisation()
    user = make_user([(organisation, Role.PROCESS_OWNER)], username="owner")
    commit_with_retry(lambda: operations.save_form(FORM, (FIXTURES / "forms" / FORM).read_text(), by=user))
    commit_with_retry(lambda: deploy_definition(XML.encode(), f"{PROCESS}.bpmn", FIXTURES / "forms", by=None))
    return user


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _token(client: FlaskClient) -> str:
    return csrf_token(client.get(f"/processer/{PROCESS}/tester").get_data(as_text=True))


def test_an_owner_saves_runs_edits_and_deletes_a_case_on_the_page(client: FlaskClient, owner: Any) -> None:
    login(client, "owner")
    page = f"/processer/{PROCESS}/tester"
    saved = client.post(page, data={"case": json.dumps(IN_TIME), "csrf_token": _token(client)})
    assert saved.status_code == 302
    assert [row.name for row in list_test_cases(PROCESS)] == ["Besvarad i tid"]
    assert _events("definition.test_saved")[-1].data["name"] == "Besvarad i tid"
    ran = client.post(f"{page}/kor", data={"csrf_token": _token(client)}).get_data(as_text=True)
    assert 'data-test="Besvarad i tid" data-passed="true"' in ran
    wrong = {**IN_TIME, "expect": {"end": "escalated_done"}}
    edited = client.post(page, data={"case": json.dumps(wrong), "replaces": "Besvarad i tid", "csrf_token": _token(client)})
    assert edited.status_code == 302
    ran = client.post(f"{page}/kor", data={"csrf_token": _token(client)}).get_data(as_text=True)
    assert 'data-passed="false"' in ran and "väntade slut i ”escalated_done”" in ran
    deleted = client.post(f"{page}/ta-bort", data={"name": "Besvarad i tid", "csrf_token": _token(client)})
    assert deleted.status_code == 302 and list_test_cases(PROCESS) == []
    assert _events("definition.test_deleted")[-1].data["name"] == "Besvarad i tid"


@pytest.mark.parametrize(("text", "field"), [
    ("{", "case"),
    (json.dumps({**IN_TIME, "expect": {"end": 1}}), "expect/end"),
    (json.dumps({**IN_TIME, "steps": [{"task": "answer", "timer": "deadline"}]}), "steps/0"),
    (json.dumps({**IN_TIME, "name": ""}), "name"),
])
def test_a_bad_case_is_refused_naming_the_field_and_nothing_is_saved(client: FlaskClient, owner: Any, text: str,
                                                                     field: str) -> None:
    login(client, "owner")
    response = client.post(f"/processer/{PROCESS}/tester", data={"case": text, "csrf_token": _token(client)})
    assert response.status_code == 422
    assert f"<code>{field}</code>" in response.get_data(as_text=True)
    assert list_test_cases(PROCESS) == [] and _events("definition.test_saved") == []


def test_a_case_naming_a_person_is_refused_and_nothing_is_saved(client: FlaskClient, owner: Any) -> None:
    """A test case is free text kept with the process: the personal-data guard refuses an identity number in it."""
    birth, serial = IDENTITY_BASES["personnummer"]
    case = {**IN_TIME, "steps": [{"task": "answer", "data": {"note": f"Brukaren {birth[2:]}-{serial}"}}]}
    login(client, "owner")
    response = client.post(f"/processer/{PROCESS}/tester", data={"case": json.dumps(case), "csrf_token": _token(client)})
    assert response.status_code == 422
    assert "personnummer eller samordningsnummer" in response.get_data(as_text=True)
    assert list_test_cases(PROCESS) == [] and _events("definition.test_saved") == []


def test_a_second_case_with_the_same_name_is_refused(owner: Any) -> None:
    commit_with_retry(lambda: save_test_case(PROCESS, json.dumps(IN_TIME), by=owner))
    with pytest.raises(Exception) as refused:
        commit_with_retry(lambda: save_test_case(PROCESS, json.dumps(IN_TIME), by=owner))
    assert list(getattr(refused.value, "fields", {})) == ["name"]


def test_a_deploy_that_breaks_a_case_is_refused_naming_case_and_element(client: FlaskClient, owner: Any) -> None:
    commit_with_retry(lambda: save_test_case(PROCESS, json.dumps(IN_TIME), by=owner))
    login(client, "owner")
    token = csrf_token(client.get(f"/processer/modell?process={PROCESS}").get_data(as_text=True))
    broken = XML.replace('"done"', '"finished"')
    response = client.post("/processer/modell/driftsatt", json={"xml": broken, "comment": "nytt slut"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert "Testfall ”Besvarad i tid”: väntade slut i ”done”, men processen slutade i ”finished”" in response.json["message"]
    assert response.json["problems"][0]["element_id"] == "done"
    assert response.json["tests"][0]["passed"] is False
    assert [row.version for row in list_versions(PROCESS)] == [1]
    fixed = XML.replace('name="Besvara"', 'name="Besvara frågan"')
    response = client.post("/processer/modell/driftsatt", json={"xml": fixed, "comment": "nytt namn"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 201 and response.json["version"] == 2
    assert _events("definition.deployed")[-1].data["tests_passed"] == ["Besvarad i tid"]
    # The cases are stored with the version as they were: deleting or changing one later leaves it as it was.
    assert [case["name"] for case in list_versions(PROCESS)[0].test_cases] == ["Besvarad i tid"]
    assert list_versions(PROCESS)[0].test_cases[0] == {**IN_TIME, "name": "Besvarad i tid"}
    assert list_versions(PROCESS)[1].test_cases == []
    commit_with_retry(lambda: delete_test_case(PROCESS, "Besvarad i tid", by=owner))
    assert [case["name"] for case in list_versions(PROCESS)[0].test_cases] == ["Besvarad i tid"]
    page = client.get(f"/processer/{PROCESS}/versioner").get_data(as_text=True)
    cells = re.findall(r'<td class="version-tests">([^<]*)</td>', page)
    assert cells == ["Besvarad i tid", "inga"]


def test_the_command_runs_the_cases_and_fails_on_a_broken_file(app: Flask, owner: Any, tmp_path: Path) -> None:
    commit_with_retry(lambda: save_test_case(PROCESS, json.dumps(IN_TIME), by=owner))
    runner = app.test_cli_runner()
    passed = runner.invoke(args=["test-process", PROCESS])
    assert passed.exit_code == 0, passed.output
    assert "godkänt: Besvarad i tid" in passed.output
    (tmp_path / "broken.bpmn").write_text(XML.replace('"done"', '"finished"'))
    failed = runner.invoke(args=["test-process", PROCESS, "--file", str(tmp_path / "broken.bpmn")])
    assert failed.exit_code == 1
    assert "UNDERKÄNT: Testfall ”Besvarad i tid”" in failed.output and "BPMN-element 'done'" in failed.output
    assert runner.invoke(args=["test-process", "nope"]).exit_code == 1


def test_the_command_deploy_is_refused_by_a_failing_case(app: Flask, owner: Any, tmp_path: Path) -> None:
    commit_with_retry(lambda: save_test_case(PROCESS, json.dumps(IN_TIME), by=owner))
    (tmp_path / f"{PROCESS}.bpmn").write_text(XML.replace('"done"', '"finished"'))
    result = app.test_cli_runner().invoke(args=["deploy", str(tmp_path / f"{PROCESS}.bpmn")])
    assert result.exit_code == 1 and "Testfall ”Besvarad i tid”" in result.output
    assert [row.version for row in list_versions(PROCESS)] == [1]


def test_only_process_owners_reach_the_tests_page(client: FlaskClient, owner: Any, make_user: Any) -> None:
    make_user([(owner.memberships[0].organisation, Role.CASE_OFFICER)], username="officer")
    login(client, "officer")
    assert client.get(f"/processer/{PROCESS}/tester").status_code == 403
