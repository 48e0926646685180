"""Agreements through the web pages: drafting, remiss, decisions to laga kraft,
return and revision, amendments with a per-section diff. The clock is controlled; timers are fired the way
the scheduler's job fires them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import clock
from service.agreements.models import Agreement, AgreementStatus, DecisionStage, VersionStatus
from service.audit import verify
from service.audit.models import AuditEvent
from service.parties.models import Role
from service.processes.models import HumanTask, ProcessTimer, TaskStatus, TimerStatus
from service.processes.operations import fire_timer
from service.transactions import commit_with_retry
from tests.conftest import MINUTES, Parties, csrf_token, decision_data, draft_data, login


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # after the decisions' dates (conftest.MINUTES)
    yield
    clock.reset()


def post_form(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def task_url(db: Any, bpmn_id: str, organisation_id: int | None = None) -> str:
    db.session.expire_all()
    query = select(HumanTask).where(HumanTask.status == TaskStatus.READY, HumanTask.bpmn_id == bpmn_id)
    if organisation_id is not None:
        query = query.where(HumanTask.organisation_id == organisation_id)
    return f"/uppgifter/{db.session.scalars(query).one().id}"


def as_user(client: FlaskClient, username: str) -> None:
    """Log in as ``username``; a login replaces whoever was logged in on this client."""
    assert login(client, username).status_code == 302


def complete(client: FlaskClient, db: Any, username: str, bpmn_id: str, data: dict[str, Any],
             organisation_id: int | None = None) -> Any:
    """Complete the ready task ``bpmn_id``; a decision is preceded by the proposal's registration on arrival
    (receive_proposal) when that is still open, as a party's secretary does before any decision."""
    if bpmn_id == "decide" and organisation_id is not None and is_ready(db, "receive_proposal", organisation_id):
        receive(client, db, username, organisation_id)
    as_user(client, username)
    response = post_form(client, task_url(db, bpmn_id, organisation_id), data)
    assert response.status_code == 302, _refusal(response.get_data(as_text=True))
    return response


def _refusal(page: str) -> str:
    """What a refused form says: its status line and each field's error (the page itself is long)."""
    said = re.findall(r'<p class="(?:field-error|error)"[^>]*>(.*?)</p>|role="alert"[^>]*>(.*?)<', page, re.S)
    return "; ".join(part.strip() for pair in said for part in pair if part.strip()) or page[:2000]


def is_ready(db: Any, bpmn_id: str, organisation_id: int) -> bool:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.status == TaskStatus.READY, HumanTask.bpmn_id == bpmn_id,
        HumanTask.organisation_id == organisation_id)) > 0


def receive(client: FlaskClient, db: Any, username: str, organisation_id: int, **overrides: Any) -> Any:
    """Register the proposal on arrival (the party's diarienummer and the day it came in)."""
    data = {"received_on": "2026-11-03", "diarienummer": f"0948/26-{organisation_id}", **overrides}
    return complete(client, db, username, "receive_proposal", data, organisation_id)


def receive_all(client: FlaskClient, db: Any, parties: Parties) -> None:
    for organisation in parties.all:
        receive(client, db, parties.secretaries[organisation.id].username, organisation.id)


def start_agreement(client: FlaskClient, parties: Parties, title: str = "Mini-Maria Göteborg") -> int:
    as_user(client, "anna")
    response = post_form(client, "/avtal/nytt", {"title": title, "organisation_id": parties.goteborg.id})
    assert response.status_code == 302
    return int(re.search(r"/avtal/(\d+)", response.headers["Location"]).group(1))


def fire_due_timers(db: Any) -> int:
    """Run the job of every due timer; returns how many timers fired (one job may fire several)."""
    db.session.expire_all()
    due = db.session.scalars(select(ProcessTimer.id).where(
        ProcessTimer.status == TimerStatus.WAITING, ProcessTimer.due_at <= clock.now())).all()
    for timer_id in due:
        commit_with_retry(lambda timer_id=timer_id: fire_timer(timer_id))
    db.session.expire_all()
    return len([row for row in db.session.scalars(select(ProcessTimer).where(ProcessTimer.id.in_(due)))
                if row.status == TimerStatus.FIRED])


def adopt_by(client: FlaskClient, db: Any, parties: Parties, organisations: list[Any]) -> None:
    for organisation in organisations:
        user = parties.secretaries[organisation.id].username
        complete(client, db, user, "decide", decision_data(organisation), organisation.id)
        complete(client, db, user, "record_minutes", MINUTES, organisation.id)


def agreement(db: Any, agreement_id: int) -> Agreement:
    db.session.expire_all()
    return db.session.get(Agreement, agreement_id)


