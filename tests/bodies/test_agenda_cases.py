"""Issue #20 item 2: a meeting's agenda is made of cases — besides disputes and the annual report, deviations
waiting for analysis and the agreement's follow-ups. The body's decision (§) lands on each: in the deviation's
history every party reads, and with the follow-up on the agreement page and in the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.agreements.models import AgreementVersion, FollowUp
from service.audit.models import AuditEvent
from service.bodies.models import Meeting
from service.bodies.operations import (
    CaseType,
    add_agenda_item,
    get_case_type,
    record_attendance,
    record_meeting_decision,
)
from service.deviations.models import EntryKind
from service.errors import InvalidTransition
from service.reports.follow_ups import list_follow_ups
from service.transactions import commit_with_retry
from tests.bodies.steering import meeting_of, steering_group
from tests.deviations.test_analysis_follow_through import _to_analysis
from tests.deviations.world import World, make_agreement


def _actions(world: World, prefix: str) -> list[str]:
    return list(world.db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like(f"{prefix}%"))
                                         .order_by(AuditEvent.seq)))


def _steering_meeting(world: World, case_type: str) -> tuple[Meeting, CaseType]:
    """A meeting of the agreement's steering group, every member present, and the case type it may take up."""
    body = steering_group(world)
    meeting = meeting_of(world, body)
    record_attendance(meeting, [m.id for m in body.members], by=world.user("handlaggare"))
    spec = get_case_type(case_type)
    assert spec is not None
    return meeting, spec


def test_a_deviation_waiting_for_analysis_is_decided_at_a_meeting_and_every_party_reads_it(world: World) -> None:
    deviation = _to_analysis(world)
    meeting, spec = _steering_meeting(world, "deviation")
    secretary = world.user("handlaggare")
    assert [case_id for case_id, _ in spec.candidates(meeting)] == [deviation.id]

    add_agenda_item(meeting, by=secretary, case_type="deviation", case_id=deviation.id)
    text = "Rutinen för läkemedelslistor ses över av båda parter före juni."
    decision = record_meeting_decision(meeting, "deviation", deviation.id, text, by=secretary)
    world.db.session.commit()

    [entry] = [e for e in deviation.entries if e.kind == EntryKind.MEETING_DECISION]
    assert entry.text == f"Styrgruppen Alingsås–Lerum 2026-03-02 § {decision.paragraph}: {text}"
    assert _actions(world, "deviation.meeting")[-1] == "deviation.meeting_decision"
    for reader in ("rapportor", "kontakt_vgr"):  # the reporting and the receiving party
        page = world.browser(reader).get(f"/avvikelser/{deviation.id}").get_data(as_text=True)
        assert "Beslut vid möte" in page and text in page


def test_a_deviation_of_another_agreement_cannot_be_decided_by_the_body(world: World) -> None:
    deviation = _to_analysis(world)
    other = make_agreement(world.db, "Ett annat avtal", world.lerum, [world.lerum, world.region], world.user("handlaggare"))
    deviation.agreement_id = other.id
    world.db.session.commit()
    meeting, spec = _steering_meeting(world, "deviation")
    secretary = world.user("handlaggare")
    assert spec.candidates(meeting) == []
    add_agenda_item(meeting, by=secretary, case_type="deviation", case_id=deviation.id)
    with pytest.raises(InvalidTransition, match="hör inte till"):
        record_meeting_decision(meeting, "deviation", deviation.id, "Beslut", by=secretary)


def test_a_follow_up_is_treated_at_a_meeting_and_shown_with_its_decision(world: World) -> None:
    agreement = world.agreement
    version = AgreementVersion(agreement_id=agreement.id, number=1, title=agreement.title, sections={},
                               created_by_id=world.user("handlaggare").id)
    world.db.session.add(version)
    world.db.session.flush()
    follow_up = FollowUp(agreement_id=agreement.id, version_id=version.id,
                         period_start=datetime(2025, 3, 1, tzinfo=UTC), period_end=datetime(2026, 2, 28, tzinfo=UTC),
                         deviations_count=4, disputes_count=1, process_indicators="SIP i 80 % av ärendena.",
                         result_indicators="Färre avbrutna insatser.", action_plan="Gemensam utbildning i SIP.",
                         recorded_by_id=world.user("handlaggare").id)
    world.db.session.add(follow_up)
    world.db.session.commit()
    meeting, spec = _steering_meeting(world, "follow_up")
    secretary = world.user("handlaggare")
    assert [case_id for case_id, _ in spec.candidates(meeting)] == [follow_up.id]

    add_agenda_item(meeting, by=secretary, case_type="follow_up", case_id=follow_up.id)
    assert meeting.agenda[-1].title.startswith("Uppföljning 2025-03-01–2026-02-28: ")
    text = "Uppföljningen läggs till handlingarna; handlingsplanen fastställs."
    decision = commit_with_retry(lambda: record_meeting_decision(meeting, "follow_up", follow_up.id, text, by=secretary))

    treated = f"Styrgruppen Alingsås–Lerum 2026-03-02 § {decision.paragraph}: {text}"
    assert list_follow_ups(agreement.id)[0].meeting_decisions == (treated,)
    meeting_page = world.browser("handlaggare").get(f"/organ/moten/{meeting.id}").get_data(as_text=True)
    assert f'<a href="/avtal/{agreement.id}">Uppföljning 2025-03-01–2026-02-28' in meeting_page
    assert spec.candidates(meeting) == []  # treated once
    assert _actions(world, "agreement.follow_up")[-1] == "agreement.follow_up_treated"
    page = world.browser("chef_lerum").get(f"/avtal/{agreement.id}").get_data(as_text=True)
    assert "Behandlad vid möte" in page and text in page
    api = world.browser("chef_lerum").get(f"/api/v1/agreements/{agreement.id}/follow-ups").get_json()
    assert api["items"][0]["meeting_decisions"] == [treated]
