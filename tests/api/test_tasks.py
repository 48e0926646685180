"""Tasks through the API: my list, reading with the form, drafts with If-Match, completing (idempotent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.processes.definitions import deploy_definition
from service.transactions import commit_with_retry
from tests.api.conftest import FIXTURES, FORMS, ApiWorld, problem_fields


def open_task(api: ApiWorld) -> int:
    response = api.client("officer_a").post("/api/v1/instances", json={
        "process_id": "api_simple", "title": "Ett ärende", "data": {"organisation_id": api.org_a.id}})
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["open_tasks"][0]["id"])


def test_my_tasks_are_listed_paged_and_filtered(api: ApiWorld) -> None:
    ids = [open_task(api) for _ in range(3)]
    page = api.client("officer_a").get("/api/v1/tasks?page_size=2&sort=-created_at").get_json()
    assert page["total"] == 3 and page["page_size"] == 2 and len(page["items"]) == 2
    assert [t["id"] for t in page["items"]] == sorted(ids, reverse=True)[:2]
    assert api.client("officer_a").get("/api/v1/tasks?page=2&page_size=2").get_json()["items"][0]["id"] in ids
    assert api.client("officer_a").get("/api/v1/tasks?assigned=me").get_json()["total"] == 0
    assert api.client("officer_b").get("/api/v1/tasks").get_json()["total"] == 0


def test_list_arguments_are_checked(api: ApiWorld) -> None:
    for query in ("page_size=1000", "page=0", "sort=secret", "assigned=all"):
        response = api.client("officer_a").get(f"/api/v1/tasks?{query}")
        assert response.status_code == 422, query
        assert query.split("=")[0] in problem_fields(response)


def test_read_a_task_with_its_form(api: ApiWorld) -> None:
    task_id = open_task(api)
    response = api.client("officer_a").get(f"/api/v1/tasks/{task_id}")
    assert response.status_code == 200 and response.headers["ETag"]
    body = response.get_json()
    assert body["form_schema"]["required"] == ["note"] and body["values"] == {}


def test_other_organisation_cannot_read_or_complete(api: ApiWorld, db: Any) -> None:
    task_id = open_task(api)
    other = api.client("officer_b")
    assert other.get(f"/api/v1/tasks/{task_id}").status_code == 404
    assert other.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "x"}}).status_code == 404
    assert api.client("officer_a").get(f"/api/v1/tasks/{task_id}").get_json()["status"] == "ready"


def test_complete_validates_names_the_field_and_changes_nothing(api: ApiWorld, db: Any) -> None:
    task_id = open_task(api)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = api.client("officer_a").post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}})
    assert response.status_code == 422 and "note" in problem_fields(response)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_complete_then_again_is_a_conflict(api: ApiWorld) -> None:
    task_id = open_task(api)
    client = api.client("officer_a")
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "Klart"}})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    again = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "Klart"}})
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    instance = client.get(f"/api/v1/instances/{done.get_json()['instance_id']}").get_json()
    assert instance["status"] == "completed" and instance["open_tasks"] == []


def test_complete_answers_with_the_next_tasks_the_caller_can_do(api: ApiWorld) -> None:
    xml = (FIXTURES / "api_two_steps.bpmn").read_bytes()
    commit_with_retry(lambda: deploy_definition(xml, "api_two_steps.bpmn", FORMS, by=None))
    client = api.client("officer_a")
    started = client.post("/api/v1/instances", json={
        "process_id": "api_two_steps", "title": "Två steg", "data": {"organisation_id": api.org_a.id}}).get_json()
    [check] = [task for task in started["open_tasks"] if task["bpmn_id"] == "check"]
    done = client.post(f"/api/v1/tasks/{check['id']}/complete", json={"data": {"note": "Klart"}}).get_json()
    assert done["status"] == "completed" and [task["bpmn_id"] for task in done["next_tasks"]] == ["handle"]
    instance = client.get(f"/api/v1/instances/{started['id']}").get_json()  # the manager's task is open, not theirs
    assert sorted(task["bpmn_id"] for task in instance["open_tasks"]) == ["approve", "handle"]
    assert done["next_tasks"] == [task for task in instance["open_tasks"] if task["bpmn_id"] == "handle"]


def test_idempotent_complete_returns_the_first_result(api: ApiWorld, db: Any) -> None:
    task_id = open_task(api)
    client, headers = api.client("officer_a"), {"Idempotency-Key": "klar-1"}
    first = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "Klart"}}, headers=headers)
    retry = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "Klart"}}, headers=headers)
    assert first.status_code == retry.status_code == 200 and first.get_json() == retry.get_json()
    completed = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "task.completed"))
    assert completed == 1
    changed = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "Annat"}}, headers=headers)
    assert changed.status_code == 422 and "Idempotency-Key" in problem_fields(changed)


def test_complete_with_stale_if_match_is_refused(api: ApiWorld) -> None:
    task_id = open_task(api)
    client = api.client("officer_a")
    response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "x"}}, headers={"If-Match": '"old"'})
    assert response.status_code == 412
    assert client.get(f"/api/v1/tasks/{task_id}").get_json()["status"] == "ready"


def test_draft_requires_if_match_and_refuses_a_stale_one(api: ApiWorld) -> None:
    task_id = open_task(api)
    client = api.client("officer_a")
    url = f"/api/v1/tasks/{task_id}/draft"
    assert client.put(url, json={"data": {"note": "Halvfärdig"}}).status_code == 428
    etag = client.get(f"/api/v1/tasks/{task_id}").headers["ETag"]
    saved = client.put(url, json={"data": {"note": "Halvfärdig"}}, headers={"If-Match": etag})
    assert saved.status_code == 200 and saved.get_json()["values"] == {"note": "Halvfärdig"}
    assert saved.headers["ETag"] != etag
    stale = client.put(url, json={"data": {"note": "Skriver över"}}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert client.get(f"/api/v1/tasks/{task_id}").get_json()["values"] == {"note": "Halvfärdig"}


def test_claim_and_release_through_the_api(api: ApiWorld, db: Any, make_user: Any) -> None:
    from service.parties.models import Role
    from tests.api.conftest import ApiClient

    task_id = open_task(api)
    colleague = make_user([(api.org_a, Role.CASE_OFFICER)], username="colleague_a")
    other = ApiClient(api.app.test_client(), api.token(colleague, {"read", "write"}))
    me = api.client("officer_a")

    claimed = me.post(f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by_id"] == api.users["officer_a"].id
    assert me.get("/api/v1/tasks?assigned=me").get_json()["total"] == 1
    taken = other.post(f"/api/v1/tasks/{task_id}/claim")
    assert taken.status_code == 409 and taken.content_type == "application/problem+json"
    assert other.post(f"/api/v1/tasks/{task_id}/release").status_code == 403
    assert api.client("officer_b").post(f"/api/v1/tasks/{task_id}/claim").status_code == 404
    assert api.client("officer_a", read_only=True).post(f"/api/v1/tasks/{task_id}/claim").status_code == 403

    released = me.post(f"/api/v1/tasks/{task_id}/release")
    assert released.status_code == 200 and released.get_json()["claimed_by_id"] is None
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("task.%"))))
    assert actions.count("task.claimed") == 1 and actions.count("task.released") == 1
