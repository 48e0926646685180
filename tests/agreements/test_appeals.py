"""Laga kraft is not assumed with no way back (issue #19, item 2): the party's secretary registers an appeal till
förvaltningsrätten (court, målnummer, day lodged) at any time after the decision, also after the appeal timer fired
and laga kraft was recorded; the decision is then överklagat, the agreement's status says so, and the court's outcome
settles it: rejected or dismissed → laga kraft from the judgment's day; set aside → the party's adoption falls and
the coordinator is told. The agreement page and the API show each party's route, stage, last appeal day and
laga-kraft date."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service import clock
from service.agreements.appeals import Appeal
from service.agreements.models import AgreementStatus, Decision, DecisionStage, VersionStatus
from service.api.tokens import create_token
from service.audit import verify
from service.audit.models import AuditEvent
from service.notifications.models import Notification
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, TaskStatus
from service.transactions import commit_with_retry
from tests.conftest import Parties, draft_data
from tests.inbox.test_adoption_flow import (
    adopt_by,
    agreement,
    as_user,
    complete,
    fire_due_timers,
    post_form,
    start_agreement,
)

ROOT = Path(__file__).resolve().parents[2]
COURT = "Förvaltningsrätten i Göteborg"
# Adopted by every party: active, or adopted and in force from valid_from (2027-01-01) on (issue #19, item 5).
IN_FORCE = {"active", "adopted"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # after the decisions' dates (conftest.MINUTES)
    yield
    clock.reset()


@pytest.fixture
def appeal_process(db: Any, adoption: Any) -> Any:
    xml = (ROOT / "bpmn" / "decision_appeal.bpmn").read_bytes()
    return commit_with_retry(lambda: deploy_definition(xml, "decision_appeal.bpmn", ROOT / "forms", by=None))[0]


def adopted_agreement(client: FlaskClient, db: Any, parties: Parties, *, final: bool = True) -> int:
    """Every party has decided and posted its minutes (anslag 2026-12-01; last appeal day 2026-12-22)."""
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties))
    adopt_by(client, db, parties, parties.all)
    if final:
        to_laga_kraft(db)
    return agreement_id


def to_laga_kraft(db: Any) -> None:
    clock.freeze(datetime(2026, 12, 23, 0, 30, tzinfo=UTC))  # the appeal period ended at 2026-12-22 24:00
    assert fire_due_timers(db) == 3


def decision_of(db: Any, agreement_id: int, organisation_id: int) -> Decision:
    return next(d for d in agreement(db, agreement_id).latest_version.current_decisions()
                if d.organisation_id == organisation_id)


def appeal_url(db: Any, agreement_id: int, organisation_id: int) -> str:
    return f"/avtal/{agreement_id}/beslut/{decision_of(db, agreement_id, organisation_id).id}/overklagande"


def register(client: FlaskClient, db: Any, parties: Parties, agreement_id: int, organisation: Any,
             case_number: str = "4711-26", lodged_on: str = "2026-12-18") -> Any:
    as_user(client, parties.secretaries[organisation.id].username)
    return post_form(client, appeal_url(db, agreement_id, organisation.id),
                     {"court": COURT, "case_number": case_number, "lodged_on": lodged_on})


def judge(client: FlaskClient, db: Any, parties: Parties, organisation: Any, judgment: str, final_on: str,
          case_number: str | None = None) -> None:
    db.session.expire_all()
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.bpmn_id == "record_judgment",
                                                       HumanTask.status == TaskStatus.READY)).all()
    task = next(t for t in tasks if case_number is None or case_number in t.case_title)
    as_user(client, parties.secretaries[organisation.id].username)
    response = post_form(client, f"/uppgifter/{task.id}", {"judgment": judgment, "judgment_final_on": final_on,
                                                           "judgment_note": "Domen har vunnit laga kraft."})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def row_of(page: str, name: str) -> str:
    table = page.split('id="decisions">', 1)[1].split("</table>", 1)[0]
    return next(row for row in table.split("<tr")[1:] if name in row)


def status_of(page: str) -> str:
    return page.split('id="agreement-status">', 1)[1].split("</p>", 1)[0]


def test_an_appeal_after_laga_kraft_makes_the_decision_appealed_until_the_court_rejects_it(
        client: FlaskClient, db: Any, parties: Parties, appeal_process: Any) -> None:
    agreement_id = adopted_agreement(client, db, parties)
    alingsas = parties.alingsas
    assert agreement(db, agreement_id).status in IN_FORCE
    assert decision_of(db, agreement_id, alingsas.id).stage == DecisionStage.FINAL

    clock.freeze(datetime(2027, 2, 10, 9, 0, tzinfo=UTC))  # the court asks for comments in February
    assert register(client, db, parties, agreement_id, alingsas, lodged_on="2026-12-21").status_code == 302

    decision = decision_of(db, agreement_id, alingsas.id)
    assert decision.stage == DecisionStage.APPEALED and decision.final_at is None
    assert [(a.court, a.case_number, a.lodged_on, a.was_final) for a in decision.appeals] == [
        (COURT, "4711-26", date(2026, 12, 21), True)]
    as_user(client, "anna")
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert "beslut överklagat till förvaltningsrätten: Alingsås kommun" in status_of(page)
    row = row_of(page, "Alingsås kommun")
    assert ">Överklagat<" in row and "till förvaltningsrätten i Göteborg, målnummer 4711-26, kom in 2026-12-21" in row
    assert 'class="laga-kraft"></td>' in row  # laga kraft no longer claimed
    told = db.session.scalars(select(Notification).where(Notification.subject == "Beslut överklagat: Alingsås kommun"))
    assert {n.user.username for n in told} == {"anna", parties.officers[parties.goteborg.id].username}  # coordinator

    judge(client, db, parties, alingsas, "rejected", "2027-05-03")
    decision = decision_of(db, agreement_id, alingsas.id)
    assert decision.stage == DecisionStage.FINAL and decision.appeals[0].judgment == "rejected"
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    row = row_of(page, "Alingsås kommun")
    assert ">Laga kraft<" in row and 'class="laga-kraft">2027-05-03</td>' in row
    assert "överklagat" not in status_of(page)
    assert 'class="laga-kraft">2026-12-23</td>' in row_of(page, "Göteborgs Stad")  # the day after the last appeal day
    assert verify().is_intact


def test_a_decision_set_aside_after_laga_kraft_drops_the_party_and_tells_the_coordinator(
        client: FlaskClient, db: Any, parties: Parties, appeal_process: Any) -> None:
    agreement_id = adopted_agreement(client, db, parties)
    alingsas = parties.alingsas
    clock.freeze(datetime(2027, 2, 10, 9, 0, tzinfo=UTC))
    register(client, db, parties, agreement_id, alingsas)
    judge(client, db, parties, alingsas, "annulled", "2027-06-01")

    decision = decision_of(db, agreement_id, alingsas.id)
    assert decision.stage == DecisionStage.ANNULLED
    told = db.session.scalars(select(Notification).where(Notification.subject == "Beslut upphävt: Alingsås kommun"))
    assert {n.user.username for n in told} == {"anna", parties.officers[parties.goteborg.id].username}
    as_user(client, "anna")
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert "gäller inte för Alingsås kommun: beslutet upphävt av förvaltningsrätten" in status_of(page)
    assert ">Upphävt efter överklagande<" in row_of(page, "Alingsås kommun")
    assert "Registrera överklagande" not in page  # anna is no secretary; an annulled decision takes no appeal
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("agreement.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["agreement.decision_appealed", "agreement.appeal_judgment_recorded",
                            "agreement.decision_annulled"]


def test_an_appeal_within_the_period_holds_the_agreement_until_the_court_has_decided(
        client: FlaskClient, db: Any, parties: Parties, appeal_process: Any) -> None:
    agreement_id = adopted_agreement(client, db, parties, final=False)
    alingsas = parties.alingsas
    register(client, db, parties, agreement_id, alingsas, lodged_on="2026-12-02")
    to_laga_kraft(db)
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.AWAITING_DECISIONS and record.latest_version.instance.status == "completed"
    assert {d.organisation_id: d.stage for d in record.latest_version.current_decisions()}[alingsas.id] == "appealed"

    register(client, db, parties, agreement_id, alingsas, case_number="4712-26", lodged_on="2026-12-20")
    judge(client, db, parties, alingsas, "dismissed", "2027-03-01", case_number="4711-26")
    assert agreement(db, agreement_id).status == AgreementStatus.AWAITING_DECISIONS  # the second is undecided
    judge(client, db, parties, alingsas, "rejected", "2027-04-12", case_number="4712-26")
    record = agreement(db, agreement_id)
    assert record.status in IN_FORCE and record.current_version.status == VersionStatus.ADOPTED
    as_user(client, "anna")
    row = row_of(client.get(f"/avtal/{agreement_id}").get_data(as_text=True), "Alingsås kommun")
    assert 'class="laga-kraft">2027-04-12</td>' in row


def test_a_decision_set_aside_during_adoption_sends_the_text_back_to_the_parties(
        client: FlaskClient, db: Any, parties: Parties, appeal_process: Any) -> None:
    agreement_id = adopted_agreement(client, db, parties, final=False)
    register(client, db, parties, agreement_id, parties.alingsas, lodged_on="2026-12-02")
    to_laga_kraft(db)
    judge(client, db, parties, parties.alingsas, "annulled", "2027-03-01")
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.DRAFT and record.latest_version.status == VersionStatus.DRAFT
    drafts = db.session.scalars(select(HumanTask).where(HumanTask.bpmn_id == "draft",
                                                        HumanTask.status == TaskStatus.READY)).all()
    assert [t.user_id for t in drafts] == [parties.coordinator.id]


def test_bad_input_names_the_field_and_changes_nothing(client: FlaskClient, db: Any, parties: Parties,
                                                      appeal_process: Any) -> None:
    agreement_id = adopted_agreement(client, db, parties)
    alingsas = parties.alingsas
    as_user(client, parties.secretaries[alingsas.id].username)
    url = appeal_url(db, agreement_id, alingsas.id)
    refused = post_form(client, url, {"court": "Förvaltningsrätten i ", "case_number": "", "lodged_on": "2027-13-01"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert {"court-error", "case_number-error", "lodged_on-error"} <= set(re.findall(r'id="([a-z_]+-error)"', page))
    future = post_form(client, url, {"court": COURT, "case_number": "1-27", "lodged_on": "2027-01-01"})
    assert future.status_code == 422 and "Dagen kan inte ligga i framtiden." in future.get_data(as_text=True)
    assert db.session.scalars(select(Appeal)).all() == []
    assert decision_of(db, agreement_id, alingsas.id).stage == DecisionStage.FINAL
    assert register(client, db, parties, agreement_id, alingsas).status_code == 302
    again = register(client, db, parties, agreement_id, alingsas)  # the same målnummer twice
    assert again.status_code == 422 and "redan registrerat" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(Appeal)).all()) == 1
    task = db.session.scalars(select(HumanTask).where(HumanTask.bpmn_id == "record_judgment")).one()
    early = post_form(client, f"/uppgifter/{task.id}", {"judgment": "rejected", "judgment_final_on": "2026-12-01"})
    assert early.status_code == 422 and "före överklagandet" in early.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Appeal)).one().judgment is None and task.status == TaskStatus.READY


def test_only_the_party_s_secretary_registers_an_appeal(client: FlaskClient, db: Any, parties: Parties,
                                                       appeal_process: Any) -> None:
    agreement_id = adopted_agreement(client, db, parties)
    url = appeal_url(db, agreement_id, parties.alingsas.id)
    for username in ("anna", parties.secretaries[parties.region.id].username,
                     parties.officers[parties.alingsas.id].username):
        as_user(client, username)
        assert client.get(url).status_code == 404
        page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
        assert "Registrera överklagande" not in row_of(page, "Alingsås kommun")
    as_user(client, parties.secretaries[parties.alingsas.id].username)
    assert client.get(url).status_code == 200
    english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Register the appeal" in english and "Case number (målnummer)" in english and "Registrera" not in english
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert page.count("Registrera överklagande") == 1 and "Registrera överklagande" in row_of(page, "Alingsås kommun")


def test_the_tracker_shows_route_stage_last_appeal_day_and_laga_kraft_also_in_the_api(
        app: Flask, client: FlaskClient, db: Any, parties: Parties, appeal_process: Any) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties))
    adopt_by(client, db, parties, [parties.region])
    as_user(client, "anna")
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    region = row_of(page, "Västra Götalandsregionen")
    assert "Beslut med justering och anslag" in region and "Justerat; justeringen anslagen 2026-12-01" in region
    assert "sista dag för överklagande 2026-12-22" in region
    assert "Inget beslut ännu" in row_of(page, "Alingsås kommun")

    token = commit_with_retry(lambda: create_token(parties.coordinator, "test", {"read"}, 30)).secret
    body = client.get(f"/api/v1/agreements/{agreement_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    progress = {p["name"]: p for p in body["adoption"]["parties"]}
    assert progress["Västra Götalandsregionen"]["stage"] == "posted"
    assert progress["Västra Götalandsregionen"]["last_appeal_day"] == "2026-12-22"
    assert progress["Västra Götalandsregionen"]["route"] == "decision_with_posting"
    assert progress["Alingsås kommun"]["stage"] == "waiting" and progress["Alingsås kommun"]["laga_kraft_on"] is None
    adopt_by(client, db, parties, [parties.goteborg, parties.alingsas])
    clock.freeze(datetime(2026, 12, 23, 0, 30, tzinfo=UTC))
    fire_due_timers(db)
    body = client.get(f"/api/v1/agreements/{agreement_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert {p["stage"] for p in body["adoption"]["parties"]} == {"final"}
    assert {p["laga_kraft_on"] for p in body["adoption"]["parties"]} == {"2026-12-23"}
    assert body["appeal_note"] == ""
    version = client.get(f"/api/v1/agreements/{agreement_id}/versions/1",
                         headers={"Authorization": f"Bearer {token}"}).get_json()
    assert {d["last_appeal_day"] for d in version["decisions"]} == {"2026-12-22"}
