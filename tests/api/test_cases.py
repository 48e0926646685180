"""Deviations and disputes through the API, with the people of tests/deviations/world.py: report (idempotent),
read across organisations (IDOR), answer through the task, open a dispute."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from service.api.tokens import create_token
from service.deviations.models import Deviation
from service.transactions import commit_with_retry
from tests.api.conftest import ApiClient, problem_fields
from tests.deviations.world import World

QUESTION = "Vem bekostar hjälpmedel för personer som skrivs ut till eget boende?"


@pytest.fixture
def clients(world: World) -> dict[str, ApiClient]:
    def client(username: str) -> ApiClient:
        secret = commit_with_retry(lambda: create_token(world.user(username), "test", {"read", "write"}, 30)).secret
        return ApiClient(world.app.test_client(), secret)
    return {name: client(name) for name in ("rapportor", "kontakt_vgr", "kontakt_lerum", "utomstaende", "chef_alingsas",
                                            "chef_vgr", "admin")}


def report_body(world: World, **overrides: Any) -> dict[str, Any]:
    body = {"reporting_organisation_id": world.alingsas.id, "reporting_unit": "Hemtjänst Centrum",
            "receiving_organisation_ids": [world.region.id], "receiving_unit": "Avdelning 12",
            "agreement_id": world.agreement.id, "event_date": "2026-02-26",
            "description": "Vid utskrivningen saknades läkemedelslista.", "category": "discharge", "consequence": "moderate"}
    body.update(overrides)
    return body


def test_report_read_and_answer_through_the_task(world: World, clients: dict[str, ApiClient]) -> None:
    response = clients["rapportor"].post("/api/v1/deviations", json=report_body(world))
    assert response.status_code == 201, response.get_data(as_text=True)
    deviation = response.get_json()
    assert deviation["receivers"][0]["organisation_id"] == world.region.id and deviation["status"] == "open"
    contact = clients["kontakt_vgr"]
    assert contact.get(f"/api/v1/deviations/{deviation['id']}").status_code == 200
    assert contact.get("/api/v1/deviations?status=open").get_json()["total"] == 1
    tasks = contact.get("/api/v1/tasks?bpmn_id=acknowledge").get_json()["items"]
    assert [t["instance_id"] for t in tasks] == [deviation["instance_id"]]
    done = contact.post(f"/api/v1/tasks/{tasks[0]['id']}/complete", json={"data": {"handler": "Enhetschef avdelning 12"}})
    assert done.status_code == 200, done.get_data(as_text=True)
    receiver = contact.get(f"/api/v1/deviations/{deviation['id']}").get_json()["receivers"][0]
    assert receiver["status"] == "acknowledged"


def test_unrelated_organisation_cannot_see_the_deviation(world: World, clients: dict[str, ApiClient]) -> None:
    deviation_id = clients["rapportor"].post("/api/v1/deviations", json=report_body(world)).get_json()["id"]
    for name in ("utomstaende", "kontakt_lerum"):
        assert clients[name].get(f"/api/v1/deviations/{deviation_id}").status_code == 404
        assert clients[name].get("/api/v1/deviations").get_json()["total"] == 0
        assert clients[name].get("/api/v1/tasks").get_json()["total"] == 0


def test_report_refusals_name_the_field_and_change_nothing(world: World, clients: dict[str, ApiClient], db: Any) -> None:
    client = clients["rapportor"]
    cases = [({"category": "unknown"}, "category"), ({"event_date": "igår"}, "event_date"),
             ({"receiving_organisation_ids": [999999]}, "receiving_organisation_ids"),
             ({"description": "Personen 19121212-1212 fick fel medicin."}, "description")]
    for override, field in cases:
        response = client.post("/api/v1/deviations", json=report_body(world, **override))
        assert response.status_code == 422, (override, response.get_data(as_text=True))
        assert field in problem_fields(response), override
    foreign = client.post("/api/v1/deviations", json=report_body(world, reporting_organisation_id=world.region.id))
    assert foreign.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Deviation)) == 0


def test_retried_report_is_reported_once(world: World, clients: dict[str, ApiClient], db: Any) -> None:
    headers = {"Idempotency-Key": "avvikelse-2026-0001"}
    first = clients["rapportor"].post("/api/v1/deviations", json=report_body(world), headers=headers)
    retry = clients["rapportor"].post("/api/v1/deviations", json=report_body(world), headers=headers)
    assert first.status_code == retry.status_code == 201
    assert first.get_json() == retry.get_json()
    assert db.session.scalar(select(func.count()).select_from(Deviation)) == 1
    # The key belongs to the user: another person's identical key is a new request.
    other = clients["kontakt_vgr"].post("/api/v1/deviations", json=report_body(world), headers=headers)
    assert other.status_code == 403


def test_open_and_read_a_dispute(world: World, clients: dict[str, ApiClient]) -> None:
    body = {"agreement_id": world.agreement.id, "opening_organisation_id": world.alingsas.id,
            "other_organisation_ids": [world.region.id], "question": QUESTION}
    assert clients["rapportor"].post("/api/v1/disputes", json=body).status_code == 403  # not a manager
    response = clients["chef_alingsas"].post("/api/v1/disputes", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    dispute = response.get_json()
    assert dispute["level"] == "line"
    assert {p["organisation_id"] for p in dispute["parties"]} == {world.alingsas.id, world.region.id}
    assert clients["chef_vgr"].get(f"/api/v1/disputes/{dispute['id']}").status_code == 200
    assert clients["utomstaende"].get(f"/api/v1/disputes/{dispute['id']}").status_code == 404
    assert clients["chef_vgr"].get("/api/v1/disputes?level=line").get_json()["total"] == 1
    outsider = clients["chef_alingsas"].post("/api/v1/disputes", json={**body, "other_organisation_ids": [world.outsider_org.id]})
    assert outsider.status_code == 422 and "other_organisation_ids" in problem_fields(outsider)


def test_statistics_follow_the_web_rules(world: World, clients: dict[str, ApiClient]) -> None:
    clients["rapportor"].post("/api/v1/deviations", json=report_body(world))
    stats = clients["kontakt_vgr"].get(f"/api/v1/statistics/agreements/{world.agreement.id}?year=2026")
    assert stats.status_code == 200 and stats.get_json()["total"] == 1
    assert clients["utomstaende"].get(f"/api/v1/statistics/agreements/{world.agreement.id}").status_code == 404
    assert clients["kontakt_vgr"].get(f"/api/v1/statistics/organisations/{world.region.id}").get_json()["total"] == 1
    assert clients["kontakt_vgr"].get(f"/api/v1/statistics/organisations/{world.lerum.id}").status_code == 404
