"""Disputes through the web pages: opened by a party's manager, resolved in the line organisation, or
escalated by each level's timer to the steering group and the county level, every step in the audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service import clock
from service.audit import verify
from service.audit.models import AuditEvent
from service.disputes.models import Dispute, DisputeLevel, DisputeStatus
from tests.deviations.world import START, World, complete, fire_due_timer, post_form, ready_ids, ready_task

QUESTION = "Vem bekostar hjälpmedel för personer som skrivs ut till eget boende?"


def open_dispute(world: World, **overrides: Any) -> Dispute:
    data = {"agreement_id": world.agreement.id, "opening_organisation_id": world.alingsas.id,
            "other_organisation_ids": [world.region.id], "question": QUESTION,
            "background": "Tre ärenden under hösten där ingen part ville beställa hjälpmedlet.", **overrides}
    response = post_form(world.browser("chef_alingsas"), "/tvister/ny", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    dispute_id = int(re.search(r"/tvister/(\d+)$", response.headers["Location"]).group(1))
    return world.db.session.get(Dispute, dispute_id)


def dispute_events(db: Any) -> list[tuple[str, dict[str, Any]]]:
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("dispute.%")).order_by(AuditEvent.seq))
    return [(e.action, e.data) for e in events]


def test_only_a_manager_of_a_party_opens_a_dispute(world: World) -> None:
    assert world.browser("rapportor").get("/tvister/ny").status_code == 403
    response = post_form(world.browser("chef_alingsas"), "/tvister/ny", {
        "agreement_id": world.agreement.id, "opening_organisation_id": world.alingsas.id,
        "other_organisation_ids": [world.outsider_org.id], "question": QUESTION})
    assert response.status_code == 422 and "Parterna i tvisten måste vara parter i avtalet." in response.get_data(as_text=True)
    assert world.db.session.scalars(select(Dispute)).all() == []


def test_resolved_in_the_line_organisation_with_a_common_instruction(world: World) -> None:
    db = world.db
    dispute = open_dispute(world)
    assert [p.case_number for p in dispute.parties] == ["TV-2026-0001", "TV-2026-0001"]
    assert dispute.level_due_at == START + timedelta(days=14)
    assert ready_task(db, "line_position", world.region.id).due_at == START + timedelta(days=14)
    assert QUESTION in world.browser("chef_vgr").get(f"/tvister/{dispute.id}").get_data(as_text=True)
    agreed = {"outcome": "agreed", "solution": "Regionen beställer hjälpmedlet före utskrivningen."}
    complete(world, "chef_alingsas", "line_position", agreed, world.alingsas.id)
    complete(world, "chef_vgr", "line_position", {**agreed, "needs_instruction": "on"}, world.region.id)
    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute.id)
    assert (dispute.status, dispute.level, dispute.decision) == (
        DisputeStatus.RESOLVED, DisputeLevel.LINE, "Regionen beställer hjälpmedlet före utskrivningen.")
    complete(world, "handlaggare", "write_instruction", {"instruction_title": "Hjälpmedel vid utskrivning",
                                                         "instruction": "Regionen beställer; kommunen tar emot."})
    assert ready_ids(db) == []
    assert [action for action, _ in dispute_events(db)] == [
        "dispute.level_configured", "dispute.opened", "dispute.position_recorded", "dispute.position_recorded",
        "dispute.resolved", "dispute.instruction_written"]
    page = world.browser("chef_vgr").get(f"/tvister/{dispute.id}").get_data(as_text=True)
    assert "Avgjord" in page and "Hjälpmedel vid utskrivning" in page
    assert world.browser("lansniva").get(f"/tvister/{dispute.id}").status_code == 404  # never reached the county


def test_escalated_by_timer_to_the_steering_group_and_the_county_level(world: World) -> None:
    db = world.db
    dispute = open_dispute(world)
    complete(world, "chef_vgr", "line_position", {"outcome": "agreed", "solution": "Kommunen beställer."}, world.region.id)
    # Alingsås' manager never answers: after 14 days the dispute goes to the steering group by itself.
    clock.advance(timedelta(days=14, seconds=1))
    fire_due_timer(db, "level_1_deadline")
    assert ready_ids(db) == ["steering_decision"]
    steering = ready_task(db, "steering_decision")
    assert (steering.organisation_id, steering.due_at) == (world.alingsas.id, clock.now() + timedelta(days=30))
    # Level 2 is the joint steering group's, at a meeting: a member of one party cannot decide it alone.
    refused = post_form(world.browser("styrgrupp"), f"/uppgifter/{steering.id}",
                        {"outcome": "resolve", "decision": "Vi bestämmer."})
    assert refused.status_code == 409 and "aldrig av en part ensam" in refused.get_data(as_text=True)
    assert ready_ids(db) == ["steering_decision"]
    # Nor does the steering group decide within its 30 days: on to the county level.
    clock.advance(timedelta(days=30, seconds=1))
    fire_due_timer(db, "level_2_deadline")
    # Level 3 starts with the officials' preparation; the county level (here without a joint group) then decides.
    complete(world, "lansniva", "county_preparation", {"summary": "Parterna är oense om kostnaden.",
                                                       "proposal": "Regionen bekostar hjälpmedlet."})
    county = ready_task(db, "county_decision")
    assert county.organisation_id == world.county.id and "Besluta i tvisten (länsnivå)" in \
        world.browser("lansniva").get("/uppgifter").get_data(as_text=True)
    assert "Nivå 3: länsnivå" in world.browser("lansniva").get(f"/tvister/{dispute.id}").get_data(as_text=True)
    complete(world, "lansniva", "county_decision", {"decision": "Regionen bekostar hjälpmedlet; kommunen tar emot det."})
    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute.id)
    assert (dispute.status, dispute.level) == (DisputeStatus.RESOLVED, DisputeLevel.COUNTY)
    assert ready_ids(db) == []
    events = dispute_events(db)[1:]
    assert [(a, d.get("from_level"), d.get("to_level"), d.get("by_timer")) for a, d in events] == [
        ("dispute.opened", None, None, None),
        ("dispute.position_recorded", None, None, None),
        ("dispute.escalated", "line", "steering_group", True),
        ("dispute.escalated", "steering_group", "county", True),
        ("dispute.prepared", None, None, None),
        ("dispute.resolved", None, None, None)]
    assert events[-1][1]["level"] == "county"
    timer_events = db.session.scalars(select(AuditEvent.data).where(AuditEvent.action == "timer.fired")).all()
    assert sorted(e["timer"] for e in timer_events) == ["level_1_deadline", "level_2_deadline"]
    page = world.browser("chef_alingsas").get(f"/tvister/{dispute.id}").get_data(as_text=True)
    assert page.count("av sig själv: nivåns tid gick ut") == 2
    assert verify().is_intact
