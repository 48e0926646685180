"""Import of other tools' models (#22 item 7): a SpiffArena model with three user tasks and JSON-Schema forms
beside it (tests/fixtures/spiffarena/) is mapped lane by lane to our roles, deployed and run to its end; refusals
name the field or BPMN element and store nothing."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.engine.specs import NS
from service.errors import ValidationFailed
from service.extensions import db as _db
from service.modeller import imports, uploads
from service.modeller.models import EditedForm
from service.parties.models import Role
from service.processes.definitions import get_latest_definition
from service.processes.models import ProcessDefinition, ProcessInstance
from service.processes.operations import start_process
from service.transactions import commit_with_retry
from tests.conftest import ROOT, csrf_token, login
from tests.crawl.untranslated import untranslated_texts
from tests.modeller.edit import FIXTURES
from tests.security.payloads import IDENTITY_BASES

SPIFFARENA = ROOT / "tests" / "fixtures" / "spiffarena"
MODEL = "meeting-request.bpmn"
PROCESS = "meeting_request"


@pytest.fixture
def world(make_organisation: Any, make_user: Any) -> dict[str, Any]:
    """Alingsås (the case's organisation: its officer describes and books) and the region (whose manager approves)."""
    alingsas, region = make_organisation(name="Alingsås kommun"), make_organisation(name="Västra Götalandsregionen")
    return {
        "alingsas": alingsas, "region": region,
        "owner": make_user([(alingsas, Role.PROCESS_OWNER)], username="owner"),
        "officer": make_user([(alingsas, Role.CASE_OFFICER)], username="officer"),
        "manager": make_user([(region, Role.MANAGER)], username="manager"),
        "other_manager": make_user([(alingsas, Role.MANAGER)], username="other_manager"),
    }


def _files(*leave_out: str) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted(SPIFFARENA.iterdir()) if path.name not in leave_out]


def _upload(client: FlaskClient, files: list[tuple[str, bytes]]) -> Any:
    token = csrf_token(client.get("/processer/importera").get_data(as_text=True))
    data = {"csrf_token": token, "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/processer/importera", data=data, content_type="multipart/form-data")


def _mapping(world: dict[str, Any], **overrides: str) -> dict[str, str]:
    fields = {"role:describe_request": "case_officer", "organisation:describe_request": "case",
              "role:Finance": "manager", "organisation:Finance": str(world["region"].id),
              "role:book_meeting": "case_officer", "organisation:book_meeting": "case"}
    return {**fields, **overrides}


