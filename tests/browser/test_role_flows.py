"""Each role's main flow in a real browser, to the state the user expects (issue #18).

The steps the role itself takes are clicked and typed in the browser; the other parties' tasks on the way are
completed through the web pages by the test client (as their browsers would), and time moves with the service
clock, its timers fired as the scheduler's job fires them. One browser for the module (conftest.browser).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from service import clock
from service.parties.models import Membership, Role
from tests.audit import scenarios
from tests.browser.conftest import sign_in
from tests.browser.test_modeller import _panel_input, _report
from tests.conftest import Parties, draft_data
from tests.deviations.world import World, _user, deployed, fire_due_timer, frozen, ready_ids, world  # noqa: F401
from tests.inbox.test_adoption_flow import adopt_by, fire_due_timers


@pytest.fixture
def frozen_adoption() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # after the decisions' dates (conftest.MINUTES)
    yield
    clock.reset()


def fill(page: Any, data: dict[str, Any]) -> None:
    """Fill a form as a person would: type in fields, pick in lists, tick boxes and radio buttons."""
    for name, value in data.items():
        field = page.locator(f"[name='{name}']")
        kind = (field.first.get_attribute("type") or field.first.evaluate("e => e.tagName")).lower()
        values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if isinstance(value, bool):
            page.locator(f"[name='{name}'][type=checkbox]").set_checked(value)
        elif kind in ("radio", "checkbox"):
            for each in values:
                page.locator(f"[name='{name}'][value='{each}']").check()
        elif kind == "select":
            field.select_option(values)
        else:
            field.fill(values[0])


def open_task(page: Any, name: str) -> None:
    """From the inbox, open the task called ``name``: one of mine, or the group's, taken first."""
    with page.expect_navigation():  # the count below must look at the new page, not the one being left
        page.get_by_role("link", name=re.compile("^Mina uppgifter")).first.click()
    if page.get_by_role("link", name=name).count() == 0:
        page.get_by_role("link", name=re.compile("^Gruppens uppgifter")).first.click()
        row = page.locator("tr.task-row", has_text=name).first
        row.get_by_role("button", name=re.compile("^Ta uppgiften")).click()
        page.get_by_role("link", name=re.compile("^Mina uppgifter")).first.click()
    page.get_by_role("link", name=name).first.click()


def finish(page: Any) -> str:
    """Complete the open task; returns the flash message."""
    page.get_by_role("button", name="Slutför uppgiften").click()
    page.wait_for_load_state()
    assert page.locator(".field-error").all_inner_texts() == []
    return page.locator(".flash").first.inner_text()


def test_coordinator_new_agreement_to_in_force(app: Flask, db: Any, parties: Parties, frozen_adoption: None,
                                               live_server: str, page: Any) -> None:
    sign_in(page, live_server, "anna")
    page.get_by_role("link", name="Nytt avtal").click()
    page.get_by_label("Avtalets namn").fill("Mini-Maria Göteborg")
    page.get_by_label("Samordnande organisation").select_option(label="Göteborgs Stad")
    page.get_by_role("button", name="Skapa avtal och börja skriva").click()
    open_task(page, "Ta fram avtalsförslag")
    fill(page, draft_data(parties))
    assert "är klar" in finish(page)
    client = app.test_client()
    adopt_by(client, db, parties, parties.all)  # each party's secretary records its decision and minutes
    page.goto(f"{live_server}/avtal/1")
    assert page.locator("#agreement-status").inner_text() == "Alla parter har beslutat – väntar på laga kraft"
    assert page.locator("#decisions").inner_text().count("sista dag för överklagande 2026-12-22") == 3
    clock.advance(timedelta(days=30))
    assert fire_due_timers(db) == 3  # the appeal periods end: the decisions gain laga kraft
    page.reload()
    assert page.locator("#agreement-status").inner_text() == "Gäller"
    assert page.locator("#decisions").inner_text().count("Laga kraft") == 3
    # The adoption tracker: each party's route, stage and laga-kraft date (the day after the last appeal day).
    rows = page.locator("#decisions tr.party-progress")
    assert rows.count() == 3 and rows.locator(".route").all_inner_texts() == ["Beslut med justering och anslag"] * 3
    assert rows.locator(".laga-kraft").all_inner_texts() == ["2026-12-23"] * 3
    assert page.js_errors == []


