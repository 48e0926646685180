"""Recommendations in bpmn/agreement_adoption.bpmn (issue #19 item 6): the förbund recommend in parallel,
beside the parties' decisions; a recommendation is advice, so it never holds up or sends back the text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from service import clock
from tests.engine.test_agreement_adoption import START, Case, adopt_and_post, decide, text

VASTKOM = {"organisation_id": 5, "name": "VästKom"}
GR = {"organisation_id": 6, "name": "Göteborgsregionen"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(START)
    yield
    clock.reset()


def party_tasks(case: Case) -> list[int | None]:
    """The organisations with a task of their own adoption open (registering the proposal, deciding, ...)."""
    return sorted(t.organisation for t in case.ready() if t.bpmn_id not in ("draft", "recommend"))


def open_tasks(case: Case, bpmn_id: str) -> list[int | None]:
    return sorted(t.organisation for t in case.ready() if t.bpmn_id == bpmn_id)


def test_every_party_decides_at_once_while_the_forbund_recommend_in_parallel() -> None:
    case = Case()
    case.complete("draft", text(recommenders=[VASTKOM, GR]))
    # The region (1) is no member of either förbund; nobody waits for a recommendation.
    assert party_tasks(case) == [1, 2, 3] and open_tasks(case, "recommend") == [5, 6]
    case.complete("recommend", {"recommends": "yes"}, 6)
    assert open_tasks(case, "recommend") == [5]  # GR's answer does not wait for VästKom's, nor the other way


def test_no_recommendation_does_not_send_the_text_back() -> None:
    case = Case()
    case.complete("draft", text(recommenders=[GR]))
    case.complete("recommend", {"recommends": "no"}, 6)
    assert open_tasks(case, "draft") == [] and party_tasks(case) == [1, 2, 3]
    adopt_and_post(case)
    clock.freeze(datetime(2027, 1, 10, tzinfo=UTC))
    case.fire_timers()
    assert case.is_completed


def test_a_recommendation_not_given_closes_when_every_decision_is_final() -> None:
    case = Case()
    case.complete("draft", text(recommenders=[VASTKOM, GR]))
    case.complete("recommend", {"recommends": "yes"}, 5)
    adopt_and_post(case)
    clock.freeze(datetime(2027, 1, 10, tzinfo=UTC))
    assert "recommendations_withdrawn" in case.fire_timers()
    assert case.is_completed and case.ready() == []


def test_a_rejection_closes_open_recommendations_and_the_next_round_asks_again() -> None:
    case = Case()
    case.complete("draft", text(recommenders=[GR]))
    decide(case, 1, "rejected")
    assert [(t.bpmn_id, t.organisation) for t in case.ready()] == [("draft", 9)]  # GR's open task is closed
    case.complete("draft", text(recommenders=[GR]))
    assert open_tasks(case, "recommend") == [6]
    clock.advance(timedelta(days=1))
    case.complete("recommend", {"recommends": "yes"}, 6)
    assert open_tasks(case, "recommend") == [] and party_tasks(case) == [1, 2, 3]
