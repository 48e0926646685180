"""Process tests (issue #22 item 5) run in memory: a passing case and each way a case fails, naming the
element (tests/fixtures/bpmn/timer_escalation.bpmn; no Flask, no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.engine import specs
from service.engine.process_tests import Outcome, parse_case, run_case
from service.errors import ValidationFailed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCHEMAS = {"simple.schema.json": json.loads((FIXTURES / "forms" / "simple.schema.json").read_text())}
START = {"organisation_id": 1, "reminders": 0, "answer_within": "P2D"}
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def definition() -> specs.Definition:
    return specs.parse((FIXTURES / "bpmn" / "timer_escalation.bpmn").read_bytes(), "timer_escalation.bpmn")


def _run(definition: specs.Definition, **case: Any) -> Outcome:
    case.setdefault("name", "Fall")
    case.setdefault("start", START)
    return run_case(definition, SCHEMAS, parse_case(case), started_at=MONDAY)


def test_answered_in_time_passes_through_the_working_day_wait(definition: specs.Definition) -> None:
    outcome = _run(definition, steps=[{"task": "answer", "data": {"note": "klart"}}, {"timer": "wait_working_days"}],
                   expect={"path": ["answer", "wait_working_days"], "end": "done", "data": {"note": "klart"}})
    assert outcome.passed, outcome.message
    assert outcome.path[-2:] == ["wait_working_days", "done"]


def test_a_reminder_then_the_deadline_escalates(definition: specs.Definition) -> None:
    outcome = _run(definition, steps=[{"timer": "reminder"}, {"timer": "deadline"},
                                      {"task": "escalated_answer", "data": {"note": "sent"}}],
                   expect={"path": ["count_reminder", "deadline", "escalated_answer"],
                           "end": "escalated_done"})
    assert outcome.passed, outcome.message


def test_wrong_end_names_the_expected_end(definition: specs.Definition) -> None:
    outcome = _run(definition, name="Eskalering", steps=[{"timer": "deadline"},
                                                         {"task": "escalated_answer", "data": {"note": "x"}}],
                   expect={"end": "done"})
    assert not outcome.passed and outcome.element_id == "done"
    assert outcome.message == "Testfall ”Eskalering”: väntade slut i ”done”, men processen slutade i ”escalated_done”"


def test_a_task_that_is_not_ready_fails_naming_it_and_what_is_ready(definition: specs.Definition) -> None:
    outcome = _run(definition, steps=[{"task": "escalated_answer", "data": {"note": "x"}}])
    assert not outcome.passed and outcome.element_id == "escalated_answer"
    assert "väntade att ”escalated_answer” skulle vara redo, men redo är ”answer”" in outcome.message


def test_a_path_not_taken_fails_naming_the_missing_element(definition: specs.Definition) -> None:
    outcome = _run(definition, steps=[{"task": "answer", "data": {"note": "x"}}, {"timer": "wait_working_days"}],
                   expect={"path": ["answer", "deadline"], "end": "done"})
    assert not outcome.passed and outcome.element_id == "deadline"
    assert "vägen skulle gå genom ”deadline”" in outcome.message


def test_answers_are_validated_against_the_task_form(definition: specs.Definition) -> None:
    outcome = _run(definition, steps=[{"task": "answer", "data": {"note": ""}}])
    assert not outcome.passed and outcome.element_id == "answer"
    assert "fältet ”note”" in outcome.message


def test_a_timer_that_does_not_wait_fails_naming_it(definition: specs.Definition) -> None:
    outcome = _run(definition, steps=[{"task": "answer", "data": {"note": "x"}}, {"timer": "deadline"}])
    assert not outcome.passed and outcome.element_id == "deadline"
    assert "timern ”deadline” skulle vänta, men väntande timrar är ”wait_working_days”" in outcome.message


def test_a_process_still_waiting_fails_the_expected_end(definition: specs.Definition) -> None:
    outcome = _run(definition, steps=[{"task": "answer", "data": {"note": "x"}}], expect={"end": "done"})
    assert not outcome.passed and outcome.element_id == "done" and "väntar på en timer" in outcome.message


def test_a_failing_script_fails_the_case_naming_its_element(definition: specs.Definition) -> None:
    outcome = _run(definition, start={"organisation_id": 1, "answer_within": "P2D"}, steps=[{"timer": "reminder"}])
    assert not outcome.passed and outcome.element_id == "count_reminder"


@pytest.mark.parametrize(("case", "field"), [
    ({"start": {}}, "name"),
    ({"name": "x", "steps": {}}, "steps"),
    ({"name": "x", "steps": [{"task": "a", "timer": "b"}]}, "steps/0"),
    ({"name": "x", "steps": [{"task": "a", "data": []}]}, "steps/0/data"),
    ({"name": "x", "expect": {"end": 3}}, "expect/end"),
    ({"name": "x", "expect": {"path": "a"}}, "expect/path"),
    ({"name": "x", "extra": 1}, "extra"),
])
def test_a_malformed_case_is_refused_naming_the_field(case: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_case(case)
    assert list(refused.value.fields) == [field]