def test_deviation_report_acknowledge_answer_with_a_draft_and_review(world: World, live_server: str,  # noqa: F811
                                                                     page: Any) -> None:
    sign_in(page, live_server, "rapportor")
    page.get_by_role("link", name="Avvikelser", exact=True).click()
    page.get_by_role("link", name=re.compile("^Rapportera")).first.click()
    fill(page, {"reporting_organisation_id": world.alingsas.id, "reporting_unit": "Hemtjänst Centrum",
                "receiving_organisation_ids": [world.region.id], "event_date": "2026-02-26",
                "description": "Vid utskrivningen saknades läkemedelslista.", "category": "discharge",
                "consequence": "moderate"})
    page.locator("form button[type=submit]").last.click()
    assert re.search(r"/avvikelser/\d+$", page.url)
    deviation_url = page.url
    page.get_by_role("button", name="Logga ut").click()

    sign_in(page, live_server, "kontakt_vgr")
    open_task(page, "Kvittera avvikelsen")
    fill(page, {"handler": "Enhetschef avdelning 12"})
    finish(page)
    open_task(page, "Utreda och besvara avvikelsen")
    fill(page, {"action": "answer", "findings": "Läkemedelslistan skickades inte med."})
    page.get_by_role("button", name="Spara utkast").click()
    assert "Utkast sparat" in page.content()
    assert ready_ids(world.db) == ["investigate"]  # still the contact's task: nothing was sent
    assert page.locator("[name=findings]").input_value() == "Läkemedelslistan skickades inte med."
    fill(page, {"measures": "Checklistan för utskrivning kompletteras."})
    finish(page)
    page.get_by_role("button", name="Logga ut").click()

    sign_in(page, live_server, "rapportor")
    open_task(page, "Ta ställning till svaret")
    assert "Läkemedelslistan skickades inte med." in page.content()
    fill(page, {"verdict": "accept"})
    finish(page)
    page.goto(deviation_url)
    assert page.locator(".receiver-status").inner_text() == "Svaret godtaget"
    assert ready_ids(world.db) == ["analyse"]
    assert page.js_errors == []


def test_dispute_opened_from_the_form_through_three_levels_to_a_decision(world: World, live_server: str,  # noqa: F811
                                                                        page: Any) -> None:
    db = world.db
    sign_in(page, live_server, "chef_alingsas")
    page.get_by_role("link", name="Tvister", exact=True).click()
    page.get_by_role("link", name=re.compile("^Öppna en tvist|^Ny tvist")).first.click()
    fill(page, {"agreement_id": world.agreement.id, "opening_organisation_id": world.alingsas.id,
                "other_organisation_ids": [world.region.id],
                "question": "Vem beställer hjälpmedel vid utskrivning?"})
    page.locator("form button[type=submit]").last.click()
    assert re.search(r"/tvister/\d+$", page.url)
    dispute_url = page.url
    open_task(page, "Försöka komma överens (linjeorganisationen)")  # level 1: the line
    fill(page, {"outcome": "not_agreed", "motivation": "Parterna tolkar avtalet olika."})
    finish(page)
    assert ready_ids(db) == ["steering_decision"]  # level 2: not agreed in the line, on to the steering group
    page.goto(dispute_url)
    assert "Nivå 2" in page.locator("main").inner_text()
    clock.advance(timedelta(days=30, seconds=1))  # which does not decide within its 30 days
    fire_due_timer(db, "level_2_deadline")
    page.get_by_role("button", name="Logga ut").click()

    sign_in(page, live_server, "lansniva")  # level 3: the county, first the officials' preparation
    open_task(page, "Bereda tvisten (tjänstemän på länsnivå)")
    fill(page, {"summary": "Parterna tolkar avtalet olika om hjälpmedel.", "proposal": "Regionen bekostar hjälpmedlet."})
    finish(page)
    open_task(page, "Besluta i tvisten (länsnivå)")
    fill(page, {"decision": "Regionen bekostar hjälpmedlet; kommunen tar emot det."})
    finish(page)
    page.goto(dispute_url)
    assert "Avgjord" in page.locator("main").inner_text()
    assert "Regionen bekostar hjälpmedlet" in page.locator("main").inner_text()
    assert ready_ids(db) == []
    assert page.js_errors == []


