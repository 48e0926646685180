"""The joint bodies' pages and API: the coordinator sets up a steering group of one member per party, its
secretary holds a meeting that decides a dispute, the members named justerar; others read, nobody else writes."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from service.api.tokens import create_token
from service.bodies.models import JointBody, Meeting
from service.disputes.models import Dispute, DisputeStatus
from service.transactions import commit_with_retry
from tests.deviations.world import World, post_form
from tests.disputes.test_dispute_meeting import not_agreed


def _person(world: World, username: str, organisation_id: int) -> str:
    return f"{organisation_id}:{world.user(username).id}"


def set_up_steering_group(world: World) -> JointBody:
    coordinator = world.browser("handlaggare")  # a case officer of Alingsås, which coordinates the agreement
    response = post_form(coordinator, "/organ/nytt", {"name": "Styrgruppen", "kind": "styrgrupp",
                                                        "agreement_ids": [world.agreement.id], "description": "Beslutar."})
    assert response.status_code == 302, response.get_data(as_text=True)
    body_url = response.headers["Location"]
    for username, organisation, role in (("chef_vgr", world.region, "chair"), ("chef_alingsas", world.alingsas, "member"),
                                         ("chef_lerum", world.lerum, "member"), ("handlaggare", world.alingsas, "secretary")):
        page = coordinator.get(body_url)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        response = coordinator.post(f"{body_url}/ledamoter", data={
            "csrf_token": token, "person": _person(world, username, organisation.id), "role": role,
            "mandate": "Beslutar för sin huvudman", "term_from": "2026-01-01"})
        assert response.status_code == 302, response.get_data(as_text=True)
    world.db.session.expire_all()
    return world.db.session.scalars(select(JointBody)).one()


def _post(world: World, username: str, page_url: str, action: str, data: dict[str, Any]) -> Any:
    client = world.browser(username)
    page = client.get(page_url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(action, data={"csrf_token": token, **data})


def test_a_steering_group_set_up_and_a_meeting_that_decides_a_dispute(world: World) -> None:
    db = world.db
    body = set_up_steering_group(world)
    assert [(m.user.username, m.is_chair, m.is_secretary) for m in body.members] == [
        ("chef_vgr", True, False), ("chef_alingsas", False, False), ("chef_lerum", False, False), ("handlaggare", False, True)]
    dispute = not_agreed(world)
    body_url = f"/organ/{body.id}"
    page = world.browser("chef_lerum").get(body_url).get_data(as_text=True)  # a member of another party reads it
    assert "Styrgruppen" in page and 'id="schedule-meeting"' not in page and 'id="add-member"' not in page
    response = _post(world, "handlaggare", body_url, f"{body_url}/moten", {"held_on": "2026-03-02", "place": "Stadshuset"})
    assert response.status_code == 302
    meeting_url = response.headers["Location"]
    meeting_id = int(meeting_url.rsplit("/", 1)[1])
    page = world.browser("handlaggare").get(meeting_url).get_data(as_text=True)
    assert f'value="dispute:{dispute.id}"' in page  # the dispute waiting for this body is offered for the agenda
    agenda = {"case": f"dispute:{dispute.id}"}
    assert _post(world, "handlaggare", meeting_url, f"{meeting_url}/dagordning", agenda).status_code == 302
    members = {m.user.username: m.id for m in body.members}
    # A party's member cannot keep the minutes.
    everyone = {"present": list(members.values())}
    assert _post(world, "chef_alingsas", meeting_url, f"{meeting_url}/narvaro", everyone).status_code == 403
    partial = [members["chef_vgr"], members["chef_alingsas"], members["handlaggare"]]
    assert _post(world, "handlaggare", meeting_url, f"{meeting_url}/narvaro", {"present": partial}).status_code == 302
    item_id = db.session.get(Meeting, meeting_id).agenda[0].id
    decision = {"item_id": item_id, "outcome": "resolve", "text": "Regionen bekostar hjälpmedlet."}
    refused = _post(world, "handlaggare", meeting_url, f"{meeting_url}/beslut", decision)
    assert refused.status_code == 409 and "Lerums kommun" in refused.get_data(as_text=True)
    assert _post(world, "handlaggare", meeting_url, f"{meeting_url}/narvaro", everyone).status_code == 302
    assert _post(world, "handlaggare", meeting_url, f"{meeting_url}/beslut", decision).status_code == 302
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).status == DisputeStatus.RESOLVED
    adjusters = [members["chef_alingsas"], members["chef_lerum"]]
    assert _post(world, "handlaggare", meeting_url, f"{meeting_url}/justerare", {"adjusters": adjusters}).status_code == 302
    for username in ("chef_alingsas", "chef_lerum"):
        assert _post(world, username, meeting_url, f"{meeting_url}/justera", {}).status_code == 302
    page = world.browser("chef_vgr").get(meeting_url).get_data(as_text=True)
    assert "§ 1" in page and "Protokollet är justerat" in page and "Alla parter är företrädda" in page
    assert world.browser("utomstaende").get(meeting_url).status_code == 404


def test_the_api_reads_bodies_with_members_and_meetings(world: World) -> None:
    body = set_up_steering_group(world)
    token = commit_with_retry(lambda: create_token(world.user("chef_lerum"), "läsning", {"read"}, 30)).secret
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/bodies", headers=headers).get_json()
    assert [b["name"] for b in listed["items"]] == ["Styrgruppen"]
    read = client.get(f"/api/v1/bodies/{body.id}", headers=headers).get_json()
    assert read["kind"] == "styrgrupp" and read["agreement_ids"] == [world.agreement.id]
    assert sorted(m["organisation_id"] for m in read["members"] if not m["is_secretary"]) == sorted(
        [world.region.id, world.alingsas.id, world.lerum.id])
    outsider = commit_with_retry(lambda: create_token(world.user("utomstaende"), "läsning", {"read"}, 30)).secret
    assert client.get(f"/api/v1/bodies/{body.id}", headers={"Authorization": f"Bearer {outsider}"}).status_code == 404
