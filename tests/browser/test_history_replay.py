"""The replay viewer: a dispute escalated by timer from level 1 to level 3, stepped through on its diagram."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from service.parties.models import Role
from tests.audit import scenarios
from tests.browser.conftest import screenshot, sign_in
from tests.deviations.world import World, _user, deployed, frozen  # noqa: F401 (fixtures)


@pytest.fixture
def dispute_world(app: Flask, db: Any, request: pytest.FixtureRequest) -> World:
    for name in ("deployed", "frozen"):  # tests/deviations/world.py's fixtures, imported above
        request.getfixturevalue(name)
    return World(app, db)


def classes(page: Any, element_id: str) -> str:
    return str(page.locator(f'g.djs-element[data-element-id="{element_id}"]').first.get_attribute("class"))


def test_stepping_through_an_escalated_dispute(live_server: str, page: Any, dispute_world: World) -> None:
    world = dispute_world
    dispute = scenarios.dispute_to_county(world)
    _user(world.db, "granskare", world.county, [Role.AUDITOR])
    sign_in(page, live_server, "granskare")
    page.goto(f"{live_server}/granskning/dispute/{dispute.id}")
    page.wait_for_selector("#replay-canvas[data-ready]")
    assert "Steg 6 av 6" in page.locator("#replay-step").inner_text()
    assert "replay-completed" in classes(page, "county_decision")

    page.get_by_role("button", name="Första").click()
    assert "Steg 1 av 6" in page.locator("#replay-step").inner_text()
    assert "replay-active" in classes(page, "line_position")
    assert "replay-active" not in classes(page, "steering_decision")
    shown = [page.locator("#replay-data").inner_text()]

    expectations = [  # after each step forward: (element, marker it must have)
        ("line_position", "replay-active"),       # one party has answered, the other has not
        ("steering_decision", "replay-active"),   # level 1's time ran out
        ("county_preparation", "replay-active"),  # level 2's time ran out: the officials prepare (issue #20)
        ("county_decision", "replay-active"),     # prepared: the county level decides
        ("county_decision", "replay-completed"),  # the county level decided
    ]
    for number, (element, marker) in enumerate(expectations, start=2):
        page.get_by_role("button", name="Framåt").click()
        assert f"Steg {number} av 6" in page.locator("#replay-step").inner_text()
        assert marker in classes(page, element), (number, element, classes(page, element))
        shown.append(page.locator("#replay-data").inner_text())
        if number == 4:
            assert "replay-escalated" in classes(page, "level_1_deadline")
            assert "replay-escalated" in classes(page, "level_2_deadline")
            screenshot_path = screenshot(page, "history-replay")
    # Completions change the case data; a timer step changes where the case stands (the path), not its data.
    assert shown[1] != shown[0] and shown[4] != shown[3] and shown[5] != shown[4]
    assert scenarios.DECISION in shown[-1]

    page.locator("#replay-slider").fill("1")
    assert "Steg 1 av 6" in page.locator("#replay-step").inner_text()
    assert page.js_errors == []
    assert screenshot_path.stat().st_size > 0  # docs/screenshots/history-replay.png is a chosen copy of it
