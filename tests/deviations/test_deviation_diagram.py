"""bpmn/deviation.bpmn through the engine: routing per receiving party, question loop, reminder, escalation
on the deadline, one reopening after a contest, then analysis. Element ids: see service/deviations/hooks.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from service import clock
from service.engine import specs
from service.parties.models import Role, role_for_lane
from tests.deviations.diagram import Instance, parse
from tests.deviations.world import START

REPORTER, REPORTING, ANALYSIS, REGION, LERUM = 5, 10, 11, 20, 30


@pytest.fixture(scope="module")
def definition() -> specs.Definition:
    return parse("deviation.bpmn")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(START)
    yield
    clock.reset()


def receiver(receiver_id: int, organisation_id: int, answer_round: int = 1, days: int = 60) -> dict[str, Any]:
    """What hooks.prepare / operations.receiver_data hand the engine for one receiving party."""
    return {"receiver_id": receiver_id, "organisation_id": organisation_id, "answer_round": answer_round,
            "due_at": (clock.now() + timedelta(days=days)).isoformat(),
            "remind_at": (clock.now() + timedelta(days=days - 7)).isoformat()}


def start(definition: specs.Definition, *organisations: int) -> Instance:
    return Instance(definition, {
        "deviation_id": 1, "reporter_id": REPORTER, "reporting_organisation_id": REPORTING, "started_by": REPORTER,
        "analysis_organisation_id": ANALYSIS, "outcomes": {}, "category": "sip", "consequence": "minor",
        "receivers": {str(i): receiver(i, org) for i, org in enumerate(organisations, start=1)}})


ANSWER = {"action": "answer", "question": None, "findings": "Remissen kom inte fram.", "measures": "Ny rutin."}


def acknowledge_and_answer(instance: Instance, organisation_id: int) -> None:
    [task] = [t for t in instance.ready("acknowledge") if t.organisation == organisation_id]
    instance.complete(task, {"handler": "Enhetschef", "comment": None})
    [task] = [t for t in instance.ready("investigate") if t.organisation == organisation_id]
    instance.complete(task, ANSWER)


def review(instance: Instance, verdict: str, organisation_id: int, new_round: dict[str, Any] | None = None) -> None:
    [task] = [t for t in instance.ready("review_answer") if t.data["receiver"]["organisation_id"] == organisation_id]
    data: dict[str, Any] = {"verdict": verdict, "motivation": "Svaret missar frågan." if verdict == "contest" else None}
    if new_round is not None:
        data["receiver"] = new_round
    instance.complete(task, data)


def test_lanes_name_the_roles(definition: specs.Definition) -> None:
    roles = {task.bpmn_id: role_for_lane(task.lane or "") for task in definition.user_tasks.values()}
    assert roles == {"acknowledge": Role.DEVIATION_CONTACT, "investigate": Role.DEVIATION_CONTACT,
                     "answer_question": Role.CASE_OFFICER, "review_answer": Role.CASE_OFFICER,
                     "answer_overdue": Role.MANAGER, "analyse": Role.ANALYSIS_GROUP_MEMBER, "decide_dispute": Role.MANAGER}


def test_each_receiving_party_answers_and_the_reporter_accepts(definition: specs.Definition) -> None:
    instance = start(definition, REGION, LERUM)
    assert [(t.bpmn_id, t.organisation) for t in instance.ready()] == [("acknowledge", REGION), ("acknowledge", LERUM)]
    assert instance.waiting_timers() == ["answer_deadline", "answer_deadline", "answer_reminder", "answer_reminder"]
    [task] = [t for t in instance.ready("acknowledge") if t.organisation == REGION]
    instance.complete(task, {"handler": "Enhetschef", "comment": None})
    [task] = instance.ready("investigate")
    instance.complete(task, {**ANSWER, "action": "question", "question": "Vilken vecka?"})
    [question] = instance.ready("answer_question")
    assert (question.organisation, question.assignee) == (REPORTING, REPORTER)
    instance.complete(question, {"reply": "Vecka 9."})
    [task] = instance.ready("investigate")
    instance.complete(task, ANSWER)
    acknowledge_and_answer(instance, LERUM)
    review(instance, "accept", REGION)
    review(instance, "accept", LERUM)
    [analyse] = instance.ready()
    assert (analyse.bpmn_id, analyse.organisation) == ("analyse", ANALYSIS)
    assert sorted(o["verdict"] for o in analyse.data["outcomes"].values()) == ["accepted", "accepted"]
    instance.complete(analyse, {"final_category": "sip", "root_cause": "routine_missing", "start_dispute": False})
    assert instance.is_completed()


def test_reminder_then_escalation_to_the_manager_on_the_deadline(definition: specs.Definition) -> None:
    instance = start(definition, REGION)
    assert instance.advance(timedelta(days=53, seconds=1)) == ["answer_reminder", "reminder_sent"]
    assert instance.ready_ids() == ["acknowledge"]  # the reminder does not interrupt
    assert instance.advance(timedelta(days=7)) == ["answer_deadline"]
    [overdue] = instance.ready()
    assert (overdue.bpmn_id, overdue.organisation) == ("answer_overdue", REGION)
    instance.complete(overdue, {"findings": "Sent svar.", "measures": "Bemanning ses över."})
    assert instance.ready_ids() == ["review_answer"]


def test_a_contest_reopens_once_then_goes_to_analysis(definition: specs.Definition) -> None:
    instance = start(definition, REGION)
    acknowledge_and_answer(instance, REGION)
    review(instance, "contest", REGION, receiver(1, REGION, answer_round=2, days=30))
    assert instance.ready_ids() == ["acknowledge"]
    assert instance.waiting_timers() == ["answer_deadline", "answer_reminder"]  # a new round, new deadline
    acknowledge_and_answer(instance, REGION)
    review(instance, "contest", REGION, receiver(1, REGION, answer_round=3))
    [analyse] = instance.ready()
    assert analyse.bpmn_id == "analyse" and analyse.data["outcomes"]["1"]["verdict"] == "contested"
    instance.complete(analyse, {"final_category": "other", "root_cause": "responsibility", "start_dispute": True})
    assert instance.ready_ids() == ["decide_dispute"]


def test_the_analysis_group_is_reminded_then_the_steering_side_told(definition: specs.Definition) -> None:
    """Seed 004: the analysis group's work never started. Its task keeps waiting; two timers wake the instance."""
    instance = start(definition, REGION)
    acknowledge_and_answer(instance, REGION)
    review(instance, "accept", REGION)
    assert instance.ready_ids() == ["analyse"]
    assert instance.waiting_timers() == ["analysis_overdue", "analysis_reminder"]
    assert instance.advance(timedelta(days=14, seconds=1)) == ["analysis_reminder", "analysis_reminder_sent"]
    assert instance.advance(timedelta(days=16)) == ["analysis_overdue", "analysis_escalated"]
    [analyse] = instance.ready()
    assert analyse.bpmn_id == "analyse" and instance.waiting_timers() == []
    instance.complete(analyse, {"final_category": "sip", "root_cause": "routine_missing", "start_dispute": False})
    assert instance.is_completed()
