"""The inbox in a real browser: a body secretary sees the group's task, claims it, submits a decision with an
error shown beside the field, fixes it and completes; the next task appears for that party's users only; the
agreement page shows the decision. Screenshots of the inbox, the task form and the agreement page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from service import clock
from service.parties.models import Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import Parties, draft_data
from tests.inbox.test_adoption_flow import complete, receive_all, start_agreement


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    yield
    clock.reset()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_load_state("networkidle")


def test_claim_fix_an_error_complete_and_see_the_decision(app: Flask, db: Any, parties: Parties, make_user: Any,
                                                           live_server: str, page: Any) -> None:
    client = app.test_client()
    agreement_id = start_agreement(client, parties, "Mini-Maria Göteborg")
    complete(client, db, "anna", "draft", draft_data(parties))
    receive_all(client, db, parties)  # each party registered the proposal on arrival
    region, alingsas = parties.region, parties.alingsas
    make_user([(region, Role.BODY_SECRETARY)], username="rut", display_name="Rut Regionsekreterare")
    secretary = parties.secretaries[region.id].username

    sign_in(page, live_server, secretary)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Gruppens uppgifter")).first.click()
    row = page.locator("tr.task-row", has_text="Registrera beslut om avtalet")
    assert row.count() == 1 and "Mini-Maria Göteborg" in row.inner_text()
    screenshot(page, "inbox-group")
    row.get_by_role("button", name=re.compile("^Ta uppgiften")).click()
    assert "Du har tagit uppgiften" in page.locator(".flash").inner_text()
    assert page.locator("#count-mine").inner_text() == "1"

    page.get_by_role("link", name=re.compile("^Mina uppgifter")).first.click()
    screenshot(page, "inbox")
    page.get_by_role("link", name="Registrera beslut om avtalet").click()
    page.get_by_label("Avtalet antas").check()
    page.get_by_label("Behörig instans").select_option(label="Regionstyrelsen")
    page.get_by_label("Beslutsdatum").fill("2026-11-24")
    page.get_by_label("Partens diarienummer").fill("RS 2026-0948")
    page.get_by_role("button", name="Slutför uppgiften").click()

    error = page.locator("#fel-paragraph")
    assert error.inner_text() == "Fältet måste fyllas i."
    assert page.locator("#paragraph").get_attribute("aria-describedby") == "fel-paragraph"
    assert page.locator(".field.has-error", has=page.locator("#paragraph")).count() == 1
    screenshot(page, "task-form")
    page.get_by_label("Paragraf (§)").fill("§ 12")
    page.get_by_role("button", name="Slutför uppgiften").click()
    assert "Uppgiften ”Registrera beslut om avtalet” är klar." in page.locator(".flash").inner_text()
    assert page.url.endswith("/uppgifter")
    sign_out(page)

    sign_in(page, live_server, "rut")  # the region's other secretary: the next step is offered to the group
    page.goto(f"{live_server}/uppgifter?lista=grupp")
    assert page.locator("tr.task-row", has_text="Registrera justering och anslag").count() == 1
    sign_out(page)
    sign_in(page, live_server, parties.secretaries[alingsas.id].username)  # another party's secretary
    page.goto(f"{live_server}/uppgifter?lista=grupp")
    rows = page.locator("tr.task-row")
    assert rows.count() == 1 and "Registrera beslut om avtalet" in rows.inner_text()
    assert page.locator("tr.task-row", has_text="Registrera justering och anslag").count() == 0
    sign_out(page)

    sign_in(page, live_server, "anna")
    page.goto(f"{live_server}/avtal/{agreement_id}")
    decision = page.locator("#decisions tr", has_text="Västra Götalandsregionen")
    assert "Antaget" in decision.inner_text() and "Regionstyrelsen" in decision.inner_text()
    assert "Beslut registrerades" in page.locator("#timeline").inner_text()
    screenshot(page, "agreement")
    assert page.js_errors == []
