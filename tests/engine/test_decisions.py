"""Business-rule tasks with a DMN decision table (issue #22 item 3), in memory: the table decides the path, its
expressions run through our restricted engine, the state saves and loads, a process test runs it, and every
table the engine could not run safely is refused when the diagram is parsed, naming the element.
Fixtures: tests/fixtures/bpmn/rule_routing.bpmn calls the decision 'fordelning' in fixtures/dmn/rule-routing.dmn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service import clock
from service.engine import decisions, replay, runner, scripting, serializer, specs
from service.engine.process_tests import parse_case, run_case
from service.errors import BpmnError, ScriptRejected
from tests.deviations.world import START

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BPMN = (FIXTURES / "bpmn" / "rule_routing.bpmn").read_bytes()
TABLE = (FIXTURES / "dmn" / "rule-routing.dmn").read_text(encoding="utf-8")
SCHEMAS = {"simple.schema.json": json.loads((FIXTURES / "forms" / "simple.schema.json").read_text())}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(START)
    yield
    clock.reset()


def _parse(table: str = TABLE, xml: bytes = BPMN, name: str = "rule-routing.dmn") -> specs.Definition:
    return specs.parse(xml, "rule_routing.bpmn", decision_files={name: table})


def _ready(definition: specs.Definition, **data: Any) -> list[runner.ReadyTask]:
    workflow, _ = runner.start(definition, {"organisation_id": 1, **data})
    workflow = replay.round_trip(definition, workflow)  # the state without the spec, loaded again
    return runner.ready_tasks(workflow, definition)


@pytest.mark.parametrize(("category", "amount", "task", "level", "days"), [
    ("säkerhet", 10, "escalated_answer", "chef", 5),     # rule 2: the category
    ("lokaler", 250_000, "escalated_answer", "chef", 3),  # rule 1: the amount, whatever the category
    ("säkerhet", 250_000, "escalated_answer", "chef", 3),  # FIRST: rule 1 before rule 2
    ("lokaler", 99_999, "answer", "handlaggare", 10),     # the default rule
])
def test_the_table_decides_the_path_and_the_answer_period(category: str, amount: int, task: str, level: str,
                                                          days: int) -> None:
    definition = _parse()
    [ready] = _ready(definition, kategori=category, belopp=amount)
    assert ready.bpmn_id == task
    assert (ready.data["niva"], ready.data["svarsdagar"]) == (level, days)
    assert definition.decisions == {"rule-routing.dmn": TABLE}


def test_the_tables_expressions_run_in_our_restricted_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    definition = _parse()
    seen: list[str] = []
    checked = scripting.check_source

    def spy(source: str, mode: str) -> Any:
        seen.append(source)
        return checked(source, mode)

    monkeypatch.setattr(scripting, "check_source", spy)
    _ready(definition, kategori="säkerhet", belopp=10)
    # The engine joins each column's input expression and the cell, as decisions.py checks them at deploy.
    assert "(kategori) == (\"säkerhet\")" in seen and "belopp>= 100000" in seen and '"chef"' in seen


def test_an_instance_with_a_table_replays_from_its_history() -> None:
    definition = _parse()
    workflow, steps = runner.start(definition, {"organisation_id": 1, "kategori": "x", "belopp": 1})
    assert [step.bpmn_id for step in steps][:2] == ["start", "route"]
    again = replay.round_trip(definition, workflow)
    [task] = runner.ready_tasks(again, definition)
    runner.complete(again, task.task_id, {"note": "klart"})
    assert runner.is_completed(runner.load(definition, serializer.dump(again)))


def test_a_process_test_runs_the_decision_in_memory() -> None:
    definition = _parse()
    case = parse_case({"name": "Stort belopp till chefen", "start": {"organisation_id": 1, "kategori": "lokaler",
                                                                      "belopp": 300_000},
                       "steps": [{"task": "escalated_answer", "data": {"note": "klart"}}],
                       "expect": {"path": ["route", "which_level", "escalated_answer"], "end": "escalated_done",
                                  "data": {"niva": "chef", "svarsdagar": 3}}})
    outcome = run_case(definition, SCHEMAS, case, started_at=START)
    assert outcome.passed, outcome.message
    wrong = parse_case({"name": "Litet belopp", "start": {"organisation_id": 1, "kategori": "lokaler", "belopp": 5},
                        "steps": [{"task": "escalated_answer", "data": {"note": "x"}}]})
    failed = run_case(definition, SCHEMAS, wrong, started_at=START)
    assert not failed.passed and failed.element_id == "escalated_answer"


# --- refused when parsed (deploy) ----------------------------------------------------------------------------


def test_a_decision_no_file_has_is_refused_naming_the_task() -> None:
    with pytest.raises(BpmnError) as refused:
        specs.parse(BPMN, "rule_routing.bpmn", decision_files={})
    assert refused.value.element_id == "route" and "'fordelning' finns inte" in refused.value.detail
    with pytest.raises(BpmnError) as other:
        _parse(TABLE.replace('decision id="fordelning"', 'decision id="annan"'))
    assert other.value.element_id == "route" and "kända beslut: 'annan'" in other.value.detail


def test_a_business_rule_task_without_a_decision_is_refused() -> None:
    xml = BPMN.replace(b"<spiffworkflow:calledDecisionId>fordelning</spiffworkflow:calledDecisionId>", b"")
    with pytest.raises(BpmnError) as refused:
        _parse(xml=xml)
    assert refused.value.element_id == "route" and "calledDecisionId" in refused.value.detail


def test_a_dmn_file_that_does_not_parse_is_refused_with_its_line() -> None:
    broken = TABLE.replace("</rule>", "</regel>", 1)
    with pytest.raises(BpmnError) as refused:
        _parse(broken)
    assert refused.value.element_id == "route"
    assert "rule-routing.dmn: ogiltig XML på rad 19" in refused.value.detail


@pytest.mark.parametrize(("old", "new", "element"), [
    ("<text>&gt;= 100000</text>", "<text>__import__('os').system('id')</text>", "regel_stort_belopp"),
    ('<text>"säkerhet"</text>', '<text>"x".__class__</text>', "regel_sakerhet_kategori"),
    ('<text>"säkerhet"</text>', "<text>? == kategori._x</text>", "regel_sakerhet_kategori"),
    ('<text>"chef"</text>', "<text>open('/etc/passwd').read()</text>", "regel_stort_niva"),
    ("<text>kategori</text>", "<text>kategori.__dict__</text>", "in_kategori"),
    ("<text>-</text>", "<text>in (\"a\", \"b\")</text>", "regel_stort_kategori"),  # joined 'kategoriin (...)': a call
])
def test_an_unsafe_expression_in_the_table_is_refused_naming_the_cell(old: str, new: str, element: str) -> None:
    assert old in TABLE
    with pytest.raises(ScriptRejected) as refused:
        _parse(TABLE.replace(old, new, 1))
    assert refused.value.element_id == element
    assert "rule-routing.dmn, beslutet 'fordelning'" in refused.value.detail


def test_the_place_of_an_unsafe_cell_is_named_by_rule_and_column() -> None:
    with pytest.raises(ScriptRejected) as refused:
        decisions.read(TABLE.replace('<text>"säkerhet"</text>', "<text>__import__('os')</text>"), "t.dmn")
    assert "regel 2 ('regel_sakerhet'), kolumnen 'Kategori'" in refused.value.detail


@pytest.mark.parametrize(("policy", "message"), [
    ('hitPolicy="RULE ORDER"', "träffpolicyn RULE ORDER kan inte köras"),
    ('hitPolicy="PRIORITY"', "träffpolicyn PRIORITY kan inte köras"),
    ('hitPolicy="COLLECT" aggregation="SUM"', "COLLECT med aggregering (SUM)"),
])
def test_a_hit_policy_the_engine_cannot_run_is_refused(policy: str, message: str) -> None:
    with pytest.raises(BpmnError) as refused:
        decisions.read(TABLE.replace('hitPolicy="FIRST"', policy), "t.dmn")
    assert refused.value.element_id == "fordelning_tabell" and message in refused.value.detail


def test_other_shapes_the_engine_would_misread_are_refused() -> None:
    no_input = TABLE.replace("<text>kategori</text>", "<text></text>")
    with pytest.raises(BpmnError, match="kolumnen 'Kategori' saknar indatauttryck"):
        decisions.read(no_input, "t.dmn")
    with pytest.raises(BpmnError, match="utdatakolumnen 'Nivå' ska ha ett namn"):
        decisions.read(TABLE.replace('name="niva"', 'name="_niva"'), "t.dmn")
    with pytest.raises(BpmnError, match="samma namn som en hjälpfunktion"):
        decisions.read(TABLE.replace('name="niva"', 'name="len"'), "t.dmn")
    with pytest.raises(BpmnError, match="rad 1"):
        decisions.read("<definitions>", "t.dmn")
    with pytest.raises(BpmnError, match="ingen DMN-fil"):
        decisions.read(BPMN, "t.dmn")
    entity = TABLE.replace('<?xml version="1.0" encoding="UTF-8"?>',
                           '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    with pytest.raises(BpmnError, match="DOCTYPE"):
        decisions.read(entity.replace('"chef"', "&x;", 1), "t.dmn")


def test_two_files_with_one_decision_id_list_the_second_as_a_problem() -> None:
    found, broken = decisions.index({"a.dmn": TABLE, "b.dmn": TABLE, "c.dmn": "<x"})
    assert list(found) == ["fordelning"] and found["fordelning"].filename == "a.dmn"
    assert "finns redan i a.dmn" in broken["b.dmn"] and "ogiltig XML" in broken["c.dmn"]


def test_unique_means_one_rule_two_matching_rules_stop_the_task_naming_them() -> None:
    # The last rule no longer overlaps the others: it takes what neither the amount nor the category takes.
    table = (TABLE.replace('hitPolicy="FIRST"', 'hitPolicy="UNIQUE"')
             .replace('"regel_ovrigt_kategori"><text>-', '"regel_ovrigt_kategori"><text>!= "säkerhet"')
             .replace('"regel_ovrigt_belopp"><text>-', '"regel_ovrigt_belopp"><text>&lt; 100000'))
    unique = _parse(table)
    [ready] = _ready(unique, kategori="lokaler", belopp=250_000)  # only the amount's rule matches
    assert (ready.data["niva"], ready.data["svarsdagar"]) == ("chef", 3)
    [other] = _ready(unique, kategori="lokaler", belopp=10)  # only the last rule
    assert (other.data["niva"], other.data["svarsdagar"]) == ("handlaggare", 10)
    both = r"UNIQUE, men flera regler passar ärendets data: regel 1 \(regel_stort\), regel 2 \(regel_sakerhet\);"
    with pytest.raises(Exception, match=both):
        _ready(unique, kategori="säkerhet", belopp=250_000)  # the amount's rule and the category's
    [first] = _ready(_parse(), kategori="säkerhet", belopp=250_000)  # FIRST takes the first, as before
    assert first.data["svarsdagar"] == 3
