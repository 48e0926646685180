"""POST /api/v1/instances and GET /api/v1/instances/<id>: start a deployed process, read it back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.processes.models import ProcessInstance
from tests.api.conftest import ApiWorld, problem_fields


def start(api: ApiWorld, who: str = "officer_a", **overrides: Any) -> Any:
    body = {"process_id": "api_simple", "title": "Ett ärende", "data": {"organisation_id": api.org_a.id}}
    body.update(overrides)
    return api.client(who).post("/api/v1/instances", json=body)


def test_start_runs_to_the_first_task_and_reads_back(api: ApiWorld) -> None:
    response = start(api)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["process_id"] == "api_simple" and body["version"] == 1 and body["status"] == "running"
    assert [t["bpmn_id"] for t in body["open_tasks"]] == ["handle"]
    assert response.headers["Location"] == f"/api/v1/instances/{body['id']}"
    read = api.client("officer_a").get(f"/api/v1/instances/{body['id']}")
    assert read.status_code == 200 and read.get_json()["title"] == "Ett ärende" and read.headers["ETag"]


def test_start_refused_without_the_start_lane_role(api: ApiWorld) -> None:
    response = start(api, "auditor")
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"


def test_start_refused_for_another_organisation(api: ApiWorld) -> None:
    response = start(api, "officer_b")  # officer of B naming A as the case's organisation
    assert response.status_code == 422
    assert "data.organisation_id" in problem_fields(response)


def test_unknown_process_and_domain_processes_name_the_field(api: ApiWorld) -> None:
    assert "process_id" in problem_fields(start(api, process_id="finns_inte"))
    missing_title = api.client("officer_a").post("/api/v1/instances", json={"process_id": "api_simple"})
    assert missing_title.status_code == 422 and "title" in problem_fields(missing_title)


def test_read_token_cannot_start(api: ApiWorld, db: Any) -> None:
    response = api.client("officer_a", read_only=True).post(
        "/api/v1/instances", json={"process_id": "api_simple", "title": "x", "data": {}})
    assert response.status_code == 403
    assert response.get_json()["type"].endswith("insufficient-scope")
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_idempotent_start_acts_once(api: ApiWorld, db: Any) -> None:
    headers = {"Idempotency-Key": "start-1"}
    body = {"process_id": "api_simple", "title": "Ett ärende", "data": {"organisation_id": api.org_a.id}}
    first = api.client("officer_a").post("/api/v1/instances", json=body, headers=headers)
    again = api.client("officer_a").post("/api/v1/instances", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
    other = api.client("officer_a").post("/api/v1/instances", json={**body, "title": "Annat"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in problem_fields(other)


def test_other_organisation_cannot_read_the_case(api: ApiWorld) -> None:
    instance_id = start(api).get_json()["id"]
    assert api.client("officer_b").get(f"/api/v1/instances/{instance_id}").status_code == 404
    assert api.client("auditor").get(f"/api/v1/instances/{instance_id}").status_code == 200
    assert api.client("officer_a").get("/api/v1/instances/999999").status_code == 404


def test_auditors_change_nothing_even_with_a_write_key(api: ApiWorld, db: Any) -> None:
    from service.audit.models import AuditEvent

    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    auditor = api.client("auditor")
    writes = [auditor.post("/api/v1/instances", json={"process_id": "api_simple", "title": "x", "data": {}}),
              auditor.post("/api/v1/tasks/1/complete", json={"data": {}})]
    assert [response.status_code for response in writes] == [403, 403]
    assert all(response.get_json()["type"].endswith("read-only-role") for response in writes)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
