"""Signing in and out, throttled wrong passwords and the language switch, in Chromium."""

from __future__ import annotations

from typing import Any

from service.parties.models import Role
from tests.browser.conftest import screenshot, sign_in


def _person(make_organisation: Any, make_user: Any) -> None:
    make_user([(make_organisation(name="Lerums kommun"), Role.CASE_OFFICER)], username="lisa", display_name="Lisa Larsson")


def test_sign_in_and_out(live_server: str, page: Any, make_organisation: Any, make_user: Any) -> None:
    _person(make_organisation, make_user)
    sign_in(page, live_server, "lisa")
    page.get_by_role("link", name="Mitt konto").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Mitt konto"
    assert "Lerums kommun: Handläggare" in page.locator("main").inner_text()
    page.get_by_role("button", name="Logga ut").click()
    assert page.get_by_role("status").first.inner_text() == "Du är utloggad."
    page.goto(f"{live_server}/konto")
    assert page.url.startswith(f"{live_server}/logga-in")
    assert page.js_errors == []


def test_repeated_wrong_passwords_are_throttled(live_server: str, page: Any, make_organisation: Any,
                                                make_user: Any) -> None:
    _person(make_organisation, make_user)
    statuses = []
    for _ in range(6):
        page.goto(f"{live_server}/logga-in")
        page.get_by_label("Användarnamn").fill("lisa")
        page.get_by_label("Lösenord").fill("fel-lösenord")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Logga in").click()
        statuses.append(answer.value.status)
    assert statuses == [401] * 5 + [429]
    assert "För många felaktiga inloggningsförsök" in page.get_by_role("alert").inner_text()
    screenshot(page, "login-throttled")
    sign_in(page, live_server, "lisa")  # the right password is refused too while the lock holds
    assert page.url.startswith(f"{live_server}/logga-in")


def test_language_switch_to_english_and_back(live_server: str, page: Any, make_organisation: Any,
                                             make_user: Any) -> None:
    _person(make_organisation, make_user)
    sign_in(page, live_server, "lisa")
    page.goto(f"{live_server}/konto")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "My account"
    assert page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Agreements", exact=True).is_visible()
    screenshot(page, "account-english")
    page.get_by_role("button", name="Svenska").click()
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("heading", level=1).inner_text() == "Mitt konto"
