"""The browser harness itself: Chromium reaches the served app, a user logs in, assets load from /vendor."""

from __future__ import annotations

from typing import Any

from service.parties.models import Role
from tests.browser.conftest import screenshot, sign_in


def test_sign_in_shows_the_inbox_in_swedish(live_server: str, page: Any, make_organisation: Any, make_user: Any) -> None:
    organisation = make_organisation(name="Lerums kommun")
    make_user([(organisation, Role.CASE_OFFICER)], username="lisa", display_name="Lisa Larsson")

    sign_in(page, live_server, "lisa")

    assert page.get_by_role("heading", level=1).first.inner_text().strip() == "Mina uppgifter"
    assert "Lisa Larsson" in page.locator("header").inner_text()
    assert page.js_errors == []
    assert screenshot(page, "smoke-inbox").stat().st_size > 0


def test_vendor_assets_are_served_from_node_modules_only(live_server: str, page: Any) -> None:
    served = page.request.get(f"{live_server}/vendor/bpmn-js/dist/bpmn-viewer.production.min.js")
    refused = page.request.get(f"{live_server}/vendor/bpmn-js/package.json")
    escape = page.request.get(f"{live_server}/vendor/bpmn-js/dist/../../../pyproject.toml")

    assert served.status == 200 and len(served.body()) > 100_000
    assert refused.status == 404
    assert escape.status == 404
