"""The modeller lints live: renaming a lane so it names no role marks its user task and lists the rule."""

from __future__ import annotations

from typing import Any

from service.parties.models import Membership, Role
from tests.browser.conftest import screenshot, sign_in
from tests.deviations.world import World, deployed, frozen, world  # noqa: F401 (fixtures)

RULE = "samverkan/user-task-lane-role"


def test_a_lane_renamed_to_no_role_marks_its_user_task(live_server: str, page: Any, world: World) -> None:  # noqa: F811
    w = world
    owner = w.user("handlaggare")
    owner.memberships.append(Membership(organisation_id=w.alingsas.id, role=Role.PROCESS_OWNER))
    w.db.session.commit()
    sign_in(page, live_server, "handlaggare")
    page.goto(f"{live_server}/processer/modell?process=deviation")
    page.wait_for_selector("body[data-modeller-ready=true]")
    page.wait_for_selector(".bjsl-button")
    assert page.locator(f"#problems li[data-rule='{RULE}']").count() == 0  # the shipped diagram passes

    page.evaluate("""() => {
        const m = window.samverkanModeler, registry = m.get('elementRegistry');
        const task = registry.get('acknowledge');
        let root = task; while (root.parent) root = root.parent;
        m.get('canvas').setRootElement(root);
        m.get('modeling').updateLabel(registry.get('lane_contact'), 'Kaffebryggare');
    }""")
    marker = page.locator(".djs-overlays[data-container-id=acknowledge] .bjsl-overlay .bjsl-icon-error")
    marker.wait_for()
    listed = page.locator(f"#problems li[data-rule='{RULE}'][data-element-id=acknowledge]")
    listed.wait_for()
    assert "ligger inte i en simbana som anger en roll (simbana: 'Kaffebryggare')" in listed.inner_text()
    assert listed.inner_text().startswith("Kvittera avvikelsen (acknowledge): ")
    assert page.locator(".problem-overlay[data-element-id=acknowledge]").count() == 1
    assert "fel" in page.locator(".bjsl-button").inner_text()  # the lint button in Swedish
    screenshot(page, "modeller-lint")

    page.evaluate("() => window.samverkanModeler.get('commandStack').undo()")
    listed.wait_for(state="detached")
    assert marker.count() == 0
    assert page.js_errors == []
