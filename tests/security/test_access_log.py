"""Finding 7 of issue #17: every read of case content is in the access log (API, exports, packages, command
line), a substitute stands in only in their own organisations, and /metrics and /readyz tell strangers nothing.

The routes and inputs come from section 7 of tests/security/payloads.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import IntegerConverter, UUIDConverter

from service import access
from service.agreements.models import AgreementVersion
from service.api.tokens import create_token
from service.audit.models import AccessLogEntry
from service.bodies.operations import add_agenda_item
from service.errors import NotPermitted
from service.inbox import queries
from service.inbox.models import Substitute
from service.parties.models import Role, User
from service.processes.claims import claim_task
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, TaskStatus
from service.processes.operations import complete_task, start_process
from service.scheduler import heartbeat
from service.transactions import commit_with_retry
from tests.bodies.steering import meeting_of, steering_group
from tests.conftest import ROOT, login
from tests.deviations.world import World, _user, deployed, frozen, world  # noqa: F401 (fixtures)
from tests.processes.test_incidents import Office, incident_of, office, start_and_register  # noqa: F401 (fixture)
from tests.security.payloads import (
    BAD_METRICS_CREDENTIALS,
    CASE_CONTENT_READS,
    NOT_CASE_CONTENT,
    OPERATIONAL_PATHS,
    READYZ_SECRETS,
)

API_FIXTURES = ROOT / "tests" / "api" / "fixtures"
FORMS = ROOT / "tests" / "fixtures" / "forms"
QUESTION = "Vem bekostar hjälpmedel för personer som skrivs ut till eget boende?"


class Reads:
    """One case of every kind, read by an auditor's token: the ids the URLs of CASE_CONTENT_READS name."""

    def __init__(self, place: World) -> None:
        self.world = place
        self.auditor = _user(place.db, "granskare", place.region, [Role.AUDITOR])
        self.ids = {"agreement": place.agreement.id}
        self._add_version()
        self.ids["deviation"], self.ids["deviation_instance"] = self._report_deviation()
        self.ids["deviation_task"] = self._ready_task(self.ids["deviation_instance"])
        self.ids["dispute"] = self._open_dispute()
        self.ids["plain_instance"] = self._start_plain_case()
        self.ids["plain_task"] = self._ready_task(self.ids["plain_instance"])

    def token(self, user: User) -> str:
        return commit_with_retry(lambda: create_token(user, "test", {"read", "write"}, 30)).secret

    def get(self, user: User, url: str) -> Any:
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        return self.world.app.test_client().get(url, headers=headers)

    def expected_case(self, case_type: str) -> tuple[str, int]:
        return case_type, self.ids["plain_instance" if case_type == "instance" else case_type]

    def _add_version(self) -> None:
        version = AgreementVersion(agreement_id=self.world.agreement.id, number=1, title=self.world.agreement.title,
                                   sections={"goals": {"text": "Färre avbrutna insatser."}},
                                   created_by_id=self.world.user("handlaggare").id)
        self.world.db.session.add(version)
        self.world.db.session.commit()

    def _post(self, username: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(self.world.user(username))}"}
        response = self.world.app.test_client().post(url, json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        found: dict[str, Any] = response.get_json()
        return found

    def _report_deviation(self) -> tuple[int, int]:
        place = self.world
        deviation = self._post("rapportor", "/api/v1/deviations", {
            "reporting_organisation_id": place.alingsas.id, "reporting_unit": "Hemtjänst Centrum",
            "receiving_organisation_ids": [place.region.id], "receiving_unit": "Avdelning 12",
            "agreement_id": place.agreement.id, "event_date": "2026-02-26",
            "description": "Vid utskrivningen saknades läkemedelslista.", "category": "discharge",
            "consequence": "moderate"})
        return int(deviation["id"]), int(deviation["instance_id"])

    def _open_dispute(self) -> int:
        place = self.world
        dispute = self._post("chef_alingsas", "/api/v1/disputes", {
            "agreement_id": place.agreement.id, "opening_organisation_id": place.alingsas.id,
            "other_organisation_ids": [place.region.id], "question": QUESTION})
        return int(dispute["id"])

    def _start_plain_case(self) -> int:
        xml = (API_FIXTURES / "api_simple.bpmn").read_bytes()
        commit_with_retry(lambda: deploy_definition(xml, "api_simple.bpmn", FORMS, by=None))
        officer = self.world.user("handlaggare")
        instance = commit_with_retry(lambda: start_process(
            "api_simple", by=officer, title="Enkelt ärende", data={"organisation_id": self.world.alingsas.id}))
        return int(instance.id)

    def _ready_task(self, instance_id: int) -> int:
        task_id = self.world.db.session.scalar(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY).order_by(HumanTask.id))
        assert task_id is not None
        return int(task_id)


