"""Modeller pages and operations on both databases: deploy, versions, compare, forms, migration, heat map."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from service import clock
from service.audit.models import AuditEvent
from service.extensions import db
from service.modeller import heatmap, operations
from service.modeller.compare import compare
from service.parties.models import Role
from service.processes import migration
from service.processes.definitions import get_version, list_versions
from service.processes.models import ProcessInstance, TaskStatus
from service.processes.operations import complete_task, start_process
from service.transactions import commit_with_retry
from tests.conftest import csrf_token, login
from tests.modeller.edit import FIXTURES, camunda_ready, element, set_property, to_bytes

PROCESS = "Process_0ysk7yd"
TASK = "Activity_1qa6h3r"
FORM = "request-review.schema.json"


@pytest.fixture
def owner(make_organisation: Any, make_user: Any) -> Any:
    organisation = make_organisation()
    user = make_user([(organisation, Role.PROCESS_OWNER), (organisation, Role.CASE_OFFICER)], username="owner")
    commit_with_retry(lambda: operations.save_form(FORM, (FIXTURES / FORM).read_text(), by=user))
    return user


def _deploy(xml: bytes, owner: Any, comment: str = "test") -> Any:
    return commit_with_retry(lambda: operations.deploy_xml(xml, "request.bpmn", comment, by=owner))[0]


def _start(owner: Any) -> ProcessInstance:
    organisation_id = owner.memberships[0].organisation_id
    return commit_with_retry(lambda: start_process(PROCESS, by=owner, title="Begäran", data={"organisation_id": organisation_id}))


def test_standard_bpmn_from_another_modeller_deploys_and_runs(owner: Any) -> None:
    raw = (FIXTURES / "camunda_request.bpmn").read_bytes()
    assert {p.element_id for p in operations.validate_xml(raw, "request.bpmn")} == {TASK}
    row = _deploy(to_bytes(camunda_ready()), owner, "från Camunda Modeler")
    instance = _start(owner)
    task = instance.tasks[0]
    assert (task.bpmn_id, task.form, task.role) == (TASK, FORM, Role.CASE_OFFICER)
    assert task.due_at is not None
    commit_with_retry(lambda: complete_task(task.id, {"approved": True}, by=owner))
    assert instance.status == "completed" and row.version == 1
    assert row.forms[FORM]["title"] == "Pröva begäran"  # the DB form went out with the version


def test_deploy_refused_lists_problems_and_changes_nothing(client: FlaskClient, owner: Any) -> None:
    login(client, "owner")
    root = camunda_ready()
    set_property(root, TASK, "formJsonSchemaFilename", None)
    token = csrf_token(client.get("/processer/modell").get_data(as_text=True))
    response = client.post("/processer/modell/driftsatt", json={"xml": to_bytes(root).decode(), "comment": "x"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert response.json["problems"][0]["element_id"] == TASK
    assert list_versions(PROCESS) == []


def test_deploy_creates_versions_with_author_and_comment(client: FlaskClient, owner: Any) -> None:
    login(client, "owner")
    token = csrf_token(client.get("/processer/modell").get_data(as_text=True))
    root = camunda_ready()
    for days, comment in (("5", "första"), ("8", "längre svarstid")):
        set_property(root, TASK, "dueInWorkingDays", days)
        response = client.post("/processer/modell/driftsatt", json={"xml": to_bytes(root).decode(), "comment": comment},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 201, response.json
    page = client.get(f"/processer/{PROCESS}/versioner").get_data(as_text=True)
    assert "längre svarstid" in page and owner.display_name in page
    compared = client.get(f"/processer/{PROCESS}/jamfor?a=1&b=2").get_data(as_text=True)
    assert "Svarstid (arbetsdagar)" in compared and '"Activity_1qa6h3r": "changed"' in compared


def test_others_may_not_open_the_modeller(client: FlaskClient, make_organisation: Any, make_user: Any) -> None:
    organisation = make_organisation()
    make_user([(organisation, Role.CASE_OFFICER)], username="officer")
    make_user([(organisation, Role.AUDITOR)], username="auditor")
    login(client, "officer")
    assert client.get("/processer/modell").status_code == 403
    assert client.get("/processer/").status_code == 403
    login(client, "auditor")
    assert client.get("/processer/").status_code == 200
    assert client.get("/processer/modell").status_code == 403


def test_compare_names_added_removed_and_changed() -> None:
    old = camunda_ready()
    new = camunda_ready()
    set_property(new, TASK, "dueInWorkingDays", "8")
    element(new, "Event_0l7y3vd").set("name", "Beviljad!")
    element(new, "Flow_0g6d7nc").find("{http://www.omg.org/spec/BPMN/20100524/MODEL}conditionExpression").text = "approved"
    process = element(new, PROCESS)
    process.remove(element(new, "Event_1b0m6tq"))
    etree.SubElement(process, "{http://www.omg.org/spec/BPMN/20100524/MODEL}task", id="Activity_new", name="Ny")
    changes = {(c.element_id, c.kind, c.aspect): (c.before, c.after) for c in compare(to_bytes(old), to_bytes(new))}
    assert changes[(TASK, "changed", "dueInWorkingDays")] == ("5", "8")
    assert changes[("Event_0l7y3vd", "changed", "name")] == ("Beviljad", "Beviljad!")
    assert changes[("Flow_0g6d7nc", "changed", "condition")] == ("approved == True", "approved")
    assert ("Event_1b0m6tq", "removed", "") in changes and ("Activity_new", "added", "") in changes


def test_invalid_form_schema_is_refused_with_the_reason(client: FlaskClient, owner: Any) -> None:
    login(client, "owner")
    page = client.get(f"/processer/formular/{FORM}").get_data(as_text=True)
    bad = json.dumps({"type": "object", "properties": {"x": {"type": "strng"}}})
    response = client.post(f"/processer/formular/{FORM}", data={"schema": bad, "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert "ogiltigt JSON Schema" in response.get_data(as_text=True)
    assert operations.get_form(FORM)["title"] == "Pröva begäran"  # unchanged
    good = json.dumps({"type": "object", "properties": {"approved": {"type": "boolean", "title": "Ja?"}}})
    preview = client.post("/processer/formular/forhandsvisning", data={"schema": good, "csrf_token": csrf_token(page)})
    assert 'name="approved"' in preview.get_data(as_text=True)


def test_migration_dry_run_then_safe_migration(owner: Any) -> None:
    _deploy(to_bytes(camunda_ready()), owner)
    instance = _start(owner)
    root = camunda_ready()
    element(root, TASK).set("name", "Pröva begäran noga")
    set_property(root, TASK, "dueInWorkingDays", "8")
    v2 = _deploy(to_bytes(root), owner, "v2")
    dry = commit_with_retry(lambda: migration.migrate_instances([instance.id], v2, by=owner, dry_run=True))
    assert dry[0].is_safe and not dry[0].is_done
    assert db.session.get(ProcessInstance, instance.id).definition.version == 1
    done = commit_with_retry(lambda: migration.migrate_instances([instance.id], v2, by=owner, dry_run=False))
    assert done[0].is_done
    instance = db.session.get(ProcessInstance, instance.id)
    task = instance.tasks[0]
    assert instance.definition.version == 2 and task.name == "Pröva begäran noga" and task.status == TaskStatus.READY
    commit_with_retry(lambda: complete_task(task.id, {"approved": False}, by=owner))
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
    actions = [e.action for e in AuditEvent.query.filter_by(instance_id=instance.id)]
    assert "instance.migrated" in actions


def test_migration_refused_when_the_waiting_task_is_gone(owner: Any) -> None:
    _deploy(to_bytes(camunda_ready()), owner)
    instance = _start(owner)
    xml = to_bytes(camunda_ready()).replace(TASK.encode(), b"Activity_0renamed")
    v2 = _deploy(xml, owner, "nytt id")
    results = commit_with_retry(lambda: migration.migrate_instances([instance.id], v2, by=owner, dry_run=False))
    assert not results[0].is_safe and not results[0].is_done
    assert any(TASK in reason and "saknas" in reason for reason in results[0].refusals)
    instance = db.session.get(ProcessInstance, instance.id)
    assert instance.definition.version == 1 and instance.tasks[0].status == TaskStatus.READY
    refused = AuditEvent.query.filter_by(instance_id=instance.id, action="instance.migration_refused").one()
    assert refused.data["reasons"] == results[0].refusals


def test_heat_map_figures_on_a_known_history(owner: Any) -> None:
    row = _deploy(to_bytes(camunda_ready()), owner)
    start = clock.now()
    clock.freeze(start)
    instances = []
    for hours in (1, 2, 10):
        clock.freeze(start)
        instance = _start(owner)
        clock.freeze(start + timedelta(hours=hours))
        commit_with_retry(lambda instance=instance: complete_task(instance.tasks[0].id, {"approved": True}, by=owner))
        instances.append(instance)
    clock.freeze(start)
    _start(owner)  # one still waiting
    clock.reset()
    figures = heatmap.figures(get_version(PROCESS, row.version))
    assert figures[TASK] == heatmap.ElementFigures(passed=3, waiting=1, median_hours=2.0, p90_hours=10.0)
    assert figures["StartEvent_1"].passed == 4 and figures["Event_0l7y3vd"].passed == 3
    assert figures["Gateway_0r8w2ke"].passed == 3 and "Event_1b0m6tq" not in figures


def test_draft_is_saved_per_author(client: FlaskClient, owner: Any) -> None:
    login(client, "owner")
    token = csrf_token(client.get("/processer/modell").get_data(as_text=True))
    response = client.post("/processer/modell/utkast", json={"xml": to_bytes(camunda_ready()).decode()},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    draft = operations.get_draft(PROCESS, owner)
    assert draft is not None and TASK in draft.bpmn_xml
    assert "definition.draft_saved" in db.session.scalars(select(AuditEvent.action)).all()