def test_incomplete_draft_names_the_missing_sections_and_a_draft_can_be_saved(
        client: FlaskClient, db: Any, parties: Parties) -> None:
    start_agreement(client, parties)
    url = task_url(db, "draft")
    partial = draft_data(parties)
    for key in ("costs", "steering_group"):
        del partial[key]
    saved = post_form(client, url, {**partial, "_action": "save"})
    assert saved.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Utkast sparat" in page and "Varje huvudman ansvarar för sina insatser." in page
    refused = post_form(client, url, partial)
    assert refused.status_code == 422
    summary = re.findall(r'<li><a href="#(\w+)">', refused.get_data(as_text=True))
    assert summary == ["steering_group", "costs"]
    assert agreement(db, 1).latest_version.status == VersionStatus.DRAFT


def test_three_parties_one_returns_it_then_all_adopt(client: FlaskClient, db: Any, parties: Parties) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties))
    region = parties.region
    complete(client, db, parties.secretaries[region.id].username, "decide", decision_data(region, "returned"), region.id)
    assert agreement(db, agreement_id).status == AgreementStatus.DRAFT
    as_user(client, "anna")
    page = client.get(task_url(db, "draft")).get_data(as_text=True)
    assert "Återremitterat" in page and "Kostnadsfördelningen är inte förhandlad." in page
    assert "Varje part bär sina personalkostnader." in page  # the form opens with the submitted text
    complete(client, db, "anna", "draft", draft_data(parties, costs="Gemensamma kostnader delas 50/50."))
    adopt_by(client, db, parties, parties.all)
    assert agreement(db, agreement_id).status == AgreementStatus.AWAITING_DECISIONS  # appeal period running
    clock.advance(timedelta(days=30))
    assert fire_due_timers(db) == 3
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.ACTIVE and record.current_version.number == 1
    assert {d.stage for d in record.current_version.current_decisions()} == {DecisionStage.FINAL}
    assert {p.diarienummer for p in record.parties} == {f"0948/26-{org.id}" for org in parties.all}
    as_user(client, "anna")
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    decisions = page.split('id="decisions">', 1)[1].split("</table>", 1)[0]  # the adoption tracker
    assert re.search(r'id="agreement-status">Gäller<', page) and decisions.count(">Laga kraft<") == 3
    assert verify().is_intact


def test_consultation_comments_from_two_parties_side_by_side(client: FlaskClient, db: Any, parties: Parties) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, with_consultation="on", consultation_until="2026-12-10"))
    assert agreement(db, agreement_id).status == AgreementStatus.IN_CONSULTATION
    for org, text in ((parties.region, "Regionen vill ha tydligare mål."), (parties.alingsas, "Alingsås saknar SIP.")):
        officer = parties.officers[org.id].username
        complete(client, db, officer, "consult", {"goals": text, "general": f"Synpunkter från {org.name}."}, org.id)
    clock.freeze(datetime(2026, 12, 11, 9, 0, tzinfo=UTC))
    fire_due_timers(db)  # Göteborg did not answer in time: the remiss closes
    as_user(client, "anna")
    page = client.get(task_url(db, "revise")).get_data(as_text=True)
    table = page[page.index('id="consultation-comments"'):]
    assert "Regionen vill ha tydligare mål." in table and "Alingsås saknar SIP." in table
    assert table.index("Alingsås kommun") < table.index("Västra Götalandsregionen")  # one column per party
    complete(client, db, "anna", "revise", draft_data(parties, goals="Mätbara mål per kvartal."))
    assert agreement(db, agreement_id).status == AgreementStatus.AWAITING_DECISIONS


def test_amendment_becomes_version_two_with_a_section_diff(client: FlaskClient, db: Any, parties: Parties) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties))
    adopt_by(client, db, parties, parties.all)
    clock.advance(timedelta(days=30))
    fire_due_timers(db)
    officer = parties.officers[parties.region.id].username
    as_user(client, officer)
    assert post_form(client, f"/avtal/{agreement_id}/andring", {"motivation": "Nya mål efter uppföljningen."}).status_code == 302
    assert agreement(db, agreement_id).status == AgreementStatus.UNDER_AMENDMENT
    as_user(client, officer)
    form = client.get(task_url(db, "draft")).get_data(as_text=True)
    assert 'name="with_consultation" type="checkbox" checked' in form  # an amendment is reviewed by default
    amended = draft_data(parties, goals="Färre avbrutna insatser.\nFler SIP upprättade.",
                         user_influence="Brukarråd två gånger per år.")
    complete(client, db, officer, "draft", {**amended, "with_consultation": "on", "consultation_until": "2027-01-15"})
    for org, text in ((parties.goteborg, "Inga synpunkter."), (parties.alingsas, "Instämmer.")):
        complete(client, db, parties.officers[org.id].username, "consult", {"general": text}, org.id)
    complete(client, db, parties.officers[parties.region.id].username, "consult", {"general": "Bra."}, parties.region.id)
    complete(client, db, officer, "revise", amended)
    adopt_by(client, db, parties, parties.all)
    clock.advance(timedelta(days=30))
    fire_due_timers(db)
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.ACTIVE and record.current_version.number == 2
    assert [v.status for v in record.versions] == [VersionStatus.SUPERSEDED, VersionStatus.ADOPTED]
    assert record.versions[0].text_of("goals") == "Färre avbrutna insatser."  # the adopted text is kept
    page = client.get(f"/avtal/{agreement_id}/jamfor?fran=1&till=2").get_data(as_text=True)
    goals = page[page.index('id="diff-goals"'):page.index('id="diff-staffing"')]
    assert "ändrat" in goals and "<ins>+ Fler SIP upprättade.</ins>" in goals and "<del>" not in goals
    influence = page[page.index('id="diff-user_influence"'):page.index('id="diff-costs"')]
    assert "tillagt" in influence and "<ins>+ Brukarråd två gånger per år.</ins>" in influence
    costs = page[page.index('id="diff-costs"'):page.index('id="diff-work_environment"')]
    assert "oförändrat" in costs
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "agreement.version_adopted")) == 2


