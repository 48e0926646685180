"""Issue #20 items 6 and 8: follow-ups are shown on the agreement page and in the API; the routine-health page
and its notifications tell the coordinator what has stopped running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from service import clock
from service.agreements.models import AgreementStatus, AgreementVersion, FollowUp
from service.api.tokens import create_token
from service.bodies.models import BodyKind
from service.bodies.operations import create_body
from service.deviations.operations import report_deviation
from service.notifications.models import Notification
from service.routines.operations import notify_new_findings
from service.transactions import commit_with_retry
from tests.deviations.world import START, World


def _follow_up(world: World) -> FollowUp:
    def make() -> FollowUp:
        agreement = world.agreement
        version = AgreementVersion(agreement_id=agreement.id, number=1, title=agreement.title, status="adopted",
                                   created_by_id=world.user("handlaggare").id)
        world.db.session.add(version)
        world.db.session.flush()
        agreement.status, agreement.activated_at, agreement.current_version_id = AgreementStatus.ACTIVE, START, version.id
        row = FollowUp(agreement_id=agreement.id, version_id=version.id, period_start=START,
                       period_end=START + timedelta(days=365), deviations_count=4, disputes_count=1,
                       process_indicators="SIP upprättade inom 14 dagar: 80 %", result_indicators="Färre akuta inläggningar",
                       action_plan="Gemensam utbildning i SIP under våren.", recorded_by_id=world.user("handlaggare").id)
        world.db.session.add(row)
        world.db.session.flush()
        return row
    return commit_with_retry(make)


def test_follow_ups_on_the_agreement_page_and_in_the_api(world: World) -> None:
    _follow_up(world)
    page = world.browser("kontakt_vgr").get(f"/avtal/{world.agreement.id}").get_data(as_text=True)
    assert 'id="follow-ups"' in page and "Gemensam utbildning i SIP under våren." in page
    assert "2026-03-02 – 2027-03-02" in page
    token = commit_with_retry(lambda: create_token(world.user("kontakt_vgr"), "test", {"read"}, 30)).secret
    client = world.app.test_client()
    response = client.get(f"/api/v1/agreements/{world.agreement.id}/follow-ups", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    [item] = response.get_json()["items"]
    assert (item["deviations_count"], item["disputes_count"], item["version_number"]) == (4, 1, 1)
    assert item["action_plan"] == "Gemensam utbildning i SIP under våren." and item["recorded_by"] == "Handlaggare"
    outsider = commit_with_retry(lambda: create_token(world.user("utomstaende"), "test", {"read"}, 30)).secret
    response = client.get(f"/api/v1/agreements/{world.agreement.id}/follow-ups",
                          headers={"Authorization": f"Bearer {outsider}"})
    assert response.status_code == 404


def _findings_world(world: World) -> None:
    """Lerum's only deviation contact has left; the agreement, in force since March 2026, has not been followed
    up; a steering group has never met."""
    def make() -> None:
        world.user("kontakt_lerum").is_enabled = False
        fields = {"reporting_organisation_id": world.alingsas.id, "reporting_unit": "Hemtjänst Norr",
                  "receiving_organisation_ids": [world.lerum.id], "agreement_id": world.agreement.id,
                  "event_date": "2026-03-01", "category": "sip", "description": "SIP kallades inte.",
                  "consequence": "minor"}
        report_deviation(fields, by=world.user("rapportor"))
        world.agreement.status, world.agreement.activated_at = AgreementStatus.ACTIVE, START
        create_body("Styrgruppen", BodyKind.STYRGRUPP, [world.agreement], by=None)
    commit_with_retry(make)


def test_routine_health_page_shows_the_coordinator_what_has_stopped(world: World) -> None:
    _findings_world(world)
    page = world.browser("handlaggare").get("/rutiner").get_data(as_text=True)
    assert "Kvittera avvikelsen" in page and "gruppen har inga medlemmar" in page  # Lerum's contacts: nobody
    assert "uppföljningen skulle ha gjorts" not in page and "Styrgruppen har inte haft" not in page  # not yet
    clock.freeze(START + timedelta(days=400))
    page = world.browser("handlaggare").get("/rutiner").get_data(as_text=True)
    assert "uppföljningen skulle ha gjorts senast 2027-03-02" in page
    assert "Styrgruppen har inte haft något möte." in page
    other = world.browser("utomstaende").get("/rutiner").get_data(as_text=True)
    assert "gruppen har inga medlemmar" not in other and "Styrgruppen" not in other


def test_each_finding_is_told_to_the_coordinators_once(world: World) -> None:
    _findings_world(world)
    clock.freeze(START + timedelta(days=400))
    assert commit_with_retry(notify_new_findings) == 3
    assert commit_with_retry(notify_new_findings) == 0
    world.db.session.expire_all()
    subjects = _subjects(world, "chef_alingsas")
    assert len(subjects) == 3 and all(s.startswith("Rutinerna: ") for s in subjects)
    assert _subjects(world, "chef_vgr") == []


def _subjects(world: World, username: str) -> list[Any]:
    return list(world.db.session.scalars(select(Notification.subject).where(
        Notification.user_id == world.user(username).id, Notification.subject.like("Rutinerna%"))))


def test_a_late_analysis_is_a_finding(world: World) -> None:
    from service.deviations.models import Deviation, DeviationStatus
    from service.routines.checks import findings

    def make() -> None:
        fields = {"reporting_organisation_id": world.alingsas.id, "reporting_unit": "Hemtjänst Norr",
                  "receiving_organisation_ids": [world.region.id], "agreement_id": world.agreement.id,
                  "event_date": "2026-03-01", "category": "sip", "description": "SIP kallades inte.",
                  "consequence": "minor"}
        deviation = report_deviation(fields, by=world.user("rapportor"))
        deviation.status, deviation.analysis_started_at = DeviationStatus.IN_ANALYSIS, START
    commit_with_retry(make)
    assert [f.kind for f in findings() if f.kind == "analysis_overdue"] == []
    clock.freeze(START + timedelta(days=31))
    [late] = [f for f in findings() if f.kind == "analysis_overdue"]
    deviation = world.db.session.scalars(select(Deviation)).one()
    assert late.organisation_id == world.alingsas.id and deviation.case_number in late.text
    assert datetime(2026, 4, 2, tzinfo=UTC) <= clock.now()
