"""Each party's route to "gäller för parten" in bpmn/agreement_adoption.bpmn (issue #19 items 3 and 9): the proposal
registered on arrival, an arbetsutskott's preparation that starts no appeal period, and three ways to decide."""

from __future__ import annotations

from datetime import timedelta

from service import clock
from tests.engine.test_agreement_adoption import PARTIES, Case, frozen, text  # noqa: F401 (fixture)

MINUTES = {"minutes_approved_on": "2026-11-10", "posted_on": "2026-11-11"}


def receive(case: Case, organisation: int, *, with_preparation: bool = False) -> None:
    case.complete("receive_proposal", {"received_on": "2026-11-03", "diarienummer": f"{organisation}/26",
                                       "with_preparation": with_preparation}, organisation)


def decide(case: Case, organisation: int, route: str) -> None:
    case.complete("decide", {"outcome": "adopted", "route": route, "reason": None}, organisation)


def ready(case: Case) -> list[tuple[str, int | None]]:
    return sorted((t.bpmn_id, t.organisation) for t in case.ready())


def test_the_proposal_is_registered_on_arrival_before_any_decision() -> None:
    case = Case()
    case.complete("draft", text())
    assert ready(case) == [("receive_proposal", 1), ("receive_proposal", 2), ("receive_proposal", 3)]
    receive(case, 1)
    assert ("decide", 1) in ready(case) and ("decide", 2) not in ready(case)


def test_a_preparation_in_an_arbetsutskott_starts_no_appeal_period() -> None:
    case = Case()
    case.complete("draft", text(parties={"1": PARTIES["1"]}))
    receive(case, 1, with_preparation=True)
    assert ready(case) == [("prepare", 1)]
    case.complete("prepare", {"prepared_by": "Kommunstyrelsens arbetsutskott", "prepared_on": "2026-11-04"}, 1)
    assert ready(case) == [("decide", 1)]
    assert "appeal_period_over" not in {t.bpmn_id for t in case.waiting()}
    decide(case, 1, "decision_with_posting")
    assert ready(case) == [("record_minutes", 1)]  # the clock starts only with the anslag
    assert "appeal_period_over" not in {t.bpmn_id for t in case.waiting()}


def test_each_route_ends_in_applies_for_the_party_and_only_a_meeting_has_justering_and_anslag() -> None:
    case = Case()
    case.complete("draft", text())
    for organisation in (1, 2, 3):
        receive(case, organisation)
    decide(case, 2, "delegation")
    decide(case, 3, "signed_agreement")
    assert ready(case) == [("decide", 1)]  # the delegation and the signature apply at once: no minutes, no appeal
    decide(case, 1, "decision_with_posting")
    assert ready(case) == [("record_minutes", 1)]
    case.complete("record_minutes", MINUTES, 1)
    assert not case.is_completed  # the region's decision waits for its appeal period
    clock.advance(timedelta(days=40))
    case.fire_timers()
    assert case.is_completed


def test_parties_that_all_sign_or_decide_by_delegation_adopt_without_any_timer() -> None:
    case = Case()
    case.complete("draft", text(parties={"1": PARTIES["1"], "2": PARTIES["2"]}))
    for organisation, route in ((1, "signed_agreement"), (2, "delegation")):
        receive(case, organisation)
        decide(case, organisation, route)
    assert case.is_completed


def test_godkanns_and_staller_sig_bakom_adopt_like_antas() -> None:
    case = Case()
    case.complete("draft", text(parties={"1": PARTIES["1"], "2": PARTIES["2"]}))
    for organisation in (1, 2):
        receive(case, organisation)
    case.complete("decide", {"outcome": "endorsed", "route": "delegation", "reason": None}, 2)
    case.complete("decide", {"outcome": "approved", "route": "decision_with_posting", "reason": None}, 1)
    assert ready(case) == [("record_minutes", 1)]  # the endorsement applied at once, the approval goes to justering
    case.complete("record_minutes", MINUTES, 1)
    clock.advance(timedelta(days=40))
    case.fire_timers()
    assert case.is_completed


def test_a_bordlaggning_keeps_the_decision_open_and_starts_no_appeal_period() -> None:
    case = Case()
    case.complete("draft", text(parties={"1": PARTIES["1"]}))
    receive(case, 1)
    case.complete("decide", {"outcome": "tabled", "route": "decision_with_posting", "reason": None}, 1)
    assert ready(case) == [("decide", 1)]  # decided again at a later meeting
    assert "appeal_period_over" not in {t.bpmn_id for t in case.waiting()} and not case.is_completed
    decide(case, 1, "decision_with_posting")
    assert ready(case) == [("record_minutes", 1)]
