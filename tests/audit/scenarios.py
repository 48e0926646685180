"""Scenario drivers for audit tests: the other issues' flows, driven through the same pages and timers as
their own tests but without their page assertions (those belong to the owners' tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service import clock
from service.disputes.models import Dispute
from tests.deviations import test_deviation_flow as deviation_flow
from tests.deviations.world import World, complete, fire_due_timer, post_form
from tests.disputes import test_dispute_flow as dispute_flow

DECISION = "Regionen bekostar hjälpmedlet; kommunen tar emot det."


def dispute_to_county(world: World) -> Dispute:
    """A dispute no one decides at levels 1 and 2: escalated by timer to the county level, decided there."""
    dispute = dispute_flow.open_dispute(world)
    complete(world, "chef_vgr", "line_position", {"outcome": "agreed", "solution": "Kommunen beställer."}, world.region.id)
    clock.advance(timedelta(days=14, seconds=1))
    fire_due_timer(world.db, "level_1_deadline")
    clock.advance(timedelta(days=30, seconds=1))
    fire_due_timer(world.db, "level_2_deadline")
    complete(world, "lansniva", "county_preparation", {"summary": "Oenighet om kostnaden.", "proposal": DECISION})
    complete(world, "lansniva", "county_decision", {"decision": DECISION})
    world.db.session.expire_all()
    return world.db.session.get(Dispute, dispute.id)


def deviation_escalated(world: World) -> None:
    """A deviation one receiver answers late: reminder, escalation to its manager by timer, then analysis."""
    response = post_form(world.browser("chef_lerum"), "/avvikelser/svarstider", {
        "organisation_id": world.lerum.id, "agreement_id": world.agreement.id, "count": 2, "unit": "M", "reminder_days": 7})
    assert response.status_code == 302
    deviation = deviation_flow.report(world, world.region, world.lerum)
    lerum = deviation.receiver_for(world.lerum.id)
    due = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)
    complete(world, "kontakt_vgr", "acknowledge", {"handler": "Avdelningschef"}, world.region.id)
    complete(world, "kontakt_vgr", "investigate", {"action": "question", "question": "Vilken tid skedde utskrivningen?"})
    complete(world, "rapportor", "answer_question", {"reply": "Klockan 15 på fredagen."})
    complete(world, "kontakt_vgr", "investigate", deviation_flow.ANSWER, world.region.id)
    clock.freeze(lerum.remind_at + timedelta(seconds=1))
    fire_due_timer(world.db, "answer_reminder")
    clock.freeze(due + timedelta(seconds=1))
    fire_due_timer(world.db, "answer_deadline")
    complete(world, "chef_lerum", "answer_overdue", {"findings": "Ärendet blev liggande under semester.",
                                                     "measures": "Ersättare utses för avvikelsekontakten."})
    for _ in (world.region, world.lerum):
        complete(world, "rapportor", "review_answer", {"verdict": "accept"})
    complete(world, "analys", "analyse", deviation_flow.ANALYSIS)
