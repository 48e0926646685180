"""Finding 3 of issue #17: no personnummer or samordningsnummer in anything a user or API client writes.

Every way of writing one (tests/security/payloads.py, section 3) is found; numbers that are not identity
numbers pass. Posted into each kind of free-text field, through the web pages and the API, each is refused
with a 4xx naming the field, and no row is written (audit events included); the same request with clean
text is accepted, so each surface is one that stores. The audit log refuses such a value on its own (the
CLI and the scheduler write without a request), and no task data reaches the logs.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import audit
from service.agreements.models import Agreement
from service.audit.models import AuditEvent
from service.errors import ValidationFailed
from service.inbox.models import Attachment, CaseComment, SavedFilter
from service.parties.models import Organisation
from service.processes.models import HumanTask, ProcessInstance
from service.security.personal_data import find_identity_numbers
from service.transactions import commit_with_retry
from tests.api.conftest import ApiWorld, api, problem_fields, simple_process  # noqa: F401 (fixtures)
from tests.conftest import Parties, csrf_token, draft_data, login
from tests.inbox.conftest import VALID, signed_in
from tests.inbox.conftest import World as InboxWorld
from tests.inbox.conftest import world as inbox_world  # noqa: F401 (fixture)
from tests.security.payloads import IDENTITY_BASES, IDENTITY_NUMBERS, NOT_IDENTITY_NUMBERS, luhn_check_digit

PAYLOADS = list(IDENTITY_NUMBERS.items())
SURFACE_SHARE = 8  # each HTTP surface gets every 8th payload (a different eighth each): all of them, between them


def sample(offset: int) -> list[str]:
    """A share of the payloads, every separator kind among them in turn, wrapped in ordinary case text."""
    return [f"Brukaren, {text}, skrevs ut." for _name, text in PAYLOADS[offset % SURFACE_SHARE::SURFACE_SHARE]]


def count_rows(db: Any, *models: Any) -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(int(db.session.scalar(select(func.count()).select_from(m))) for m in (*models, AuditEvent))


# --- The detector ---------------------------------------------------------------------------------------


def test_the_oracle_agrees_the_bases_are_identity_numbers() -> None:
    for birth, serial in IDENTITY_BASES.values():
        assert luhn_check_digit(birth[2:] + serial[:3]) == serial[3]


@pytest.mark.parametrize(("name", "text"), PAYLOADS, ids=[name for name, _ in PAYLOADS])
def test_every_way_of_writing_an_identity_number_is_found(name: str, text: str) -> None:
    [finding] = find_identity_numbers(f"Brukaren, {text}, skrevs ut.")
    assert finding.line == 1 and finding.first_column == 11
    assert finding.masked.endswith("****")


@pytest.mark.parametrize(("name", "text"), NOT_IDENTITY_NUMBERS.items(), ids=list(NOT_IDENTITY_NUMBERS))
def test_numbers_that_are_not_identity_numbers_pass(name: str, text: str) -> None:
    assert find_identity_numbers(f"Se {text} i ärendet.") == []


def test_the_place_is_given_in_the_text_as_written() -> None:
    [finding] = find_identity_numbers("Första raden.\nAndra: 81\u200b12\u200b28\u2011" + IDENTITY_BASES["personnummer"][1])
    assert finding.describe() == "rad 2, tecken 8–20" and finding.masked == "811228-****"


def test_a_number_beside_a_generated_id_is_still_found() -> None:
    birth, serial = IDENTITY_BASES["personnummer"]
    uuid = f"{birth[2:]}{serial[:2]}-{serial[2:]}ab-4c1d-9e2f-0123456789ab"
    [finding] = find_identity_numbers(f"Uppgift {uuid}: {birth[2:]}-{serial}")
    assert finding.first_column == len(f"Uppgift {uuid}: ") + 1 and finding.masked == f"{birth[2:]}-****"


# --- The web pages ----------------------------------------------------------------------------------------


@pytest.fixture
def inbox(request: pytest.FixtureRequest, db: Any) -> InboxWorld:
    """tests/inbox's world (its fixture ``world`` here under another name)."""
    found: InboxWorld = request.getfixturevalue("inbox_world")
    return found


