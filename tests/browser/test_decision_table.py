"""A process owner edits the deviation routing table in the browser (a broken cell is refused naming its rule),
sees the process test that depends on the changed cell fail against the deployed version, deploys a new version
from the modeller (the deploy runs the test against the edited table) and sees it pass; the new version stores
the edited table (issue #22 item 3). An auditor reads the table without editing it."""

from __future__ import annotations

import json
from typing import Any

from lxml import etree
from sqlalchemy import func, select

from service.extensions import db
from service.modeller.models import EditedDecision
from service.parties.models import Role
from service.processes.definitions import list_versions
from tests.browser.conftest import screenshot, sign_in
from tests.deviations.world import deployed  # noqa: F401 (fixture)

TABLE = "avvikelse-routning.dmn"
CELL = "allvarlig_lakemedel_chef"  # serious consequence at a medication hand-over: the manager's answer period
DMN = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
RECEIVER = {"receiver_id": 1, "organisation_id": 2, "answer_round": 1, "due_at": "2099-03-20T16:00:00+00:00",
            "remind_at": "2099-03-16T08:00:00+00:00"}
CASE = {"name": "Allvarlig läkemedelsavvikelse", "steps": [],
        "start": {"deviation_id": 1, "reporter_id": 1, "reporting_organisation_id": 1, "analysis_organisation_id": 1,
                  "category": "medication", "consequence": "serious", "receivers": {"1": RECEIVER}, "outcomes": {}},
        "expect": {"path": ["route_deviation"], "data": {"chefens_svarsdagar": 4}}}


def _cell(xml: str) -> str:
    return str(etree.fromstring(xml.encode()).find(f".//dmn:outputEntry[@id='{CELL}']/dmn:text", DMN).text)


def _type_in_cell(page: Any, text: str) -> None:
    page.locator(f'[data-element-id="{CELL}"] [contenteditable]').click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.locator("h1").click()  # leave the cell


def test_owner_edits_the_routing_table_tests_and_deploys_it(live_server: str, page: Any, make_organisation: Any,
                                                           make_user: Any, deployed: None) -> None:  # noqa: F811
    make_user([(make_organisation(name="Alingsås kommun"), Role.PROCESS_OWNER)], username="agare")
    assert _cell(list_versions("deviation")[0].decisions[TABLE]) == "3"
    sign_in(page, live_server, "agare")
    page.set_viewport_size({"width": 1400, "height": 900})

    page.goto(f"{live_server}/processer/")
    page.get_by_role("link", name="Beslutstabellerna (DMN) som affärsregeluppgifterna kör").click()
    page.get_by_role("link", name=TABLE).click()
    page.wait_for_selector("body[data-decision-ready=true]")
    assert page.locator(".hit-policy").inner_text().strip().startswith("Träffpolicy:")  # dmn-js in Swedish
    status = page.locator("#decision-status")
    _type_in_cell(page, "__import__('os')")
    page.get_by_role("button", name="Spara", exact=True).click()
    status.filter(has_text="Beslutstabellen sparades inte").wait_for()
    problem = page.locator(f'#decision-problems li[data-element-id="{CELL}"]')
    assert problem.inner_text().startswith(f"Regel 1, Chefens svarstid vid eskalering (arbetsdagar) ({CELL}): ")
    assert "dmn-problem" in (page.locator(f'td[data-element-id="{CELL}"]').get_attribute("class") or "")
    assert db.session.scalar(select(func.count()).select_from(EditedDecision)) == 0  # nothing stored

    _type_in_cell(page, "4")
    page.get_by_role("button", name="Spara", exact=True).click()
    status.filter(has_text="Beslutstabellen är sparad").wait_for()
    assert page.locator("#decision-problems li").count() == 0
    screenshot(page, "decision-table")
    assert "nästa version som driftsätts av varje process som använder den" in status.inner_text()

    page.goto(f"{live_server}/processer/deviation/tester")
    page.locator("#new-case").fill(json.dumps(CASE, indent=2, ensure_ascii=False))
    page.locator("#save-new-test").click()
    page.get_by_role("button", name="Kör testerna").click()
    result = page.locator(f'#test-results tr[data-test="{CASE["name"]}"]')
    assert result.get_attribute("data-passed") == "false"  # version 1 still has the table as deployed
    assert "väntade att ”chefens_svarsdagar” skulle vara 4, men det är 3" in result.inner_text()

    page.goto(f"{live_server}/processer/modell?process=deviation")
    page.wait_for_selector("body[data-modeller-ready=true]")
    page.evaluate("""() => {
        const m = window.samverkanModeler;
        m.get('selection').select(m.get('elementRegistry').get('route_deviation'));
    }""")
    page.locator(".bio-properties-panel-group-header", has_text="Samverkan").click()
    assert page.locator("#bio-properties-panel-samverkan-decision").input_value() == "avvikelse_routning"
    assert page.locator("#samverkan-open-decision").get_attribute("href") == f"/processer/beslut/{TABLE}"
    page.fill("#comment", "Allvarlig läkemedelsavvikelse: chefen svarar inom 4 arbetsdagar")
    page.click("#deploy")
    page.wait_for_selector("#status:has-text('Version 2 är driftsatt')")
    assert _cell(list_versions("deviation")[0].decisions[TABLE]) == "4"
    assert _cell(list_versions("deviation")[1].decisions[TABLE]) == "3"

    page.goto(f"{live_server}/processer/deviation/tester")
    page.get_by_role("button", name="Kör testerna").click()
    result = page.locator(f'#test-results tr[data-test="{CASE["name"]}"]')
    assert result.get_attribute("data-passed") == "true" and "Godkänt" in result.inner_text()
    screenshot(page, "process-test")
    assert page.js_errors == []


def test_an_auditor_reads_the_table_without_editing(live_server: str, page: Any, make_organisation: Any,
                                                    make_user: Any, deployed: None) -> None:  # noqa: F811
    make_user([(make_organisation(name="Alingsås kommun"), Role.AUDITOR)], username="granskare")
    sign_in(page, live_server, "granskare")
    page.goto(f"{live_server}/processer/beslut/{TABLE}")
    page.wait_for_selector("body[data-decision-ready=true]")
    assert page.locator(f'td[data-element-id="{CELL}"]').inner_text().strip() == "3"
    assert page.locator("#decision-editor [contenteditable=true]").count() == 0
    assert page.get_by_role("button", name="Spara", exact=True).count() == 0
    assert page.js_errors == []
