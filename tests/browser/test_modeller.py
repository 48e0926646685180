"""A process owner changes the deviation process in the browser modeller and deploys a new version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.deviations.operations import report_deviation
from service.engine.calendar import working_days_deadline
from service.parties.models import Membership, Role
from service.processes.definitions import list_versions
from service.processes.models import HumanTask
from service.transactions import commit_with_retry
from tests.browser.conftest import screenshot, sign_in
from tests.deviations.world import World, deployed, frozen, world  # noqa: F401 (fixtures)


def _report(w: World) -> Any:
    fields = {"reporting_organisation_id": w.alingsas.id, "reporting_unit": "Hemtjänst Norr",
              "receiving_organisation_ids": [w.region.id], "agreement_id": w.agreement.id, "event_date": "2026-03-01",
              "category": "sip", "description": "Informationen om insatserna kom inte fram.", "consequence": "minor"}
    deviation = commit_with_retry(lambda: report_deviation(fields, by=w.user("rapportor")))
    return w.db.session.scalars(select(HumanTask).where(HumanTask.instance_id == deviation.instance_id,
                                                        HumanTask.bpmn_id == "acknowledge")).one()


def _panel_input(page: Any, entry: str) -> Any:
    return page.locator(f"#bio-properties-panel-samverkan-{entry}")


def test_owner_changes_deadline_validates_deploys_and_compares(live_server: str, page: Any, world: World) -> None:  # noqa: F811
    w = world
    owner = w.user("handlaggare")
    owner.memberships.append(Membership(organisation_id=w.alingsas.id, role=Role.PROCESS_OWNER))
    w.db.session.commit()
    older = _report(w)
    older_due = older.due_at

    sign_in(page, live_server, "handlaggare")
    page.goto(f"{live_server}/processer/modell?process=deviation")
    page.wait_for_selector("body[data-modeller-ready=true]")
    page.evaluate("""() => {
        const m = window.samverkanModeler, registry = m.get('elementRegistry'), el = registry.get('acknowledge');
        const root = el.parent && !registry.get(el.parent.id + '_plane') ? null : registry.get(el.parent.id + '_plane');
        if (root) m.get('canvas').setRootElement(root);
        m.get('selection').select(el);
    }""")
    header = page.locator(".bio-properties-panel-group-header", has_text="Samverkan")
    header.click()
    for entry, value in (("dueAt", ""), ("dueInWorkingDays", "3")):
        _panel_input(page, entry).fill(value)
        page.wait_for_timeout(600)  # the panel applies typed text after its input debounce
    _panel_input(page, "form").select_option("")
    page.click("#validate")
    overlay = page.locator(".problem-overlay[data-element-id=acknowledge]")
    overlay.wait_for()
    assert "saknar formulär" in overlay.inner_text()
    screenshot(page, "modeller-validation")
    page.evaluate("() => window.samverkanModeler.get('selection').select([])")
    problem = page.locator("#problems button", has_text="saknar formulär")
    assert problem.inner_text().startswith("Kvittera avvikelsen (acknowledge): ")  # the element's name, then its id
    problem.click()  # selects the element the problem is on
    assert page.evaluate("() => window.samverkanModeler.get('selection').get().map(e => e.id)") == ["acknowledge"]

    _panel_input(page, "form").select_option("deviation-acknowledge.schema.json")
    page.fill("#comment", "Kvittens inom 3 arbetsdagar")
    page.click("#deploy")
    page.wait_for_selector("#status:has-text('Version 2 är driftsatt')")
    assert [v.version for v in list_versions("deviation")] == [2, 1]
    assert list_versions("deviation")[0].comment == "Kvittens inom 3 arbetsdagar"

    page.goto(f"{live_server}/processer/deviation/jamfor?a=1&b=2")
    page.wait_for_selector("body[data-diagram-ready=true]")
    assert page.locator("#changes").inner_text().count("acknowledge") >= 1
    screenshot(page, "modeller-compare")
    changed = page.evaluate("() => [...document.querySelectorAll('.diff-changed')].map(e => e.dataset.elementId)")
    assert "acknowledge" in changed
    assert page.js_errors == []

    newer = _report(w)
    w.db.session.refresh(older)
    assert older.due_at == older_due
    assert newer.due_at == working_days_deadline(newer.created_at, 3) != older_due