def _import(client: FlaskClient, page: str, fields: dict[str, str]) -> Any:
    bundle = html.unescape(re.search(r'name="bundle" value="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    return client.post("/processer/importera/driftsatt",
                       data={"csrf_token": csrf_token(page), "bundle": bundle, "comment": "från SpiffArena", **fields})


def _nothing_stored() -> None:
    assert _db.session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0
    assert _db.session.scalar(select(func.count()).select_from(EditedForm)) == 0
    actions = _db.session.scalars(select(AuditEvent.action)).all()
    assert not [a for a in actions if a.startswith("definition.") or a == "form.saved"]


def _complete(client: FlaskClient, username: str, task_id: int, fields: dict[str, str]) -> Any:
    login(client, username)
    page = client.get(f"/uppgifter/{task_id}")
    assert page.status_code == 200, username
    return client.post(f"/uppgifter/{task_id}", data={**fields, "_action": "complete",
                                                      "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_spiffarena_model_imports_through_the_mapping_and_runs(client: FlaskClient, world: dict[str, Any]) -> None:
    login(client, "owner")
    response = _upload(client, _files())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for shown in ("Describe the meeting", "Approve the cost", "Book the meeting", "ingen bana", "Finance",
                  "describe-request-uischema.json"):
        assert shown in page
    assert "saknas bland de uppladdade filerna" not in page
    response = _import(client, page, _mapping(world))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/processer/{PROCESS}/versioner")
    versions = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "från SpiffArena" in versions and "version 1" in versions

    row = get_latest_definition(PROCESS)
    assert row is not None and row.version == 1
    root = etree.fromstring(row.bpmn_xml.encode())
    assert sorted(lane.get("name") for lane in root.iterfind(".//bpmn:lane", NS)) == ["Chef", "Handläggare"]
    assert row.forms["describe-request-schema.json"]["properties"]["background"]["x-widget"] == "textarea"
    assert list(row.forms["describe-request-schema.json"]["properties"]) == ["topic", "background", "attendees"]
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "definition.imported"))
    assert event is not None and event.data["mapping"]["Finance"] == f"manager@{world['region'].id}"

    alingsas = world["alingsas"]
    instance = commit_with_retry(lambda: start_process(PROCESS, by=world["officer"], title="Möte om hjälpmedel",
                                                       data={"organisation_id": alingsas.id}))
    instance_id = instance.id
    describe = instance.tasks[0]
    assert (describe.bpmn_id, describe.role, describe.organisation_id) == ("describe_request", Role.CASE_OFFICER, alingsas.id)
    response = _complete(client, "officer", describe.id, {"topic": "Hjälpmedel", "attendees": "4", "background": "Oklart"})
    assert response.status_code == 302

    approve = _open_task(instance_id)
    assert (approve.bpmn_id, approve.role, approve.organisation_id) == ("approve_request", Role.MANAGER, world["region"].id)
    login(client, "other_manager")  # a manager, but in Alingsås: the task is the region's
    assert client.get(f"/uppgifter/{approve.id}").status_code in (403, 404)
    assert _complete(client, "manager", approve.id, {"approved": "true"}).status_code == 302

    book = _open_task(instance_id)
    assert (book.bpmn_id, book.role, book.organisation_id) == ("book_meeting", Role.CASE_OFFICER, alingsas.id)
    assert _complete(client, "officer", book.id, {"meeting_date": "2026-02-10", "room": "Stora salen"}).status_code == 302
    finished = _db.session.get(ProcessInstance, instance_id)
    _db.session.refresh(finished)
    assert finished.status == "completed"


def _open_task(instance_id: int) -> Any:
    _db.session.expire_all()
    instance = _db.session.get(ProcessInstance, instance_id)
    ready = [task for task in instance.tasks if task.is_ready]
    assert len(ready) == 1, [t.bpmn_id for t in instance.tasks]
    return ready[0]


def test_a_zip_is_read_like_the_files(client: FlaskClient, world: dict[str, Any]) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, content in _files():
            zipped.writestr(f"meeting-request/{name}", content)
    login(client, "owner")
    response = _upload(client, [("meeting-request.zip", archive.getvalue())])
    assert response.status_code == 200 and "Book the meeting" in response.get_data(as_text=True)
    assert _import(client, response.get_data(as_text=True), _mapping(world)).status_code == 302
    assert get_latest_definition(PROCESS) is not None


@pytest.mark.parametrize(("leave_out", "fields", "named"), [
    ("book-meeting-schema.json", {}, ["book_meeting", "book-meeting-schema.json"]),
    ("describe-request-uischema.json", {}, ["describe_request", "describe-request-uischema.json"]),
    ("", {"role:Finance": ""}, ["Finance"]),
    ("", {"role:Finance": "finance_approver"}, ["finance_approver", "Finance"]),
    ("", {"role:Finance": "auditor"}, ["auditor", "Finance"]),
    ("", {"organisation:Finance": "999999"}, ["999999", "Finance"]),
    ("", {"organisation:book_meeting": ""}, ["Book the meeting"]),
], ids=["missing form", "missing ui schema", "unmapped lane", "unknown role", "auditor", "no such organisation",
        "no organisation"])
def test_refusals_name_the_field_or_element_and_store_nothing(client: FlaskClient, world: dict[str, Any], leave_out: str,
                                                              fields: dict[str, str], named: list[str]) -> None:
    login(client, "owner")
    page = _upload(client, _files(leave_out)).get_data(as_text=True)
    if leave_out:
        assert "saknas bland de uppladdade filerna" in page  # shown before the import is tried
    response = _import(client, page, _mapping(world, **fields))
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert all(name in text for name in named), text
    assert "Modellen importerades inte" in text and 'name="bundle"' in text  # the mapping page again, to correct
    _nothing_stored()


def test_a_form_naming_a_person_is_refused_and_nothing_is_stored(client: FlaskClient, world: dict[str, Any]) -> None:
    """The model and its forms are kept with every version: the personal-data guard reads them at the import."""
    birth, serial = IDENTITY_BASES["personnummer"]
    files = []
    for name, content in _files():
        if name.endswith(".json") and b'"title"' in content and not _names_a_person(files):
            schema = json.loads(content)
            schema["title"] = f"{schema.get('title', '')} (exempel: {birth}-{serial})"
            content = json.dumps(schema).encode()
        files.append((name, content))
    assert _names_a_person(files)
    login(client, "owner")
    response = _import(client, _upload(client, files).get_data(as_text=True), _mapping(world))
    assert response.status_code == 422
    assert "personnummer eller samordningsnummer" in html.unescape(response.get_data(as_text=True))
    _nothing_stored()


def _names_a_person(files: list[tuple[str, bytes]]) -> bool:
    return any(b"(exempel: " in content for _name, content in files)


def test_bad_uploads_are_refused(client: FlaskClient, world: dict[str, Any]) -> None:
    login(client, "owner")
    assert _upload(client, _files(MODEL)).status_code == 422  # no model
    two = [*_files(), ("other.bpmn", (SPIFFARENA / MODEL).read_bytes())]
    assert "other.bpmn" in _upload(client, two).get_data(as_text=True)
    assert _upload(client, [("model.zip", b"not a zip")]).status_code == 422
    broken = _upload(client, [(MODEL, b"<bpmn:definitions")])
    assert broken.status_code == 422 and "ogiltig XML" in broken.get_data(as_text=True)
    token = csrf_token(client.get("/processer/importera").get_data(as_text=True))
    assert client.post("/processer/importera/driftsatt", data={"csrf_token": token, "bundle": "{"}).status_code == 422
    _nothing_stored()


def test_only_process_owners_import(client: FlaskClient, world: dict[str, Any]) -> None:
    login(client, "officer")
    assert client.get("/processer/importera").status_code == 403
    login(client, "owner")
    assert "/processer/importera" in client.get("/processer/").get_data(as_text=True)


def test_a_deploy_check_refuses_the_imported_model_naming_the_element(client: FlaskClient, world: dict[str, Any]) -> None:
    files = [(name, content.replace(b"estimated_cost = attendees * 250", b"import os"))
             for name, content in _files()]
    login(client, "owner")
    response = _import(client, _upload(client, files).get_data(as_text=True), _mapping(world))
    assert response.status_code == 422 and "Estimate the cost (estimate_cost)" in html.unescape(response.get_data(as_text=True))
    _nothing_stored()


def test_a_form_of_another_process_is_not_replaced(world: dict[str, Any]) -> None:
    bundle = uploads.read_uploads(_files())
    chosen = {"describe_request": ("case_officer", "case"), "Finance": ("manager", str(world["region"].id)),
              "book_meeting": ("Handläggare", "Alingsås kommun")}
    commit_with_retry(lambda: imports.import_model(bundle, chosen, by=world["owner"]))
    other = uploads.Bundle("other.bpmn", bundle.xml.replace(b'"meeting_request"', b'"other_request"'),
                           {**bundle.files, "book-meeting-schema.json": '{"type": "object", "properties": {}}'})
    with pytest.raises(ValidationFailed) as refused:
        commit_with_retry(lambda: imports.import_model(other, chosen, by=world["owner"]))
    assert "book-meeting-schema.json" in str(refused.value.fields) and PROCESS in str(refused.value.fields)
    assert get_latest_definition("other_request") is None


def test_camunda_model_gets_a_form_and_a_lane_role(world: dict[str, Any]) -> None:
    bundle = uploads.read_uploads([("camunda_request.bpmn", (FIXTURES / "camunda_request.bpmn").read_bytes()),
                                   ("request-review.schema.json", (FIXTURES / "request-review.schema.json").read_bytes())])
    found = imports.preview(bundle)
    assert [(t.bpmn_id, t.lane, t.form) for t in found.tasks] == [("Activity_1qa6h3r", "Mottagare", None)]
    row, _ = commit_with_retry(lambda: imports.import_model(
        bundle, {"Mottagare": ("case_officer", "case")}, by=world["owner"],
        chosen_forms={"Activity_1qa6h3r": "request-review.schema.json"}))
    instance = commit_with_retry(lambda: start_process(row.process_id, by=world["officer"], title="Begäran",
                                                       data={"organisation_id": world["alingsas"].id}))
    task = instance.tasks[0]
    assert (task.form, task.role, task.organisation_id) == ("request-review.schema.json", Role.CASE_OFFICER,
                                                            world["alingsas"].id)


def test_the_command_lists_the_tasks_then_imports(app: Any, world: dict[str, Any], tmp_path: Path) -> None:
    for name, content in _files():
        (tmp_path / name).write_bytes(content)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["import", str(tmp_path / MODEL)])
    assert listed.exit_code == 1
    assert "describe_request 'Describe the meeting': ingen bana" in listed.output and "'Finance'" in listed.output
    assert get_latest_definition(PROCESS) is None
    result = runner.invoke(args=["import", str(tmp_path / MODEL), "--map", "describe_request=case_officer",
                                 "--map", "Finance=Chef@Västra Götalandsregionen", "--map", "book_meeting=case_officer@case"])
    assert result.exit_code == 0, result.output
    assert f"{PROCESS} importerad och driftsatt som version 1" in result.output