def test_process_owner_edit_check_deploy_compare_and_heat_map(world: World, live_server: str, page: Any) -> None:  # noqa: F811
    world.user("handlaggare").memberships.append(Membership(organisation_id=world.alingsas.id,
                                                            role=Role.PROCESS_OWNER))
    world.db.session.commit()
    sign_in(page, live_server, "handlaggare")
    page.get_by_role("link", name="Processer", exact=True).click()
    page.goto(f"{live_server}/processer/modell?process=deviation")  # edit
    page.wait_for_selector("body[data-modeller-ready=true]")
    page.evaluate("() => { const m = window.samverkanModeler;"
                  " m.get('selection').select(m.get('elementRegistry').get('acknowledge')); }")
    page.locator(".bio-properties-panel-group-header", has_text="Samverkan").click()
    for entry, value in (("dueAt", ""), ("dueInWorkingDays", "3")):
        _panel_input(page, entry).fill(value)
        page.wait_for_timeout(600)  # the panel applies typed text after its input debounce
    page.click("#validate")  # check
    page.wait_for_selector("#status:has-text('Inga problem')")
    page.fill("#comment", "Kvittens inom 3 arbetsdagar")
    page.click("#deploy")  # deploy
    page.wait_for_selector("#status:has-text('Version 2 är driftsatt')")
    page.goto(f"{live_server}/processer/deviation/jamfor?a=1&b=2")  # compare
    page.wait_for_selector("body[data-diagram-ready=true]")
    assert "Kvittera avvikelsen" in page.locator("#changes").inner_text()
    _report(world)  # a case on version 2 waits at its first task
    page.goto(f"{live_server}/processer/deviation/versioner")
    page.get_by_role("link", name=re.compile("Värmekarta")).first.click()  # heat map of the newest version
    row = page.locator("#figures tr[data-element-id=acknowledge]")
    assert "Kvittera avvikelsen" in row.inner_text()
    assert row.locator("td").nth(2).inner_text() == "1"  # waiting there now
    assert page.js_errors == []


def test_auditor_replay_verify_report_and_export(world: World, live_server: str, page: Any) -> None:  # noqa: F811
    dispute = scenarios.dispute_to_county(world)
    _user(world.db, "granskare", world.county, [Role.AUDITOR])
    sign_in(page, live_server, "granskare")
    page.get_by_role("link", name="Granskning", exact=True).click()
    page.locator(f"main a[href$='/granskning/dispute/{dispute.id}']").click()  # from the case list
    page.wait_for_selector("#replay-canvas[data-ready]")  # replay on the process map
    page.get_by_role("button", name="Första").click()
    assert "Steg 1 av 6" in page.locator("#replay-step").inner_text()  # the steering group decides at a meeting (#20)
    page.get_by_role("button", name="Framåt").click()
    assert "Steg 2 av 6" in page.locator("#replay-step").inner_text()
    case_url = page.url
    page.get_by_role("link", name="Kör om och jämför").click()
    assert "Identisk" in page.locator("main").inner_text() and "Skiljer sig" not in page.locator("main").inner_text()
    page.get_by_role("link", name="Granskning", exact=True).click()
    page.get_by_role("link", name="Kontrollera granskningsloggens hashkedja").click()  # verify
    assert page.locator("#verify-result").inner_text().startswith("Hashkedjan är obruten")
    page.goto(case_url)
    page.get_by_role("link", name="Utskriftsvänlig rapport").click()  # printable report
    assert "Historikrapport" in page.locator("h1").inner_text()
    assert "obruten" in page.locator("main").inner_text() and scenarios.DECISION in page.locator("main").inner_text()
    page.goto(case_url)
    with page.expect_download() as download:
        page.get_by_role("link", name="Exportera CSV").click()  # export
    exported = download.value.path().read_text(encoding="utf-8")
    assert "dispute.resolved" in exported or "Tvisten avgjordes" in exported
    assert page.js_errors == []
