"""Finding 3 of issue #17, the case types: dispute texts and deviation reports (web and API), an agreement's
amendment motivation and termination reason. Each payload is refused naming the field, nothing is stored;
the same request with clean text is accepted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from service import clock
from service.agreements.models import AgreementVersion
from service.deviations.models import Deviation
from service.disputes.models import Dispute
from service.processes.models import ProcessInstance
from service.transactions import commit_with_retry
from tests.api.conftest import ApiClient
from tests.api.test_cases import report_body
from tests.conftest import Parties, csrf_token
from tests.deviations.world import World, deployed  # noqa: F401 (fixture)
from tests.deviations.world import world as deviation_world  # noqa: F401 (fixture)
from tests.disputes.test_dispute_flow import QUESTION
from tests.inbox.test_adoption_flow import adopted_agreement, as_user
from tests.security.test_personal_data import api_refuses_all, count_rows, refuses_all, sample


@pytest.fixture
def frozen() -> Iterator[None]:
    """The deviation world's clock (a Monday in March 2026), also after the adoption's decision dates."""
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    yield
    clock.reset()


@pytest.fixture
def cases(request: pytest.FixtureRequest, db: Any) -> World:
    """tests/deviations' world (its fixture ``world`` here under another name)."""
    found: World = request.getfixturevalue("deviation_world")
    return found


def api_client(world: World, username: str) -> ApiClient:
    from service.api.tokens import create_token

    secret = commit_with_retry(lambda: create_token(world.user(username), "test", {"read", "write"}, 30)).secret
    return ApiClient(world.app.test_client(), secret)


def dispute_form(world: World, **overrides: Any) -> dict[str, Any]:
    return {"agreement_id": world.agreement.id, "opening_organisation_id": world.alingsas.id,
            "other_organisation_ids": [world.region.id], "question": QUESTION,
            "background": "Tre ärenden under hösten.", **overrides}


def test_dispute_texts_on_the_web(cases: World) -> None:
    world = cases
    browser = world.browser("chef_alingsas")
    token = csrf_token(browser.get("/tvister/ny").get_data(as_text=True))

    def send(field: str) -> Any:
        return lambda text: browser.post("/tvister/ny", data={**dispute_form(world, **{field: text}), "csrf_token": token})

    models = (Dispute, ProcessInstance)
    refuses_all(world.db, models, sample(0), send("question"), "question")
    refuses_all(world.db, models, sample(1), send("background"), "background")
    assert send("background")("Tel 070-123 45 67, dnr KS 2026/1234.").status_code == 302


def test_dispute_texts_and_deviation_reports_through_the_api(cases: World) -> None:
    world = cases
    manager, reporter = api_client(world, "chef_alingsas"), api_client(world, "rapportor")
    body = {key: value for key, value in dispute_form(world).items() if key != "background"}
    api_refuses_all(world.db, (Dispute,), sample(2),
                    lambda text: manager.post("/api/v1/disputes", json={**body, "question": text}), "question")
    assert manager.post("/api/v1/disputes", json=body).status_code == 201
    api_refuses_all(world.db, (Deviation,), sample(3), lambda text: reporter.post(
        "/api/v1/deviations", json=report_body(world, description=text)), "description")
    api_refuses_all(world.db, (Deviation,), sample(4), lambda text: reporter.post(
        "/api/v1/deviations", json=report_body(world, reporting_unit=text)), "reporting_unit")
    assert reporter.post("/api/v1/deviations", json=report_body(world)).status_code == 201


def test_amendment_motivation_and_termination_reason(client: FlaskClient, db: Any, parties: Parties,
                                                     make_user: Any, frozen: None) -> None:
    from service.parties.models import Role
    from tests.api.test_resources import client_for

    make_user([(parties.alingsas, Role.MANAGER)], username="chef_alingsas")
    agreement_id = adopted_agreement(client, db, parties)
    as_user(client, "anna")
    url = f"/avtal/{agreement_id}/andring"
    token = csrf_token(client.get(url).get_data(as_text=True))
    refuses_all(db, (AgreementVersion,), sample(5),
                lambda text: client.post(url, data={"motivation": text, "csrf_token": token}), "motivation")
    api = client_for(client.application, parties.coordinator)
    etag = api.get(f"/api/v1/agreements/{agreement_id}").headers["ETag"]
    api_refuses_all(db, (AgreementVersion,), sample(6), lambda text: api.post(
        f"/api/v1/agreements/{agreement_id}/amendments", json={"motivation": text}, headers={"If-Match": etag}),
        "motivation")
    as_user(client, "chef_alingsas")
    ending = f"/avtal/{agreement_id}/uppsagning"
    token = csrf_token(client.get(ending).get_data(as_text=True))
    refuses_all(db, (AgreementVersion,), sample(7), lambda text: client.post(ending, data={
        "reason": f"Verksamheten läggs ned. {text}", "decision_reference": "KS 2027/41", "csrf_token": token}),
        "reason")
    as_user(client, "anna")
    before = count_rows(db, AgreementVersion)
    token = csrf_token(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"motivation": "Ny målgrupp", "csrf_token": token}).status_code == 302
    assert count_rows(db, AgreementVersion) != before
