"""A process owner adds a process test on the page, runs it and sees it pass; then deploys a diagram from the
modeller that breaks it and sees the refusal naming the case (issue #22 item 5)."""

from __future__ import annotations

import json
from typing import Any

from service.modeller import operations
from service.parties.models import Role
from service.processes.definitions import list_versions
from service.transactions import commit_with_retry
from tests.browser.conftest import screenshot, sign_in
from tests.modeller.edit import FIXTURES, camunda_ready, to_bytes

PROCESS, TASK, GRANTED = "Process_0ysk7yd", "Activity_1qa6h3r", "Event_0l7y3vd"
FORM = "request-review.schema.json"
CASE = {"name": "Beviljas", "start": {"organisation_id": 1}, "steps": [{"task": TASK, "data": {"approved": True}}],
        "expect": {"path": [TASK, "Gateway_0r8w2ke"], "end": GRANTED}}


def test_a_failing_process_test_blocks_the_deploy(live_server: str, page: Any, make_organisation: Any,
                                                 make_user: Any) -> None:
    owner = make_user([(make_organisation(name="Alingsås kommun"), Role.PROCESS_OWNER)], username="agare")
    commit_with_retry(lambda: operations.save_form(FORM, (FIXTURES / FORM).read_text(), by=owner))
    commit_with_retry(lambda: operations.deploy_xml(to_bytes(camunda_ready()), "request.bpmn", "första", by=owner))

    sign_in(page, live_server, "agare")
    page.goto(f"{live_server}/processer/{PROCESS}/versioner")
    page.get_by_role("link", name="Processtester").click()
    page.get_by_label("Testfallet som JSON").fill(json.dumps(CASE, indent=2, ensure_ascii=False))
    page.locator("#save-new-test").click()
    assert "Testfallet ”Beviljas” är sparat." in page.locator(".flash").inner_text()
    page.get_by_role("button", name="Kör testerna").click()
    result = page.locator('#test-results tr[data-test="Beviljas"]')
    assert result.get_attribute("data-passed") == "true" and "Godkänt" in result.inner_text()
    screenshot(page, "process-tests-passed")

    page.goto(f"{live_server}/processer/modell?process={PROCESS}")
    page.wait_for_selector("body[data-modeller-ready=true]")
    page.evaluate("""(id) => {
        const m = window.samverkanModeler, end = m.get('elementRegistry').get(id);
        m.get('modeling').updateProperties(end, {id: 'Event_beviljad'});
    }""", GRANTED)
    page.fill("#comment", "Nytt slut")
    page.click("#deploy")
    status = page.locator("#status")
    status.filter(has_text="Driftsättningen vägrades").wait_for()
    assert f"Testfall ”Beviljas”: väntade slut i ”{GRANTED}”, men processen slutade i ”Event_beviljad”" in status.inner_text()
    screenshot(page, "process-tests-refused-deploy")
    assert [row.version for row in list_versions(PROCESS)] == [1]
    assert not page.js_errors