@pytest.fixture
def reads(request: pytest.FixtureRequest) -> Reads:
    return Reads(request.getfixturevalue("world"))


def access_rows(db: Any) -> list[AccessLogEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))


def rows_since(db: Any, before: int) -> list[tuple[Any, ...]]:
    return [(row.user_id, row.case_type, row.case_id, row.what, row.path) for row in access_rows(db)[before:]]


# --- every API read of case content ---

@pytest.mark.parametrize(("endpoint", "template", "case_type"), CASE_CONTENT_READS,
                         ids=[f"{endpoint}:{template}" for endpoint, template, _ in CASE_CONTENT_READS])
def test_every_api_read_of_case_content_writes_one_access_log_row(
        reads: Reads, db: Any, endpoint: str, template: str, case_type: str) -> None:
    url = template.format(**reads.ids)
    before = len(access_rows(db))

    response = reads.get(reads.auditor, url)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert rows_since(db, before) == [(reads.auditor.id, *reads.expected_case(case_type), endpoint, url)]


def test_the_row_names_the_token_user_and_a_browser_read_is_logged_once(reads: Reads, db: Any) -> None:
    url = f"/api/v1/deviations/{reads.ids['deviation']}"
    contact = reads.world.user("kontakt_vgr")
    before = len(access_rows(db))

    assert reads.get(contact, url).status_code == 200
    assert reads.world.browser("kontakt_vgr").get(url).status_code == 200  # the API read with the session cookie

    rows = rows_since(db, before)
    assert rows == [(contact.id, "deviation", reads.ids["deviation"], "api_deviations.get_deviation", url)] * 2
    assert access_rows(db)[-1].user_name == contact.display_name


def test_a_page_of_the_audit_log_logs_each_case_on_it_once(reads: Reads, db: Any) -> None:
    before = len(access_rows(db))

    response = reads.get(reads.auditor, "/api/v1/audit/events?limit=1000")

    assert response.status_code == 200 and len(response.get_json()["items"]) > 3
    cases = [(kind, case_id) for _, kind, case_id, _, _ in rows_since(db, before)]
    assert sorted(cases) == sorted([("deviation", reads.ids["deviation"]), ("dispute", reads.ids["dispute"]),
                                    ("instance", reads.ids["plain_instance"])])


def test_a_refused_read_writes_no_row(reads: Reads, db: Any) -> None:
    outsider = reads.world.user("utomstaende")
    before = len(access_rows(db))
    for url in (f"/api/v1/deviations/{reads.ids['deviation']}", f"/api/v1/tasks/{reads.ids['deviation_task']}",
                f"/api/v1/cases/deviation/{reads.ids['deviation']}/export"):
        assert reads.get(outsider, url).status_code in (403, 404), url
    assert rows_since(db, before) == []


# A joint body's pages and API read show its meetings' agendas and decisions (§ texts on disputes, deviations):
# each read logs every case on them, not the body.
BODY_READS = [("api_bodies.get_body", "/api/v1/bodies/{body}"), ("bodies.body_page", "/organ/{body}"),
              ("bodies.meeting_page", "/organ/moten/{meeting}")]


