"""Agreements, organisations, definitions and the auditors' history through the API."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from service.api.tokens import create_token
from service.audit.models import AuditEvent
from service.transactions import commit_with_retry
from tests.api.conftest import FIXTURES, FORMS, ApiClient, ApiWorld, problem_fields
from tests.conftest import Parties


def client_for(app: Any, user: Any, scopes: set[str] | None = None) -> ApiClient:
    secret = commit_with_retry(lambda: create_token(user, "test", scopes or {"read", "write"}, 30)).secret
    return ApiClient(app.test_client(), secret)


def test_start_drafting_read_and_amend_with_if_match(app: Any, parties: Parties, make_organisation: Any,
                                                     make_user: Any) -> None:
    coordinator = client_for(app, parties.coordinator)
    created = coordinator.post("/api/v1/agreements", json={"organisation_id": parties.goteborg.id, "title": "Psykisk hälsa"})
    assert created.status_code == 201, created.get_data(as_text=True)
    agreement = created.get_json()
    assert agreement["status"] == "draft" and agreement["versions"][0]["number"] == 1
    read = coordinator.get(f"/api/v1/agreements/{agreement['id']}")
    assert read.status_code == 200 and read.headers["ETag"] == created.headers["ETag"]
    assert coordinator.get(f"/api/v1/agreements/{agreement['id']}/versions/1").get_json()["adoption_round"] == 0
    assert coordinator.get(f"/api/v1/agreements/{agreement['id']}/versions/9").status_code == 404
    assert coordinator.get("/api/v1/agreements?status=draft").get_json()["total"] == 1
    url = f"/api/v1/agreements/{agreement['id']}/amendments"
    assert coordinator.post(url, json={"motivation": "Ny målgrupp"}).status_code == 428
    assert coordinator.post(url, json={"motivation": "Ny målgrupp"}, headers={"If-Match": '"stale"'}).status_code == 412
    not_active = coordinator.post(url, json={"motivation": "Ny målgrupp"}, headers={"If-Match": read.headers["ETag"]})
    # A draft names no parties yet, so nobody is a party's case officer: refused before the state is looked at.
    assert not_active.status_code == 403 and not_active.content_type == "application/problem+json"
    outsider = make_user([(make_organisation(name="Borås Stad"), parties.coordinator.memberships[0].role)], username="b")
    assert client_for(app, outsider).get(f"/api/v1/agreements/{agreement['id']}").status_code == 404
    assert client_for(app, outsider).get("/api/v1/agreements").get_json()["total"] == 0


def test_start_drafting_refused_outside_my_organisation(app: Any, parties: Parties) -> None:
    officer = client_for(app, parties.officers[parties.region.id])
    response = officer.post("/api/v1/agreements", json={"organisation_id": parties.goteborg.id, "title": "X"})
    assert response.status_code == 403
    unknown = officer.post("/api/v1/agreements", json={"organisation_id": 999999, "title": "X"})
    assert unknown.status_code == 422 and "organisation_id" in problem_fields(unknown)


def test_organisations_and_bodies(api: ApiWorld) -> None:
    client = api.client("officer_b")
    page = client.get("/api/v1/organisations?sort=-name").get_json()
    assert [o["name"] for o in page["items"]] == ["Borås Stad", "Alingsås kommun"]
    bodies = client.get(f"/api/v1/organisations/{api.org_a.id}/bodies").get_json()
    assert [b["name"] for b in bodies] == ["Kommunstyrelsen", "Socialnämnden"]
    assert client.get("/api/v1/organisations/999999").status_code == 404


def test_definitions_for_process_owners_only(api: ApiWorld, monkeypatch: Any) -> None:
    monkeypatch.setitem(api.app.config, "FORMS_DIR", str(FORMS))  # the fixture's form is not in forms/
    owner, officer = api.client("owner"), api.client("officer_a")
    assert officer.get("/api/v1/definitions").status_code == 403
    listed = owner.get("/api/v1/definitions").get_json()
    assert [(d["process_id"], d["version"]) for d in listed["items"]] == [("api_simple", 1)]
    xml = owner.get("/api/v1/definitions/api_simple/versions/1/bpmn")
    assert xml.status_code == 200 and b'id="api_simple"' in xml.data
    assert owner.get("/api/v1/definitions/api_simple/versions/2/bpmn").status_code == 404
    content = (FIXTURES / "api_simple.bpmn").read_bytes()
    same = owner.post("/api/v1/definitions", data={"bpmn": (io.BytesIO(content), "api_simple.bpmn")})
    assert same.status_code == 200 and same.get_json()["is_new"] is False
    changed = content.replace('name="Handlägg"'.encode(), 'name="Handlägg ärendet"'.encode())
    new = owner.post("/api/v1/definitions?comment=Nytt%20namn", data={"bpmn": (io.BytesIO(changed), "api_simple.bpmn")})
    assert new.status_code == 201 and new.get_json()["version"] == 2
    # The lint's warnings come back as the modeller shows them; they do not stop the deploy.
    unnamed = changed.replace('name="Handlägg ärendet"'.encode(), b'name=""')
    warned = owner.post("/api/v1/definitions?comment=Utan%20namn", data={"bpmn": (io.BytesIO(unnamed), "api_simple.bpmn")})
    assert warned.status_code == 201 and warned.get_json()["version"] == 3
    assert {"element_id": "handle", "rule": "label-required"}.items() <= next(
        w for w in warned.get_json()["warnings"] if w["element_id"] == "handle").items()
    assert ("handle", "label-required") not in {(w["element_id"], w["rule"]) for w in new.get_json()["warnings"]}
    refused = officer.post("/api/v1/definitions", data={"bpmn": (io.BytesIO(changed), "api_simple.bpmn")})
    assert refused.status_code == 403


def test_deploy_refusal_names_the_bpmn_element(api: ApiWorld, monkeypatch: Any) -> None:
    monkeypatch.setitem(api.app.config, "FORMS_DIR", str(FORMS))
    content = (FIXTURES / "api_simple.bpmn").read_bytes().replace(b'value="simple.schema.json"', b'value="saknas.json"')
    response = api.client("owner").post("/api/v1/definitions", data={"bpmn": (io.BytesIO(content), "api_simple.bpmn")})
    assert response.status_code == 422 and response.get_json()["element_id"] == "handle"
    missing = api.client("owner").post("/api/v1/definitions", data={})
    assert missing.status_code == 422 and "bpmn" in problem_fields(missing)


def test_audit_history_for_auditors(api: ApiWorld, db: Any) -> None:
    api.client("officer_a").post("/api/v1/instances", json={"process_id": "api_simple", "title": "Ärende",
                                                              "data": {"organisation_id": api.org_a.id}})
    assert api.client("officer_a").get("/api/v1/audit/events").status_code == 403
    first = api.client("auditor").get("/api/v1/audit/events?limit=2").get_json()
    total = len(db.session.scalars(select(AuditEvent)).all())
    assert len(first["items"]) == 2 and first["next_after_seq"] == first["items"][-1]["seq"]
    rest = api.client("auditor").get(f"/api/v1/audit/events?after_seq={first['next_after_seq']}&limit=1000").get_json()
    assert len(first["items"]) + len(rest["items"]) == total and rest["next_after_seq"] is None
    assert rest["items"][-1]["action"] == "instance.started"
    assert api.client("auditor").get("/api/v1/cases/agreement/999/events").status_code == 404
    assert api.client("officer_a").get("/api/v1/cases/deviation/1/export").status_code == 403