def test_the_mapping_page_and_its_refusals_read_in_english(client: FlaskClient, world: dict[str, Any]) -> None:
    login(client, "owner")
    token = csrf_token(client.get("/processer/importera").get_data(as_text=True))
    client.post("/sprak", data={"language": "en", "csrf_token": token})
    page = _upload(client, _files("book-meeting-schema.json")).get_data(as_text=True)
    assert "no lane" in page and "missing from the uploaded files" in page
    allow = [world["alingsas"].name, world["region"].name, "Describe the meeting", "Approve the cost",
             "Book the meeting", "Request a collaboration meeting"]
    assert untranslated_texts(page, allow) == []
    refused = _import(client, page, _mapping(world, **{"role:Finance": "", "organisation:describe_request": "0"}))
    text = html.unescape(refused.get_data(as_text=True))
    assert "Choose a role for 'Finance'." in text and "The organisation '0' does not exist" in text


def _two_pools() -> list[tuple[str, bytes]]:
    """The SpiffArena model with a second executable pool beside it (a collaboration of two processes)."""
    text = (SPIFFARENA / MODEL).read_text(encoding="utf-8")
    text = text.replace('</bpmn:collaboration>', '<bpmn:participant id="Participant_notes" name="Notes" '
                                                 'processRef="meeting_notes" />\n  </bpmn:collaboration>', 1)
    second = ('<bpmn:process id="meeting_notes" name="Anteckningar" isExecutable="true">'
              '<bpmn:startEvent id="notes_start"><bpmn:outgoing>notes_flow</bpmn:outgoing></bpmn:startEvent>'
              '<bpmn:sequenceFlow id="notes_flow" sourceRef="notes_start" targetRef="notes_end" />'
              '<bpmn:endEvent id="notes_end"><bpmn:incoming>notes_flow</bpmn:incoming></bpmn:endEvent>'
              '</bpmn:process>\n  <bpmndi:BPMNDiagram')
    text = text.replace("<bpmndi:BPMNDiagram", second, 1)
    return [(name, text.encode() if name == MODEL else content) for name, content in _files()]


