"""The whole adoption through the web pages, as the coordinator and each party's secretary."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.agreements.models import Agreement, AgreementStatus
from service.audit import verify
from service.audit.models import AuditEvent
from service.processes.models import HumanTask, TaskStatus
from tests.conftest import Parties, csrf_token, decision_data, draft_data, login


def post_form(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def open_task_url(db: Any, bpmn_id: str, organisation_id: int | None = None) -> str:
    query = select(HumanTask).where(HumanTask.status == TaskStatus.READY, HumanTask.bpmn_id == bpmn_id)
    if organisation_id is not None:
        query = query.where(HumanTask.organisation_id == organisation_id)
    task = db.session.scalars(query).one()
    return f"/uppgifter/{task.id}"


def start_and_draft(client: FlaskClient, db: Any, parties: Parties) -> int:
    login(client, "anna")
    response = post_form(client, "/avtal/nytt", {"title": "Mini-Maria Göteborg", "organisation_id": parties.goteborg.id})
    assert response.status_code == 302
    agreement_id = int(re.search(r"/avtal/(\d+)", response.headers["Location"]).group(1))
    inbox = client.get("/uppgifter").get_data(as_text=True)
    assert "Ta fram avtalsförslag" in inbox
    response = post_form(client, open_task_url(db, "draft"), draft_data(parties))
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/logga-ut", data={"csrf_token": csrf_token(client.get("/uppgifter").get_data(as_text=True))})
    return agreement_id


def decide_as(client: FlaskClient, db: Any, parties: Parties, organisation: Any, outcome: str = "approve") -> Any:
    login(client, parties.secretaries[organisation.id].username)
    url = open_task_url(db, "decide", organisation.id)
    assert "Besluta om avtalet" in client.get("/uppgifter").get_data(as_text=True)
    response = post_form(client, url, decision_data(organisation, outcome))
    client.post("/logga-ut", data={"csrf_token": csrf_token(client.get("/uppgifter").get_data(as_text=True))})
    return response


def test_three_parties_adopt_an_agreement(client: FlaskClient, db: Any, parties: Parties) -> None:
    agreement_id = start_and_draft(client, db, parties)
    for organisation in parties.all:
        assert decide_as(client, db, parties, organisation).status_code == 302
    assert db.session.get(Agreement, agreement_id).status == AgreementStatus.ACTIVE
    login(client, "anna")
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert re.search(r'id="agreement-status">Gäller<', page)
    assert page.count("Godkänt") == 3 and "0948/26" in page and "§ 12" in page
    assert verify().is_intact


def test_rejection_shows_reason_to_coordinator_and_loops(client: FlaskClient, db: Any, parties: Parties) -> None:
    agreement_id = start_and_draft(client, db, parties)
    assert decide_as(client, db, parties, parties.region, "reject").status_code == 302
    assert db.session.get(Agreement, agreement_id).status == AgreementStatus.DRAFT
    login(client, "anna")
    page = client.get(open_task_url(db, "draft")).get_data(as_text=True)
    assert "Kostnadsfördelningen är inte förhandlad." in page and "Västra Götalandsregionen" in page
    assert post_form(client, open_task_url(db, "draft"), draft_data(parties)).status_code == 302
    client.post("/logga-ut", data={"csrf_token": csrf_token(client.get("/uppgifter").get_data(as_text=True))})
    for organisation in parties.all:
        assert decide_as(client, db, parties, organisation).status_code == 302
    db.session.expire_all()
    agreement = db.session.get(Agreement, agreement_id)
    assert agreement.status == AgreementStatus.ACTIVE and agreement.adoption_round == 2


def test_missing_field_shows_error_beside_it_and_saves_nothing(client: FlaskClient, db: Any, parties: Parties) -> None:
    start_and_draft(client, db, parties)
    login(client, parties.secretaries[parties.region.id].username)
    url = open_task_url(db, "decide", parties.region.id)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    data = decision_data(parties.region, "reject")
    data["reason"] = ""
    response = post_form(client, url, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="fel-reason">Fältet måste fyllas i\.<', page)
    assert re.search(r'<li><a href="#reason">Skäl för avslag</a>: Fältet måste fyllas i\.</li>', page)
    assert 'value="0948/26"' in page  # what the user typed is kept
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert client.get(url).status_code == 200 and "Slutför uppgiften" in client.get(url).get_data(as_text=True)


def test_other_users_cannot_open_a_task(client: FlaskClient, db: Any, parties: Parties) -> None:
    start_and_draft(client, db, parties)
    login(client, parties.secretaries[parties.alingsas.id].username)
    assert client.get(open_task_url(db, "decide", parties.region.id)).status_code == 403


def test_wrong_password_is_refused(client: FlaskClient, db: Any, parties: Parties) -> None:
    response = login(client, "anna", "fel")
    assert response.status_code == 401 and "Fel användarnamn eller lösenord." in response.get_data(as_text=True)
    assert client.get("/uppgifter").status_code == 302


def test_post_without_csrf_token_is_refused(client: FlaskClient, db: Any, parties: Parties) -> None:
    response = client.post("/logga-in", data={"username": "anna", "password": "rätt-lösenord-1"})
    assert response.status_code == 400