@pytest.mark.parametrize(("endpoint", "template"), BODY_READS, ids=[endpoint for endpoint, _ in BODY_READS])
def test_a_joint_bodys_page_logs_a_read_of_each_case_its_meetings_treat(
        reads: Reads, db: Any, endpoint: str, template: str) -> None:
    place = reads.world
    body = steering_group(place)
    meeting = meeting_of(place, body)
    secretary = place.user("handlaggare")
    add_agenda_item(meeting, by=secretary, case_type="dispute", case_id=reads.ids["dispute"])
    add_agenda_item(meeting, by=secretary, title="Övriga frågor")
    db.session.commit()
    url = template.format(body=body.id, meeting=meeting.id)
    before = len(access_rows(db))

    if endpoint.startswith("api_"):
        assert reads.get(reads.auditor, url).status_code == 200
    else:
        browser = place.app.test_client()
        assert login(browser, "granskare").status_code == 302
        assert browser.get(url).status_code == 200

    assert rows_since(db, before) == [(reads.auditor.id, "dispute", reads.ids["dispute"], endpoint, url)]


def test_every_api_route_with_an_id_is_either_logged_or_declared_not_case_content(app: Flask) -> None:
    logged = {endpoint for endpoint, _, _ in CASE_CONTENT_READS} | {endpoint for endpoint, _ in BODY_READS}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unclassified = [f"{rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
                    if rule.rule.startswith("/api/v1/") and "GET" in (rule.methods or set()) and _names_an_id(rule)
                    and rule.endpoint not in logged and rule.endpoint not in NOT_CASE_CONTENT]
    assert unclassified == [], "API reads with an id that are neither logged nor declared not case content"
    assert logged <= endpoints and set(NOT_CASE_CONTENT) <= endpoints, "the lists name routes that do not exist"
    assert not logged & set(NOT_CASE_CONTENT)


def _names_an_id(rule: Any) -> bool:
    converters = rule._converters.values()  # werkzeug keeps them per argument; no public accessor
    return any(isinstance(c, (IntegerConverter, UUIDConverter)) for c in converters) or any(
        re.search(r"(^|_)id$", name) for name in rule.arguments)


def test_a_web_page_showing_an_incidents_task_data_is_logged(app: Flask, db: Any, request: pytest.FixtureRequest) -> None:
    place: Office = request.getfixturevalue("office")
    instance = start_and_register(db, place, approving_org=place.organisation.id)
    incident = incident_of(db, instance.id)
    owner = app.test_client()
    assert login(owner, "petra").status_code == 302
    before = len(access_rows(db))

    url = f"/processagare/incidenter/{incident.id}"
    assert owner.get(url).status_code == 200

    assert rows_since(db, before) == [(place.owner.id, "instance", instance.id, "processes.incident_page", url)]


# --- exports and archive packages, on the web and from the command line ---

def test_command_line_exports_are_logged(reads: Reads, db: Any, app: Flask, tmp_path: Path) -> None:
    deviation = reads.ids["deviation"]
    before = len(access_rows(db))

    for fmt in ("json", "csv"):
        result = app.test_cli_runner().invoke(args=["audit", "export", "deviation", str(deviation), "--format", fmt,
                                                    "-o", str(tmp_path / f"export.{fmt}")])
        assert result.exit_code == 0, result.output

    path = f"samverkan audit export deviation {deviation}"
    assert rows_since(db, before) == [(None, "deviation", deviation, "export-json", path),
                                      (None, "deviation", deviation, "export-csv", path)]
    assert all(row.user_name.startswith("kommandoraden") for row in access_rows(db)[before:])


