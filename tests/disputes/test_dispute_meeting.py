"""Levels 2 and 3 decided at meetings of joint bodies (issue #20): the three-party agreement's steering group
(one member per party, a secretary) decides at a meeting where every party is present; no party decides alone;
the county's joint group decides after the officials' preparation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from service import clock
from service.agreements.lifecycle import _instructions_to_follow_up
from service.audit import verify
from service.audit.models import AuditEvent
from service.bodies.models import BodyKind, MeetingDecision
from service.bodies.operations import (
    NewMember,
    add_agenda_item,
    add_member,
    create_body,
    record_attendance,
    record_meeting_decision,
    schedule_meeting,
)
from service.disputes.models import Dispute, DisputeLevel, DisputeStatus
from service.errors import InvalidTransition
from service.transactions import commit_with_retry
from tests.bodies.steering import member_ids, steering_group
from tests.deviations.world import World, complete, post_form, ready_ids, ready_task
from tests.disputes.test_dispute_flow import open_dispute


def not_agreed(world: World) -> Dispute:
    """A three-party dispute that the line organisation does not settle: on to the steering group."""
    dispute = open_dispute(world, other_organisation_ids=[world.region.id, world.lerum.id])
    complete(world, "chef_alingsas", "line_position", {"outcome": "not_agreed", "motivation": "Oense om kostnaden."},
             world.alingsas.id)
    world.db.session.expire_all()
    return world.db.session.get(Dispute, dispute.id)


def test_the_steering_group_decides_at_a_meeting_where_every_party_is_present(world: World) -> None:
    db = world.db
    body = steering_group(world)
    dispute = not_agreed(world)
    assert (dispute.level, dispute.steering_body_id, ready_ids(db)) == (
        DisputeLevel.STEERING_GROUP, body.id, ["steering_decision"])
    task = ready_task(db, "steering_decision")
    # A party's member, and the opening party's manager, cannot decide it alone; nor the secretary outside a meeting.
    for username in ("styrgrupp", "handlaggare"):
        refused = post_form(world.browser(username), f"/uppgifter/{task.id}", {"outcome": "resolve", "decision": "Nej."})
        assert refused.status_code == 409 and "aldrig av en part ensam" in refused.get_data(as_text=True)
    assert world.browser("chef_alingsas").post(f"/uppgifter/{task.id}", data={}).status_code in (400, 403, 404)
    secretary = world.user("handlaggare")
    meeting = schedule_meeting(body, date(2026, 3, 2), by=secretary)
    add_agenda_item(meeting, by=secretary, case_type="dispute", case_id=dispute.id)
    db.session.commit()
    record_attendance(meeting, member_ids(body, "chef_vgr", "chef_alingsas", "handlaggare", world=world), by=secretary)
    with pytest.raises(InvalidTransition, match="Lerums kommun"):
        record_meeting_decision(meeting, "dispute", dispute.id, "Regionen bekostar.", by=secretary)
    db.session.rollback()
    decided = "Regionen bekostar hjälpmedlet; kommunen tar emot det."

    def hold_meeting() -> None:
        record_attendance(meeting, [m.id for m in body.members], by=secretary)
        record_meeting_decision(meeting, "dispute", dispute.id, decided, by=secretary, outcome="resolve_with_instruction")

    commit_with_retry(hold_meeting)
    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute.id)
    assert (dispute.status, dispute.level, dispute.needs_instruction) == (
        DisputeStatus.RESOLVED, DisputeLevel.STEERING_GROUP, True)
    assert dispute.decision == f"§ 1 (Styrgruppen Alingsås–Lerum 2026-03-02): {decided}"
    assert ready_ids(db) == ["write_instruction"]
    completed = db.session.get(type(task), task.id)
    assert completed.completed_by_id == secretary.id
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.seq > 0).order_by(AuditEvent.seq)).all()
    landing = actions.index("body.decision_recorded")
    assert {"dispute.resolved", "task.completed"} <= set(actions[landing:])  # in the meeting decision's transaction
    page = world.browser("chef_lerum").get(f"/tvister/{dispute.id}").get_data(as_text=True)
    assert "Avgjord" in page and "§ 1" in page
    # The common instruction is filed with the agreement's routines and taken up in its next follow-up.
    complete(world, "handlaggare", "write_instruction", {"instruction_title": "Hjälpmedel vid utskrivning",
                                                         "instruction": "Regionen beställer; kommunen tar emot."})
    page = world.browser("chef_lerum").get(f"/avtal/{world.agreement.id}").get_data(as_text=True)
    assert 'id="instructions"' in page and "Hjälpmedel vid utskrivning" in page
    with world.app.test_request_context():
        prefilled = _instructions_to_follow_up(world.agreement)
    assert dispute.case_number in prefilled["action_plan"] and "Hjälpmedel vid utskrivning" in prefilled["action_plan"]
    assert verify().is_intact


def test_the_county_group_decides_after_the_preparation(world: World) -> None:
    db = world.db
    steering = steering_group(world)
    county = create_body("SocialKOLA Västra Götaland", BodyKind.LANSNIVA, [world.agreement], by=None)
    add_member(county, NewMember(world.county.id, world.user("lansniva").id, date(2026, 1, 1), is_secretary=True), by=None)
    for username, organisation in (("chef_vgr", world.region), ("chef_alingsas", world.alingsas), ("chef_lerum", world.lerum)):
        add_member(county, NewMember(organisation.id, world.user(username).id, date(2026, 1, 1)), by=None)
    db.session.commit()
    dispute = not_agreed(world)
    secretary = world.user("handlaggare")

    def escalate() -> None:
        meeting = schedule_meeting(steering, date(2026, 3, 2), by=secretary)
        add_agenda_item(meeting, by=secretary, case_type="dispute", case_id=dispute.id)
        record_attendance(meeting, [m.id for m in steering.members], by=secretary)
        record_meeting_decision(meeting, "dispute", dispute.id, "Frågan är principiell.", by=secretary, outcome="escalate")

    commit_with_retry(escalate)
    assert ready_ids(db) == ["county_preparation"]
    clock.advance(timedelta(days=3))
    lansniva = world.user("lansniva")
    meeting = schedule_meeting(county, date(2026, 3, 5), by=lansniva)
    add_agenda_item(meeting, by=lansniva, case_type="dispute", case_id=dispute.id)
    record_attendance(meeting, [m.id for m in county.members], by=lansniva)
    db.session.commit()
    with pytest.raises(InvalidTransition, match="inte beredd"):
        record_meeting_decision(meeting, "dispute", dispute.id, "För tidigt.", by=lansniva)
    db.session.rollback()
    complete(world, "lansniva", "county_preparation", {"summary": "Oense om kostnaden.", "proposal": "Delas lika."})
    task = ready_task(db, "county_decision")
    refused = post_form(world.browser("lansniva"), f"/uppgifter/{task.id}", {"decision": "Ensam."})
    assert refused.status_code == 409

    def decide() -> None:
        meeting = schedule_meeting(county, date(2026, 3, 6), by=lansniva)
        add_agenda_item(meeting, by=lansniva, case_type="dispute", case_id=dispute.id)
        record_attendance(meeting, [m.id for m in county.members], by=lansniva)
        record_meeting_decision(meeting, "dispute", dispute.id, "Kostnaden delas lika.", by=lansniva)

    commit_with_retry(decide)
    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute.id)
    assert (dispute.status, dispute.level, dispute.county_body_id) == (DisputeStatus.RESOLVED, DisputeLevel.COUNTY, county.id)
    assert ready_ids(db) == []


def test_a_running_dispute_waits_for_a_steering_group_set_up_later(world: World) -> None:
    db = world.db
    dispute = not_agreed(world)
    assert dispute.steering_body_id is None  # the agreement had no steering group when it was opened
    body = steering_group(world)
    secretary = world.user("handlaggare")

    def hold_meeting() -> None:
        meeting = schedule_meeting(body, date(2026, 3, 2), by=secretary)
        add_agenda_item(meeting, by=secretary, case_type="dispute", case_id=dispute.id)
        record_attendance(meeting, [m.id for m in body.members], by=secretary)
        record_meeting_decision(meeting, "dispute", dispute.id, "Regionen bekostar.", by=secretary)

    commit_with_retry(hold_meeting)
    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute.id)
    assert (dispute.status, dispute.steering_body_id) == (DisputeStatus.RESOLVED, body.id)
    assert ready_ids(db) == []


def test_the_dispute_page_names_the_deciding_body_and_its_meeting(world: World) -> None:
    db = world.db
    body = steering_group(world)
    dispute = not_agreed(world)
    page = world.browser("chef_lerum").get(f"/tvister/{dispute.id}").get_data(as_text=True)
    assert f'<a href="/organ/{body.id}">Styrgruppen Alingsås–Lerum</a>' in page
    assert 'id="meeting-decisions"' not in page
    secretary = world.user("handlaggare")

    def hold_meeting() -> None:
        meeting = schedule_meeting(body, date(2026, 3, 2), by=secretary)
        add_agenda_item(meeting, by=secretary, case_type="dispute", case_id=dispute.id)
        record_attendance(meeting, [m.id for m in body.members], by=secretary)
        record_meeting_decision(meeting, "dispute", dispute.id, "Frågan är principiell.", by=secretary, outcome="escalate")

    commit_with_retry(hold_meeting)
    meeting_id = db.session.scalar(select(MeetingDecision.meeting_id).where(MeetingDecision.case_id == dispute.id))
    page = world.browser("chef_lerum").get(f"/tvister/{dispute.id}").get_data(as_text=True)
    assert (f'<a href="/organ/moten/{meeting_id}">Styrgruppen Alingsås–Lerum, möte 2026-03-02</a>' in page
            and "§ 1 · eskaleras" in page)
    page = world.browser("chef_lerum").get(f"/tvister/{dispute.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Decisions at meetings" in page and "meeting 2026-03-02" in page and "escalated" in page
