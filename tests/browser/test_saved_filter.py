"""Issue #18, item 7: after "Filtrera" (htmx swaps the table only), "Spara filtret som" saves the filter shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.inbox.models import SavedFilter
from service.parties.models import Role
from tests.browser.conftest import sign_in
from tests.conftest import Parties


def test_the_filter_saved_after_filtering_is_the_one_shown(db: Any, parties: Parties, make_user: Any,
                                                            live_server: str, page: Any) -> None:
    make_user([(parties.region, Role.CASE_OFFICER)], username="filtrerare")
    sign_in(page, live_server, "filtrerare")
    page.get_by_label("Sök i uppgifter och ärenden").fill("budget")
    with page.expect_response(lambda r: "q=budget" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_role("button", name="Filtrera").click()
    page.get_by_label("Spara filtret som").fill("Budget")
    page.get_by_role("button", name="Spara filter").click()
    page.wait_for_load_state("networkidle")

    assert "Filtret ”Budget” är sparat." in page.locator(".flash").inner_text()
    db.session.expire_all()
    saved = db.session.scalars(select(SavedFilter).where(SavedFilter.name == "Budget")).one()
    assert saved.query.get("q") == "budget" and page.js_errors == []