def test_a_file_with_two_pools_asks_which_starts_the_case_and_imports_it(client: FlaskClient,
                                                                         world: dict[str, Any]) -> None:
    login(client, "owner")
    refused = _upload(client, _two_pools())
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Request a collaboration meeting (meeting_request)" in page and "Anteckningar (meeting_notes)" in page
    _nothing_stored()
    bundle = html.unescape(re.search(r'name="bundle" value="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    not_a_process = client.post("/processer/importera", data={"csrf_token": csrf_token(page), "bundle": bundle,
                                                              "process_id": "finance"})
    assert not_a_process.status_code == 422 and "'finance'" in html.unescape(not_a_process.get_data(as_text=True))
    chosen = client.post("/processer/importera", data={"csrf_token": csrf_token(page), "bundle": bundle,
                                                       "process_id": PROCESS})
    mapping = chosen.get_data(as_text=True)
    assert chosen.status_code == 200 and 'name="process_id" value="meeting_request"' in mapping
    deployed = _import(client, mapping, {**_mapping(world), "process_id": PROCESS})
    assert deployed.status_code == 302, deployed.get_data(as_text=True)
    row = get_latest_definition(PROCESS)
    assert row is not None and row.version == 1 and get_latest_definition("meeting_notes") is None


def test_the_command_takes_the_starting_process(app: Any, world: dict[str, Any], tmp_path: Path) -> None:
    for name, content in _two_pools():
        (tmp_path / name).write_bytes(content)
    runner = app.test_cli_runner()
    mappings = ["--map", "describe_request=case_officer", "--map", "Finance=Chef@Västra Götalandsregionen",
                "--map", "book_meeting=case_officer@case"]
    refused = runner.invoke(args=["import", str(tmp_path / MODEL), *mappings])
    assert refused.exit_code == 1 and "'meeting_notes' (Anteckningar)" in refused.output
    assert get_latest_definition(PROCESS) is None
    result = runner.invoke(args=["import", str(tmp_path / MODEL), "--process", PROCESS, *mappings])
    assert result.exit_code == 0, result.output
    assert f"{PROCESS} importerad och driftsatt som version 1" in result.output