class Browser:
    """A signed-in client that posts forms with its CSRF token."""

    def __init__(self, app: Flask, username: str) -> None:
        self.client: FlaskClient = signed_in(app, username)
        self.token = csrf_token(self.client.get("/uppgifter").get_data(as_text=True))

    def post(self, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post(url, data={**data, "csrf_token": self.token}, **kwargs)


def refuses_all(db: Any, models: tuple[Any, ...], texts: list[str], send: Callable[[str], Any], field: str) -> None:
    """Each text is refused (422) naming ``field``; no row of ``models`` or of the audit log is written."""
    before = count_rows(db, *models)
    for text in texts:
        response = send(text)
        assert response.status_code == 422, (text, response.status_code)
        body = response.get_data(as_text=True)
        assert field in body and "personnummer eller samordningsnummer" in body, (text, body[-3000:])
        assert "rad 1, tecken" in body, text
    assert count_rows(db, *models) == before


def test_comments_on_a_case(app: Flask, db: Any, inbox: InboxWorld) -> None:
    task, alice = inbox.start(), Browser(app, "alice")
    url = f"/arenden/instance/{task.instance_id}/kommentarer"
    before = count_rows(db, CaseComment)
    assert alice.post(url, {"text": "Budgeten saknar bilaga 2."}).status_code == 302
    assert count_rows(db, CaseComment) != before  # the surface stores: a comment and its audit event
    refuses_all(db, (CaseComment,), sample(0), lambda text: alice.post(url, {"text": text}), "”text”")


def test_drafts_of_a_task(app: Flask, db: Any, inbox: InboxWorld) -> None:
    task, alice = inbox.start(), Browser(app, "alice")
    url = f"/uppgifter/{task.id}"
    assert alice.post(url, {**VALID, "_action": "save", "summary": "Halvfärdig"}).status_code == 302
    refuses_all(db, (HumanTask,), sample(1), lambda text: alice.post(url, {**VALID, "_action": "save", "summary": text}),
                'id="fel-summary"')  # shown beside the field, in the form
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).draft_data["summary"] == "Halvfärdig"


def test_a_generic_task_form(app: Flask, db: Any, inbox: InboxWorld) -> None:
    task, alice = inbox.start(), Browser(app, "alice")
    url = f"/uppgifter/{task.id}"
    refuses_all(db, (HumanTask, ProcessInstance), sample(2),
                lambda text: alice.post(url, {**VALID, "_action": "complete", "summary": text}), 'id="fel-summary"')
    assert alice.post(url, {**VALID, "_action": "complete"}).status_code == 302


def test_attachment_file_names(app: Flask, db: Any, inbox: InboxWorld) -> None:
    task, alice = inbox.start(), Browser(app, "alice")
    url = f"/uppgifter/{task.id}"

    def send(text: str) -> Any:
        return alice.post(url, {**VALID, "_action": "save", "evidence": (io.BytesIO(b"Protokoll"), f"{text}.txt")},
                          content_type="multipart/form-data")

    refuses_all(db, (Attachment,), sample(3), send, "”evidence (filnamnet)”")
    before = count_rows(db, Attachment)
    assert send("Protokoll 2026-11-20").status_code == 302
    assert count_rows(db, Attachment) != before


def test_saved_filter_names(app: Flask, db: Any, inbox: InboxWorld) -> None:
    alice = Browser(app, "alice")
    refuses_all(db, (SavedFilter,), sample(4), lambda text: alice.post("/uppgifter/filter", {"name": text}), "”name”")
    refuses_all(db, (SavedFilter,), sample(5), lambda text: alice.post("/uppgifter/filter", {"name": "Mitt", "q": text}),
                "”q”")
    assert alice.post("/uppgifter/filter", {"name": "Snart förfallna"}).status_code == 302
    assert count_rows(db, SavedFilter)[0] == 1


def test_agreement_titles_and_sections(app: Flask, db: Any, parties: Parties) -> None:
    anna = Browser(app, "anna")

    def start(text: str) -> Any:
        return anna.post("/avtal/nytt", {"title": text, "organisation_id": parties.goteborg.id})

    refuses_all(db, (Agreement,), sample(6), start, "”title”")
    assert start("Mini-Maria Göteborg").status_code == 302
    db.session.expire_all()
    draft = db.session.scalars(select(HumanTask).where(HumanTask.bpmn_id == "draft")).one()
    url = f"/uppgifter/{draft.id}"
    data = {**draft_data(parties), "_action": "save"}
    refuses_all(db, (Agreement,), sample(7), lambda text: anna.post(url, {**data, "responsibilities": text}),
                'id="fel-responsibilities"')
    db.session.expire_all()
    assert db.session.get(HumanTask, draft.id).draft_data is None  # no draft was saved


# --- The API --------------------------------------------------------------------------------------------


def api_refuses_all(db: Any, models: tuple[Any, ...], texts: list[str], send: Callable[[str], Any], field: str) -> None:
    before = count_rows(db, *models)
    for text in texts:
        response = send(text)
        assert response.status_code == 422, (text, response.get_data(as_text=True))
        assert "rad 1, tecken" in " ".join(problem_fields(response)[field]), text
    assert count_rows(db, *models) == before


START = {"process_id": "api_simple", "title": "Ett ärende"}


def test_every_payload_through_the_api(api: ApiWorld, db: Any) -> None:  # noqa: F811
    """All payloads, in the one field of an instance's title (the guard answers before the view runs)."""
    client = api.client("officer_a")
    before = count_rows(db, ProcessInstance)
    for name, text in PAYLOADS:
        response = client.post("/api/v1/instances", json={**START, "title": f"Ärende {text}",
                                                          "data": {"organisation_id": api.org_a.id}})
        assert response.status_code == 422 and "title" in problem_fields(response), name
    assert count_rows(db, ProcessInstance) == before


