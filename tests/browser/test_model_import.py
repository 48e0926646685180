"""A process owner imports a SpiffArena model in the browser: upload it with its forms, see its three user tasks,
map the lanes to roles and organisations, and land on the deployed version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from service.parties.models import Role
from service.processes.definitions import list_versions
from tests.browser.conftest import screenshot, sign_in

SPIFFARENA = Path(__file__).resolve().parents[1] / "fixtures" / "spiffarena"


def test_owner_imports_a_spiffarena_model(live_server: str, page: Any, make_organisation: Any, make_user: Any) -> None:
    alingsas, region = make_organisation(name="Alingsås kommun"), make_organisation(name="Västra Götalandsregionen")
    make_user([(alingsas, Role.PROCESS_OWNER)], username="agare")

    sign_in(page, live_server, "agare")
    page.goto(f"{live_server}/processer/")
    page.get_by_role("link", name="Importera en modell från SpiffArena eller Camunda").click()
    page.get_by_label("Modell och formulärfiler (.bpmn, .json eller .zip)").set_input_files(
        sorted(str(path) for path in SPIFFARENA.iterdir()))
    page.get_by_role("button", name="Läs modellen").click()

    rows = page.locator("#import-tasks tbody tr")
    expect(rows).to_have_count(3)  # waits for the mapping page: the click only starts the upload
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == [
        "Describe the meeting describe_request", "Approve the cost approve_request", "Book the meeting book_meeting"]
    assert rows.nth(0).locator("td").nth(1).inner_text() == "ingen bana"
    assert rows.nth(1).locator("td").nth(1).inner_text() == "Finance"
    screenshot(page, "model-import-mapping")

    finance = page.locator("fieldset", has_text="Banan Finance")
    finance.get_by_label("Roll").select_option(label="Chef")
    finance.get_by_label("Organisation").select_option(label="Västra Götalandsregionen")
    for task in ("Describe the meeting", "Book the meeting"):
        group = page.locator("fieldset", has_text=f"Uppgiften {task} (ingen bana)")
        group.get_by_label("Roll").select_option(label="Handläggare")
        assert group.get_by_label("Organisation").input_value() == "case"  # the case's organisation by default
    page.get_by_label("Kommentar till versionen").fill("Importerad från SpiffArena")
    page.get_by_role("button", name="Importera och driftsätt").click()

    page.wait_for_url("**/processer/meeting_request/versioner")
    assert "Modellen importerades och driftsattes som version 1." in page.locator(".flash").inner_text()
    assert "Importerad från SpiffArena" in page.locator("table").first.inner_text()
    assert [v.version for v in list_versions("meeting_request")] == [1]
    assert str(region.id) in list_versions("meeting_request")[0].bpmn_xml
    assert not page.js_errors
