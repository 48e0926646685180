"""Issue #20, done when: a three-party agreement with a steering group of one member per party; a dispute raised
to level 2 is decided at a meeting where members of all three parties are recorded present; no party decides
it alone (a member of one party completing the decision by themselves is refused)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from service.bodies.models import BodyKind
from service.bodies.operations import NewMember, add_member, create_body
from service.disputes.models import Dispute, DisputeStatus
from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_role_flows import fill, open_task
from tests.deviations.world import World, deployed, frozen, ready_ids, world  # noqa: F401 (fixtures)
from tests.disputes.test_dispute_meeting import not_agreed

DECISION = "Regionen bekostar hjälpmedlet; kommunen tar emot det i hemmet."


def steering_group(world: World) -> None:  # noqa: F811
    """One member per party (Alingsås' is its steering group member), the coordinator's case officer as secretary."""
    body = create_body("Styrgruppen Alingsås–Lerum", BodyKind.STYRGRUPP, [world.agreement], by=None)
    for username, organisation in (("chef_vgr", world.region), ("styrgrupp", world.alingsas), ("chef_lerum", world.lerum)):
        add_member(body, NewMember(organisation.id, world.user(username).id, date(2026, 1, 1)), by=None)
    add_member(body, NewMember(world.alingsas.id, world.user("handlaggare").id, date(2026, 1, 1), is_secretary=True),
               by=None)
    world.db.session.commit()


def test_a_dispute_at_level_2_is_decided_at_a_meeting_of_all_three_parties(world: World, live_server: str,  # noqa: F811
                                                                            page: Any) -> None:
    db = world.db
    steering_group(world)
    dispute = not_agreed(world)  # three parties; Alingsås' manager says no in the line: on to the steering group
    assert ready_ids(db) == ["steering_decision"]

    sign_in(page, live_server, "styrgrupp")  # a member of one party tries to decide it alone
    open_task(page, "Besluta i tvisten (styrgruppen)")
    fill(page, {"outcome": "resolve", "decision": "Kommunen bekostar hjälpmedlet."})
    page.get_by_role("button", name="Slutför uppgiften").click()
    page.wait_for_load_state()
    assert "aldrig av en part ensam" in page.locator("[role=alert]").first.inner_text()
    assert ready_ids(db) == ["steering_decision"]
    page.get_by_role("button", name="Logga ut").click()

    sign_in(page, live_server, "handlaggare")  # the secretary holds the meeting's protocol
    page.get_by_role("link", name="Organ", exact=True).click()
    page.get_by_role("link", name="Styrgruppen Alingsås–Lerum").click()
    fill(page, {"held_on": "2026-03-02", "place": "Alingsås stadshus"})
    page.get_by_role("button", name="Planera mötet").click()
    page.select_option("#case", f"dispute:{dispute.id}")
    page.get_by_role("button", name="Lägg till på dagordningen").click()
    assert dispute.case_number in page.locator("#agenda").inner_text()
    for box in page.locator("#record-attendance input[name=present]").all():
        box.check()
    page.get_by_role("button", name="Registrera närvaron").click()
    attendance = page.locator("#attendance").inner_text()
    for party in ("Västra Götalandsregionen", "Alingsås kommun", "Lerums kommun"):
        assert re.search(rf"\({party}\): närvarande", attendance), attendance
    assert page.locator("#quorum").count() == 1
    fill(page, {"outcome": "resolve", "text": DECISION})
    page.get_by_role("button", name="För in beslutet").click()
    assert "§ 1" in page.locator("#decisions").inner_text()
    screenshot(page, "joint-body-meeting")
    page.get_by_role("link", name=re.compile(dispute.case_number)).first.click()  # the secretary, a member, reads it
    assert "Avgjord" in page.locator("main").inner_text() and DECISION in page.locator("main").inner_text()
    db.session.expire_all()
    decided = db.session.get(Dispute, dispute.id)
    assert decided.status == DisputeStatus.RESOLVED and decided.decision.startswith("§ 1 (Styrgruppen Alingsås–Lerum")
    assert ready_ids(db) == []  # the level's task was completed by the meeting's decision
    assert page.js_errors == []
