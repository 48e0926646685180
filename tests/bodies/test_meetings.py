"""A joint body meets: agenda, attendance, decisions with § recorded by its secretary when every party is
present, and the protocol justerat by the members named for it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.bodies.models import MeetingDecision
from service.bodies.operations import (
    CaseType,
    add_agenda_item,
    choose_adjusters,
    justera,
    record_attendance,
    record_meeting_decision,
    register_case_type,
)
from service.errors import InvalidTransition, NotPermitted, ValidationFailed
from tests.bodies.steering import meeting_of, member_ids, steering_group
from tests.deviations.world import World

LANDED: list[tuple[int, str]] = []


@pytest.fixture
def test_case_type() -> None:
    """A case type whose decisions are noted in LANDED (a refusal in ``land`` rolls the decision back)."""
    def land(decision: MeetingDecision, by: Any) -> None:
        if decision.text == "vägra":
            raise InvalidTransition("Ärendet tar inte emot beslutet.")
        LANDED.append((int(decision.case_id or 0), decision.text))

    register_case_type("test_case", CaseType(label="Testärende", title=lambda i: f"Testärende {i}" if i < 100 else None,
                                             land=land))
    LANDED.clear()


def test_a_decision_needs_a_member_of_every_party_present(world: World, test_case_type: None) -> None:
    body = steering_group(world)
    meeting = meeting_of(world, body)
    secretary = world.user("handlaggare")
    add_agenda_item(meeting, by=secretary, case_type="test_case", case_id=7)
    assert [i.title for i in meeting.agenda] == ["Testärende 7"]
    with pytest.raises(InvalidTransition, match="närvaro är inte registrerad"):
        record_meeting_decision(meeting, "test_case", 7, "Beslut", by=secretary)
    record_attendance(meeting, member_ids(body, "chef_vgr", "chef_alingsas", "handlaggare", world=world), by=secretary)
    with pytest.raises(InvalidTransition, match="Lerums kommun"):
        record_meeting_decision(meeting, "test_case", 7, "Beslut", by=secretary)
    record_attendance(meeting, member_ids(body, "chef_vgr", "chef_alingsas", "chef_lerum", world=world), by=secretary)
    decision = record_meeting_decision(meeting, "test_case", 7, "Regionen bekostar", by=secretary)
    assert (decision.paragraph, LANDED) == (1, [(7, "Regionen bekostar")])
    events = world.db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("body.%"))
                                      .order_by(AuditEvent.seq)).all()
    assert events[-1] == "body.decision_recorded"


def test_only_the_secretary_or_chair_records_and_only_cases_on_the_agenda(world: World, test_case_type: None) -> None:
    body = steering_group(world)
    meeting = meeting_of(world, body)
    secretary = world.user("handlaggare")
    record_attendance(meeting, [m.id for m in body.members], by=secretary)
    add_agenda_item(meeting, by=secretary, case_type="test_case", case_id=1)
    with pytest.raises(NotPermitted):  # a member of one party cannot write the body's decision
        record_meeting_decision(meeting, "test_case", 1, "Kommunen bekostar", by=world.user("chef_alingsas"))
    with pytest.raises(ValidationFailed) as refused:
        record_meeting_decision(meeting, "test_case", 2, "Beslut", by=secretary)
    assert "case_id" in refused.value.fields
    with pytest.raises(ValidationFailed):
        add_agenda_item(meeting, by=secretary, case_type="test_case", case_id=500)  # no such case
    record_meeting_decision(meeting, "test_case", 1, "Av ordföranden", by=world.user("chef_vgr"), paragraph=4)
    with pytest.raises(ValidationFailed) as taken:
        record_meeting_decision(meeting, "test_case", 1, "Igen", by=secretary, paragraph=4)
    assert "paragraph" in taken.value.fields
    with pytest.raises(InvalidTransition):
        record_meeting_decision(meeting, "test_case", 1, "vägra", by=secretary)
    assert [d.paragraph for d in meeting.decisions] == [4] or world.db.session.rollback() is None


def test_the_protocol_is_justerat_by_the_named_members_and_then_closed(world: World, test_case_type: None) -> None:
    body = steering_group(world)
    meeting = meeting_of(world, body)
    secretary = world.user("handlaggare")
    record_attendance(meeting, [m.id for m in body.members], by=secretary)
    add_agenda_item(meeting, by=secretary, title="Information om verksamheten")
    record_meeting_decision(meeting, "", None, "Informationen noteras.", by=secretary)
    choose_adjusters(meeting, member_ids(body, "chef_alingsas", "chef_lerum", world=world), by=secretary)
    with pytest.raises(NotPermitted):
        justera(meeting, by=world.user("chef_vgr"))
    justera(meeting, by=world.user("chef_alingsas"))
    assert meeting.justerad_at is None
    justera(meeting, by=world.user("chef_lerum"))
    assert meeting.justerad_at is not None and meeting.decisions[0].is_justerad
    with pytest.raises(InvalidTransition, match="justerat"):
        add_agenda_item(meeting, by=secretary, title="För sent")


def test_members_out_of_term_do_not_count(world: World) -> None:
    body = steering_group(world)
    body.members[2].term_to = date(2026, 2, 1)  # Lerum's member left before the meeting
    meeting = meeting_of(world, body)
    assert world.lerum.id not in meeting.represented_organisation_ids()
    with pytest.raises(ValidationFailed):
        record_attendance(meeting, [body.members[2].id], by=world.user("handlaggare"))
