"""Keyboard-only use with visible focus, labels on every field, and pages readable on a phone and at 200 % zoom."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from service.parties.models import Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

FOCUSED = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {tag: e.tagName, id: e.id, name: e.name, value: e.value, text: (e.innerText || '').trim(), outline: s.outlineStyle,
          width: parseFloat(s.outlineWidth), top: e.getBoundingClientRect().top}; }"""
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name || e.id)"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def admin(make_organisation: Any, make_user: Any) -> None:
    region = make_organisation(name="Västra Götalandsregionen", kind="region")
    make_user([(region, Role.ADMIN), (region, Role.CASE_OFFICER)], username="asa", display_name="Åsa Adminsson")


def _tab_until(page: Any, wanted: Any, limit: int = 40) -> list[dict[str, Any]]:
    """Press Tab until ``wanted(focused)`` holds; every stop must show a visible focus outline."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        stops.append(focused)
        assert focused["outline"] != "none" and focused["width"] >= 2, f"no visible focus on {focused}"
        if wanted(focused):
            return stops
    raise AssertionError(f"not reached by keyboard; stops: {[s['text'] or s['id'] for s in stops]}")


def test_keyboard_reaches_skip_link_nav_and_fields_with_visible_focus(live_server: str, page: Any, admin: None) -> None:
    sign_in(page, live_server, "asa")
    page.goto(f"{live_server}/konto")
    first = _tab_until(page, lambda f: True)[0]
    assert first["text"] == "Hoppa till innehållet" and first["top"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.goto(f"{live_server}/konto")
    _tab_until(page, lambda f: f["text"].startswith("Mina uppgifter"))
    _tab_until(page, lambda f: f["text"] == "Administration")
    _tab_until(page, lambda f: f["id"] == "current_password")
    page.keyboard.type("fel")
    _tab_until(page, lambda f: f["id"] == "new_password")
    screenshot(page, "keyboard-focus")


@pytest.mark.parametrize("path", ["/logga-in", "/konto", "/admin/organisationer", "/admin/anvandare", "/avvikelser/ny",
                                  "/tvister/nivaer", "/avvikelser"])
def test_every_field_has_a_label(live_server: str, page: Any, admin: None, path: str) -> None:
    if path != "/logga-in":
        sign_in(page, live_server, "asa")
    page.goto(f"{live_server}{path}")
    assert page.evaluate(UNLABELLED) == []
    assert page.locator("h1").count() == 1


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="sv-SE", viewport={"width": 375, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("path", ["/uppgifter", "/konto", "/admin/anvandare"])
def test_readable_on_a_phone_without_sideways_scrolling(live_server: str, phone: Any, admin: None, path: str) -> None:
    sign_in(phone, live_server, "asa")
    phone.goto(f"{live_server}{path}")
    assert phone.evaluate(OVERFLOW) <= 0
    assert phone.get_by_role("navigation").get_by_role("link", name="Avtal", exact=True).is_visible()
    screenshot(phone, "phone" + path.replace("/", "-"))


def test_readable_at_200_percent_zoom(live_server: str, browser: Any, admin: None) -> None:
    # 200 % zoom of a 1280 px window lays the page out in 640 CSS pixels.
    context = browser.new_context(locale="sv-SE", viewport={"width": 640, "height": 450}, device_scale_factor=2)
    page = context.new_page()
    try:
        sign_in(page, live_server, "asa")
        for path in ("/uppgifter", "/konto", "/admin/organisationer"):
            page.goto(f"{live_server}{path}")
            assert page.evaluate(OVERFLOW) <= 0, path
        screenshot(page, "zoom-200-admin")
    finally:
        context.close()


def test_a_task_form_completed_with_the_keyboard_only(app: Any, db: Any, parties: Any, live_server: str,
                                                      page: Any) -> None:
    """Sign in, claim a group task, open it, fill it and submit it with Tab, Shift+Tab, Enter, Space and typing."""
    from tests.conftest import draft_data
    from tests.inbox.test_adoption_flow import complete, receive_all, start_agreement

    client = app.test_client()
    start_agreement(client, parties, "Mini-Maria Göteborg")
    complete(client, db, "anna", "draft", draft_data(parties))
    receive_all(client, db, parties)  # each party registered the proposal on arrival
    page.goto(f"{live_server}/logga-in")
    page.wait_for_function("document.activeElement.id === 'username'")  # the user name field has focus on arrival
    page.keyboard.type(parties.secretaries[parties.region.id].username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/uppgifter**")
    _tab_until(page, lambda f: f["text"].startswith("Gruppens uppgifter"))
    page.keyboard.press("Enter")
    page.wait_for_url("**lista=grupp**")
    _tab_until(page, lambda f: f["text"].startswith("Ta uppgiften"))
    with page.expect_navigation():  # the claim posts and comes back to the list: wait for it before reading focus
        page.keyboard.press("Space")
    _tab_until(page, lambda f: f["text"] == "Registrera beslut om avtalet", limit=60)
    page.keyboard.press("Enter")
    page.wait_for_url("**/uppgifter/*")
    _tab_until(page, lambda f: f["name"] == "outcome", limit=60)
    page.keyboard.press("Space")
    assert page.locator("input[name=outcome]:checked").get_attribute("value") == "adopted"  # "Avtalet antas"
    _tab_until(page, lambda f: f["id"] == "body_id")
    page.keyboard.type("Regionstyrelsen")
    _tab_until(page, lambda f: f["id"] == "decided_on")
    page.keyboard.type("11242026")  # the date's parts in the order of this Chromium's own (English) locale
    assert page.locator("#decided_on").input_value() == "2026-11-24"
    _tab_until(page, lambda f: f["id"] == "paragraph")
    page.keyboard.type("§ 12")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")  # back again: the field keeps what was typed
    assert page.evaluate(FOCUSED)["id"] == "paragraph"
    _tab_until(page, lambda f: f["id"] == "diarienummer")
    page.keyboard.type("RS 2026-0948")
    _tab_until(page, lambda f: f["text"] == "Slutför uppgiften")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".field.has-error").all_inner_texts() == []
    assert "Uppgiften ”Registrera beslut om avtalet” är klar." in page.locator(".flash").inner_text()
    assert page.js_errors == []