def test_instance_titles_and_data(api: ApiWorld, db: Any) -> None:  # noqa: F811
    client = api.client("officer_a")
    data = {"organisation_id": api.org_a.id}
    api_refuses_all(db, (ProcessInstance,), sample(0),
                    lambda text: client.post("/api/v1/instances", json={**START, "title": text, "data": data}), "title")
    api_refuses_all(db, (ProcessInstance,), sample(1), lambda text: client.post("/api/v1/instances", json={
        **START, "data": {**data, "notes": [{"text": "ok"}, {"text": text}]}}), "data.notes[1].text")
    assert client.post("/api/v1/instances", json={**START, "data": data}).status_code == 201


def test_task_drafts_and_completion(api: ApiWorld, db: Any) -> None:  # noqa: F811
    client = api.client("officer_a")
    started = client.post("/api/v1/instances", json={**START, "data": {"organisation_id": api.org_a.id}})
    task_id = started.get_json()["open_tasks"][0]["id"]
    etag = client.get(f"/api/v1/tasks/{task_id}").headers["ETag"]
    draft = f"/api/v1/tasks/{task_id}/draft"
    api_refuses_all(db, (HumanTask,), sample(2), lambda text: client.put(
        draft, json={"data": {"note": text}}, headers={"If-Match": etag}), "data.note")
    api_refuses_all(db, (HumanTask,), sample(3), lambda text: client.post(
        f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": text}}), "data.note")
    assert client.get(f"/api/v1/tasks/{task_id}").get_json()["values"] == {}
    assert client.put(draft, json={"data": {"note": "Halvfärdig"}}, headers={"If-Match": etag}).status_code == 200


def test_agreement_titles_through_the_api(app: Flask, db: Any, parties: Parties) -> None:
    from tests.api.test_resources import client_for

    coordinator = client_for(app, parties.coordinator)
    body = {"organisation_id": parties.goteborg.id}
    api_refuses_all(db, (Agreement,), sample(4),
                    lambda text: coordinator.post("/api/v1/agreements", json={**body, "title": text}), "title")
    assert coordinator.post("/api/v1/agreements", json={**body, "title": "Psykisk hälsa"}).status_code == 201


# --- The audit log and the logs ------------------------------------------------------------------------


def test_the_audit_log_refuses_an_identity_number_on_its_own(db: Any, make_organisation: Any) -> None:
    organisation: Organisation = make_organisation(name="Östra kommun")
    before = count_rows(db)
    for text in sample(5):
        with pytest.raises(ValidationFailed) as refused:
            commit_with_retry(lambda text=text: audit.record(None, "deployment.commented", organisation,
                                                             comment={"lines": ["ok", text]}))
        assert "comment.lines[1]" in refused.value.fields
    assert count_rows(db) == before
    birth, serial = IDENTITY_BASES["personnummer"]
    task_id = f"{birth[2:]}{serial[:2]}-{serial[2:]}ab-4c1d-9e2f-0123456789ab"  # the engine's ids are random
    commit_with_retry(lambda: audit.record(None, "deployment.commented", organisation, comment="Tel 070-123 45 67",
                                           task_id=task_id))
    assert count_rows(db) == (before[0] + 1,)


MARKER = "Markör-8c1f Brukaren mådde bättre"


def test_no_task_data_in_the_logs(app: Flask, db: Any, inbox: InboxWorld, caplog: pytest.LogCaptureFixture) -> None:
    task = inbox.start()
    client = app.test_client()
    assert login(client, "alice").status_code == 302
    token = csrf_token(client.get(f"/uppgifter/{task.id}").get_data(as_text=True))
    caplog.set_level(logging.DEBUG)  # the root logger; SpiffWorkflow's keep the level the app gave them
    for action in ("save", "complete"):
        response = client.post(f"/uppgifter/{task.id}", data={**VALID, "summary": MARKER, "_action": action,
                                                              "csrf_token": token})
        assert response.status_code == 302
    assert caplog.records  # something was logged (the request lines), just not the case text
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert MARKER not in logged
    assert all(logging.getLogger(n).getEffectiveLevel() >= logging.WARNING for n in ("spiff", "spiff.task"))


def test_the_command_line_refuses_a_deployment_comment_naming_a_person(app: Flask, db: Any) -> None:
    from service.processes.models import ProcessDefinition
    from tests.conftest import ROOT

    before = count_rows(db, ProcessDefinition)
    bpmn = str(ROOT / "bpmn" / "deviation.bpmn")
    for text in sample(6):
        result = app.test_cli_runner().invoke(args=["deploy", bpmn, "--comment", text])
        assert result.exit_code == 1 and "personnummer eller samordningsnummer" in result.output, result.output
    assert count_rows(db, ProcessDefinition) == before
    assert app.test_cli_runner().invoke(args=["deploy", bpmn, "--comment", "Dnr KS 2026/1234"]).exit_code == 0


def test_passwords_are_not_case_text(app: Flask, db: Any, inbox: InboxWorld) -> None:
    """A password is never stored as written nor shown: one that looks like a personnummer is checked as usual."""
    wrong = login(app.test_client(), "alice", password=sample(7)[0])
    assert wrong.status_code == 401 and "personnummer" not in wrong.get_data(as_text=True)
    named = login(app.test_client(), sample(7)[1], password="x")
    assert named.status_code == 422 and "”username”" in named.get_data(as_text=True)