def test_a_package_logs_every_case_it_holds_on_the_web_and_from_the_command_line(
        reads: Reads, db: Any, app: Flask, tmp_path: Path) -> None:
    agreement = reads.ids["agreement"]
    held = [("agreement", agreement), ("deviation", reads.ids["deviation"]), ("dispute", reads.ids["dispute"])]
    before = len(access_rows(db))

    result = app.test_cli_runner().invoke(args=["audit", "package", str(agreement), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [(kind, case_id) for _, kind, case_id, _, _ in rows_since(db, before)] == held

    before = len(access_rows(db))
    web = reads.world.browser("granskare").get(f"/granskning/agreement/{agreement}/paket.zip")
    assert web.status_code == 200
    rows = rows_since(db, before)
    assert [(kind, case_id) for _, kind, case_id, _, _ in rows] == held
    assert {user_id for user_id, *_ in rows} == {reads.auditor.id}


# --- a substitute stands in only in organisations they belong to ---

class Leave:
    """Ada works for organisations A and B; Eva (A only) stands in for her today. One task of each kind in each."""

    def __init__(self, app: Flask, db: Any, make_organisation: Any, make_user: Any) -> None:
        self.app, self.db = app, db
        commit_with_retry(lambda: deploy_definition((INBOX_FIXTURES / "inbox_review.bpmn").read_bytes(),
                                                    "inbox_review.bpmn", INBOX_FIXTURES, by=None))
        self.a, self.b = make_organisation(name="Kommun A"), make_organisation(name="Kommun B")
        self.ada = make_user([(self.a, Role.CASE_OFFICER), (self.b, Role.CASE_OFFICER)], username="ada")
        self.eva = make_user([(self.a, Role.MANAGER)], username="eva")
        today = access.local_today()
        db.session.add(Substitute(user_id=self.ada.id, substitute_id=self.eva.id, starts_on=today, ends_on=today))
        db.session.commit()
        self.tasks = {f"{org}_{kind}": self._task(getattr(self, org), claimed=kind == "claimed")
                      for org in ("a", "b") for kind in ("group", "claimed")}

    def _task(self, organisation: Any, *, claimed: bool) -> HumanTask:
        data = {"organisation_id": organisation.id, "next_organisation_id": organisation.id, "review_days": 5}
        instance = commit_with_retry(lambda: start_process("inbox_review", by=self.ada, title="Granskning", data=data))
        task = self.db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.status == TaskStatus.READY)).one()
        if claimed:
            commit_with_retry(lambda: claim_task(task.id, by=self.ada))
        return task

    def api(self, method: str, url: str, **kwargs: Any) -> Any:
        secret = commit_with_retry(lambda: create_token(self.eva, "test", {"read", "write"}, 30)).secret
        client = self.app.test_client()
        return getattr(client, method)(url, headers={"Authorization": f"Bearer {secret}"}, **kwargs)

    def ids(self, *names: str) -> set[int]:
        return {self.tasks[name].id for name in names}


INBOX_FIXTURES = ROOT / "tests" / "inbox" / "fixtures"
REVIEW = {"summary": "Underlaget är komplett", "reviewed_on": "2026-11-20", "verdict": "ok"}


@pytest.fixture
def leave(app: Flask, db: Any, make_organisation: Any, make_user: Any) -> Leave:
    return Leave(app, db, make_organisation, make_user)


