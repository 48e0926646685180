"""Issue #18, item 11: id filters in the query string, sane event dates, a start that stands still at an incident,
problems in the requested language, a body without its ``data`` wrapper, and a valid OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate as validate_openapi

from service.api.tokens import create_token
from service.engine import forms
from service.transactions import commit_with_retry
from tests.api.conftest import ApiClient, ApiWorld, problem_fields
from tests.deviations.world import World

ENGLISH = {"Accept-Language": "en"}


def start(api: ApiWorld, data: dict[str, Any], **headers: str) -> Any:
    body = {"process_id": "api_simple", "title": "Ett ärende", "data": data}
    return api.client("officer_a").post("/api/v1/instances", json=body, headers=headers)


def test_id_filters_in_the_query_string_are_numbers(api: ApiWorld) -> None:
    instance_id = start(api, {"organisation_id": api.org_a.id}).get_json()["id"]
    officer, auditor = api.client("officer_a"), api.client("auditor")
    assert officer.get(f"/api/v1/tasks?organisation_id={api.org_a.id}").get_json()["total"] == 1
    assert officer.get(f"/api/v1/tasks?organisation_id={api.org_b.id}").get_json()["total"] == 0
    events = auditor.get(f"/api/v1/audit/events?instance_id={instance_id}")
    assert events.status_code == 200, events.get_data(as_text=True)
    assert events.get_json()["items"] and {e["instance_id"] for e in events.get_json()["items"]} == {instance_id}
    for path in (f"/api/v1/deviations?organisation_id={api.org_a.id}", "/api/v1/disputes?agreement_id=1"):
        assert officer.get(path).status_code == 200, path
    for path, field in (("/api/v1/tasks?organisation_id=tre", "organisation_id"),
                        ("/api/v1/deviations?organisation_id=0", "organisation_id"),
                        ("/api/v1/disputes?agreement_id=1.5", "agreement_id"),
                        ("/api/v1/audit/events?instance_id=3x", "instance_id")):
        client = auditor if "audit" in path else officer
        assert field in problem_fields(client.get(path)), path


def test_problems_are_in_the_requested_language(api: ApiWorld) -> None:
    officer = api.client("officer_a")
    swedish, english = officer.get("/api/v1/tasks?organisation_id=tre"), officer.get(
        "/api/v1/tasks?organisation_id=tre", headers=ENGLISH)
    assert (swedish.get_json()["title"], english.get_json()["title"]) == ("Ogiltiga uppgifter", "Invalid data")
    assert english.get_json()["detail"] == "The data in the request is invalid."
    assert (problem_fields(swedish), problem_fields(english)) == (
        {"organisation_id": ["Inte ett giltigt heltal."]}, {"organisation_id": ["Not a valid integer."]})
    unknown = officer.get("/api/v1/finns-inte", headers=ENGLISH).get_json()
    assert (unknown["title"], unknown["detail"]) == ("Not found", "There is no resource /api/v1/finns-inte.")
    refused = officer.post("/api/v1/instances", json={"process_id": "finns_inte", "title": "x"}, headers=ENGLISH)
    assert refused.get_json()["detail"] == "The data is invalid. Nothing was saved."
    anonymous = api.app.test_client().get("/api/v1/tasks", headers=ENGLISH)
    assert anonymous.status_code == 401 and anonymous.get_json()["title"] == "Not signed in"


def test_values_outside_the_data_wrapper_are_named_so(api: ApiWorld) -> None:
    officer = api.client("officer_a")
    flat = {"process_id": "api_simple", "title": "Ett ärende", "organisation_id": api.org_a.id}
    response = officer.post("/api/v1/instances", json=flat)
    assert response.status_code == 422
    message = " ".join(problem_fields(response)["data"])
    assert "Saknas" in message and '"data"' in message and "organisation_id" in message
    task_id = start(api, {"organisation_id": api.org_a.id}).get_json()["open_tasks"][0]["id"]
    english = officer.post(f"/api/v1/tasks/{task_id}/complete", json={"note": "Klart."}, headers=ENGLISH)
    assert english.status_code == 422
    assert problem_fields(english)["data"][0].startswith('Missing: the values go inside "data"')
    assert "note" in problem_fields(english)["data"][0]


def test_a_start_that_stands_still_at_an_incident_says_so(api: ApiWorld) -> None:
    response = start(api, {})  # the first task's organisation comes from data.organisation_id: there is none
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "incident" and body["open_tasks"] == []
    assert body["incident"]["bpmn_id"] == "handle" and body["incident"]["message"]
    again = api.client("officer_a").get(f"/api/v1/instances/{body['id']}").get_json()
    assert (again["status"], again["incident"]["id"]) == ("incident", body["incident"]["id"])
    fine = start(api, {"organisation_id": api.org_a.id}).get_json()
    assert (fine["status"], fine["incident"]) == ("running", None)


def test_openapi_document_passes_openapi_spec_validator(api: ApiWorld) -> None:
    document = api.app.test_client().get("/api/v1/openapi.json").get_json()
    validate_openapi(document)  # raises on the first error, e.g. a type list ["integer", "null", "null"]
    instance = document["components"]["schemas"]["Instance"]["properties"]
    assert "incident" in instance["status"]["enum"] and "incident" in instance


def test_form_dates_lie_between_1900_and_2100() -> None:
    schema = {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}
    for value in ("0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01"):
        assert forms.validate(schema, {"day": value}) == {"day": ["Ange ett datum mellan 1900-01-01 och 2100-12-31."]}
    assert forms.validate(schema, {"day": "igår"}) == {"day": ["Ange ett datum (ÅÅÅÅ-MM-DD)."]}
    assert forms.validate(schema, {"day": "1900-01-01"}) == forms.validate(schema, {"day": "2100-12-31"}) == {}


@pytest.fixture
def reporter(world: World) -> ApiClient:
    secret = commit_with_retry(lambda: create_token(world.user("rapportor"), "test", {"read", "write"}, 30)).secret
    return ApiClient(world.app.test_client(), secret)


def test_deviation_event_date_is_a_day_that_has_happened(world: World, reporter: ApiClient) -> None:
    body = {"reporting_organisation_id": world.alingsas.id, "reporting_unit": "Hemtjänst Centrum",
            "receiving_organisation_ids": [world.region.id], "description": "Läkemedelslistan saknades.",
            "category": "discharge", "consequence": "moderate"}
    # The world's clock stands at 2026-03-02 (Stockholm).
    for day in ("0001-01-01", "9999-12-31", "2026-03-03"):
        response = reporter.post("/api/v1/deviations", json={**body, "event_date": day})
        assert response.status_code == 422 and "event_date" in problem_fields(response), day
    assert reporter.post("/api/v1/deviations", json={**body, "event_date": "2026-03-02"}).status_code == 201
