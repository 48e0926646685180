"""The modeller lists the warnings of an opened diagram and gives the canvas the window's width; the heat map's
badges cover neither each other nor the element labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from service.parties.models import Membership, Role
from tests.browser.conftest import sign_in
from tests.browser.test_modeller import _report
from tests.conftest import ROOT
from tests.deviations.world import World, deployed, frozen, world  # noqa: F401 (fixtures)

# A flow whose target does not exist: bpmn-js opens the diagram and warns about the unresolved reference.
BROKEN_FLOW = '<bpmn:sequenceFlow id="Flow_broken" name="Trasigt flöde" sourceRef="acknowledge" targetRef="missing_task"/>'


def _with_warning(tmp_path: Path) -> Path:
    xml = (ROOT / "bpmn" / "deviation.bpmn").read_text(encoding="utf-8")
    head, tail = xml.split("</bpmn:process>", 1)
    path = tmp_path / "deviation-broken.bpmn"
    path.write_text(head + BROKEN_FLOW + "</bpmn:process>" + tail, encoding="utf-8")
    return path


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_warnings_listed_canvas_wide_heat_badges_apart(live_server: str, page: Any, world: World,  # noqa: F811
                                                       tmp_path: Path) -> None:
    w = world
    w.user("handlaggare").memberships.append(Membership(organisation_id=w.alingsas.id, role=Role.PROCESS_OWNER))
    w.db.session.commit()
    _report(w)
    _report(w)
    sign_in(page, live_server, "handlaggare")

    page.goto(f"{live_server}/processer/modell?process=deviation")
    page.wait_for_selector("body[data-modeller-ready=true]")
    canvas = page.locator("#canvas").bounding_box()
    assert canvas["width"] >= 0.7 * page.viewport_size["width"], canvas
    assert canvas["height"] >= 0.7 * page.viewport_size["height"] - 1, canvas
    # The shipped diagram opens without warnings: its multi-instances' collections (SpiffWorkflow's data
    # variables, unresolved for bpmn-moddle) are kept on save, so they are no problem to list.
    assert page.locator("#import-warnings").is_hidden() and "varningar" not in page.locator("#status").inner_text()
    page.set_input_files("#upload", str(_with_warning(tmp_path)))
    page.locator("#warnings li", has_text="Trasigt flöde").wait_for()
    warnings = page.locator("#warnings li").all_inner_texts()
    assert warnings == ["Trasigt flöde (Flow_broken): hänvisar till missing_task, som inte finns i diagrammet"]
    assert "varningar" in page.locator("#status").inner_text()
    # Every shipped diagram opens without warnings (the multi-instance's spiffworkflow:scriptsOnInstances is known).
    for shipped in sorted((ROOT / "bpmn").glob("*.bpmn")):
        page.evaluate("document.querySelector('#status').textContent = ''")
        page.set_input_files("#upload", str(shipped))
        expect(page.locator("#status")).not_to_have_text("")
        assert page.locator("#status").inner_text() == "Diagrammet är öppnat.", shipped.name
        assert page.locator("#import-warnings").is_hidden(), (shipped.name, page.locator("#warnings li").all_inner_texts())

    page.goto(f"{live_server}/processer/deviation/versioner/1/varmekarta")
    page.wait_for_selector("body[data-diagram-ready=true]")
    badges = [page.locator(".heat-overlay").nth(i).bounding_box() for i in range(page.locator(".heat-overlay").count())]
    labels = [box for box in (t.bounding_box() for t in page.locator("#diagram .djs-element text").all()) if box]
    assert len(badges) >= 3
    for i, badge in enumerate(badges):
        assert not any(_overlap(badge, other) for other in badges[i + 1:]), badge
        assert not any(_overlap(badge, label) for label in labels if label["width"] > 0), badge
    assert page.js_errors == []