def listed(client: Any, url: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-task-id="(\d+)"', client.get(url).get_data(as_text=True))}


def test_a_substitute_sees_the_absent_persons_tasks_only_in_their_own_organisations(leave: Leave) -> None:
    eva = leave.app.test_client()
    assert login(eva, "eva").status_code == 302

    assert {t["id"] for t in leave.api("get", "/api/v1/tasks").get_json()["items"]} == leave.ids("a_group", "a_claimed")
    assert listed(eva, "/uppgifter?lista=mina") == leave.ids("a_claimed")
    assert listed(eva, "/uppgifter?lista=grupp") == leave.ids("a_group")
    for name in ("b_group", "b_claimed"):
        task = leave.tasks[name]
        assert leave.api("get", f"/api/v1/tasks/{task.id}").status_code == 404, name
        assert eva.get(f"/uppgifter/{task.id}").status_code in (403, 404), name
        assert leave.api("get", f"/api/v1/instances/{task.instance_id}").status_code == 404, name
        assert not queries.can_view_case(leave.eva, queries.case_of(task.instance)), name
    for name in ("a_group", "a_claimed"):
        task = leave.tasks[name]
        assert leave.api("get", f"/api/v1/tasks/{task.id}").status_code == 200, name
        assert eva.get(f"/uppgifter/{task.id}").status_code == 200, name
        assert queries.can_view_case(leave.eva, queries.case_of(task.instance)), name


def test_a_substitute_claims_and_completes_only_in_their_own_organisations(leave: Leave) -> None:
    b_group, b_claimed = leave.tasks["b_group"], leave.tasks["b_claimed"]
    assert leave.api("post", f"/api/v1/tasks/{b_group.id}/claim").status_code in (403, 404)
    assert leave.api("post", f"/api/v1/tasks/{b_claimed.id}/complete", json={"data": REVIEW}).status_code in (403, 404)
    with pytest.raises(NotPermitted):
        claim_task(b_group.id, by=leave.eva)
    leave.db.session.rollback()
    with pytest.raises(NotPermitted):
        complete_task(b_claimed.id, REVIEW, by=leave.eva)
    leave.db.session.rollback()

    claimed = leave.api("post", f"/api/v1/tasks/{leave.tasks['a_group'].id}/claim")
    done = leave.api("post", f"/api/v1/tasks/{leave.tasks['a_claimed'].id}/complete", json={"data": REVIEW})

    assert claimed.status_code == 200 and claimed.get_json()["claimed_by_id"] == leave.eva.id
    assert done.status_code == 200, done.get_data(as_text=True)
    leave.db.session.expire_all()
    assert [leave.db.session.get(HumanTask, t.id).status for t in (b_group, b_claimed)] == [TaskStatus.READY] * 2
    assert leave.db.session.get(HumanTask, b_group.id).claimed_by_id is None


# --- the operational endpoints ---

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics_token(app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def beat(db: Any) -> None:
    heartbeat.beat("samverkan-host-7:4242", datetime.now(UTC))
    db.session.commit()


@pytest.mark.parametrize("path", OPERATIONAL_PATHS)
def test_an_anonymous_caller_gets_no_metrics_and_no_readiness_details(client: Any, metrics_token: str, beat: None,
                                                                      path: str) -> None:
    response = client.get(path)
    text = response.get_data(as_text=True)
    if path.startswith("/metrics"):
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "samverkan_" not in text and "process_" not in text
    else:
        assert response.status_code == 200
        assert response.get_json() == {"status": "ready", "checks": {"database": {"ok": True}, "scheduler": {"ok": True}}}
        assert not [secret for secret in READYZ_SECRETS if secret in text]
        assert "samverkan-host-7" not in text and "4242" not in text


@pytest.mark.parametrize("credentials", BAD_METRICS_CREDENTIALS)
def test_metrics_refuse_every_other_credential(client: Any, metrics_token: str, credentials: str) -> None:
    response = client.get("/metrics", headers={"Authorization": credentials.format(token=metrics_token)})
    assert response.status_code == 401 and "samverkan_" not in response.get_data(as_text=True)


def test_without_a_configured_token_no_bearer_value_opens_metrics(client: Any, app: Flask,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    for credentials in ("Bearer ", "Bearer x", "Bearer None"):
        assert client.get("/metrics", headers={"Authorization": credentials}).status_code == 401


def test_the_token_and_an_admin_session_read_metrics_and_readiness_details(
        client: Any, metrics_token: str, beat: None, make_organisation: Any, make_user: Any) -> None:
    organisation = make_organisation()
    make_user([(organisation, Role.ADMIN)], username="driftadmin")
    make_user([(organisation, Role.CASE_OFFICER)], username="handlaggare1")
    bearer = {"Authorization": f"Bearer {metrics_token}"}
    assert "samverkan_outbox_backlog" in client.get("/metrics", headers=bearer).get_data(as_text=True)
    assert client.get("/readyz", headers=bearer).get_json()["checks"]["scheduler"]["holder"] == "samverkan-host-7:4242"

    officer = client.application.test_client()
    assert login(officer, "handlaggare1").status_code == 302
    assert officer.get("/metrics").status_code == 403
    assert "holder" not in officer.get("/readyz").get_data(as_text=True)
    admin = client.application.test_client()
    assert login(admin, "driftadmin").status_code == 302
    assert admin.get("/metrics").status_code == 200
    assert admin.get("/readyz").get_json()["checks"]["scheduler"]["holder"] == "samverkan-host-7:4242"
    assert client.get("/healthz").get_json() == {"status": "ok"}