def test_other_users_cannot_open_a_task(client: FlaskClient, db: Any, parties: Parties) -> None:
    start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties))
    as_user(client, parties.secretaries[parties.alingsas.id].username)
    assert client.get(task_url(db, "receive_proposal", parties.region.id)).status_code == 403


def test_wrong_password_is_refused(client: FlaskClient, db: Any, parties: Parties) -> None:
    response = login(client, "anna", "fel")
    assert response.status_code == 401 and "Fel användarnamn eller lösenord." in response.get_data(as_text=True)
    assert client.get("/uppgifter").status_code == 302


def test_post_without_csrf_token_is_refused(client: FlaskClient, db: Any, parties: Parties) -> None:
    response = client.post("/logga-in", data={"username": "anna", "password": "rätt-lösenord-1"})
    assert response.status_code == 400


def adopted_agreement(client: FlaskClient, db: Any, parties: Parties, **text: Any) -> int:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, **text))
    adopt_by(client, db, parties, parties.all)
    clock.advance(timedelta(days=30))
    fire_due_timers(db)
    assert agreement(db, agreement_id).status == AgreementStatus.ACTIVE
    return agreement_id


def test_yearly_follow_up_starts_when_the_clock_passes_the_anniversary(
        client: FlaskClient, db: Any, parties: Parties, make_user: Any) -> None:
    from service.agreements.models import FollowUp

    steering = make_user([(parties.goteborg, Role.STEERING_GROUP_MEMBER)], username="styrgrupp")
    agreement_id = adopted_agreement(client, db, parties)
    clock.advance(timedelta(days=364))
    fire_due_timers(db)
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.bpmn_id == "follow_up")) == 0
    clock.advance(timedelta(days=2))
    fire_due_timers(db)
    complete(client, db, steering.username, "follow_up", {
        "process_indicators": "Teamet har träffats varje vecka.", "result_indicators": "Två av tre mål nådda.",
        "action_plan": "Gemensam utbildning i SIP under våren."})
    follow_up = db.session.scalars(select(FollowUp).where(FollowUp.agreement_id == agreement_id)).one()
    assert (follow_up.deviations_count, follow_up.disputes_count) == (0, 0)
    assert follow_up.action_plan == "Gemensam utbildning i SIP under våren."
    waiting = db.session.scalars(select(ProcessTimer).where(ProcessTimer.bpmn_id == "follow_up_due",
                                                            ProcessTimer.status == TimerStatus.WAITING)).one()
    assert waiting.due_at > clock.now() + timedelta(days=360)  # the next year's follow-up


@pytest.mark.parametrize("decides", [True, False])
def test_expiry_notice_and_automatic_expiry(client: FlaskClient, db: Any, parties: Parties, decides: bool) -> None:
    agreement_id = adopted_agreement(client, db, parties, valid_until="2027-12-31")
    clock.freeze(datetime(2027, 10, 1, 12, 0, tzinfo=UTC))
    fire_due_timers(db)
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.bpmn_id == "renewal_decision")) == 0
    clock.freeze(datetime(2027, 10, 3, 12, 0, tzinfo=UTC))  # 90 days before the end of 31 December
    fire_due_timers(db)
    if decides:
        complete(client, db, "anna", "renewal_decision", {"renewal": "expire", "renewal_motivation": "Uppdraget är slutfört."})
    assert agreement(db, agreement_id).status == AgreementStatus.ACTIVE
    clock.freeze(datetime(2028, 1, 1, 0, 0, 30, tzinfo=UTC))
    fire_due_timers(db)
    assert agreement(db, agreement_id).status == AgreementStatus.EXPIRED
    lifecycle = agreement(db, agreement_id).lifecycle_instance
    assert lifecycle.status == "completed" and db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == lifecycle.id, HumanTask.status == TaskStatus.READY)) == 0
