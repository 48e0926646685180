"""Every deploy-time validation rule names the BPMN element at fault (engine only, no database)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from service.engine import validation
from service.engine.specs import NS
from service.parties.models import role_for_lane
from tests.modeller.edit import FIXTURES, ROOT, camunda_ready, element, set_property, to_bytes

FORMS = {"request-review.schema.json": json.loads((FIXTURES / "request-review.schema.json").read_text())}
TASK = "Activity_1qa6h3r"
GATEWAY = "Gateway_0r8w2ke"


def problems(root: etree._Element, forms: dict | None = None) -> list[validation.Problem]:
    return validation.validate(to_bytes(root), "request.bpmn", FORMS if forms is None else forms, role_for_lane)


def test_ready_diagram_has_no_problems() -> None:
    assert problems(camunda_ready()) == []


@pytest.mark.parametrize("path", sorted((ROOT / "bpmn").glob("*.bpmn")), ids=lambda p: p.name)
def test_shipped_diagrams_have_no_problems(path: Path) -> None:
    forms = {p.name: json.loads(p.read_text()) for p in (ROOT / "forms").glob("*.json")}
    tables = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "bpmn").glob("*.dmn")}  # beside the diagrams
    assert validation.validate(path.read_bytes(), path.name, forms, role_for_lane, decision_files=tables) == []


def _no_form(root: etree._Element) -> None:
    set_property(root, TASK, "formJsonSchemaFilename", None)


def _missing_form(root: etree._Element) -> None:
    set_property(root, TASK, "formJsonSchemaFilename", "nope.schema.json")


def _no_role_lane(root: etree._Element) -> None:
    element(root, "Lane_0c9gq1p").set("name", "Mottagare")


def _no_assignment(root: etree._Element) -> None:
    set_property(root, TASK, "organisation", None)


def _bad_due_in(root: etree._Element) -> None:
    set_property(root, TASK, "dueInWorkingDays", None)
    set_property(root, TASK, "dueIn", "30 dagar")


def _no_default(root: etree._Element) -> None:
    del element(root, GATEWAY).attrib["default"]
    flow = element(root, "Flow_1h5pq0x")
    condition = etree.SubElement(flow, f"{{{NS['bpmn']}}}conditionExpression")
    condition.text = "approved == False"


def _forbidden_script(root: etree._Element) -> None:
    element(root, "Flow_0g6d7nc").find("bpmn:conditionExpression", NS).text = "__import__('os').getcwd()"


def _forbidden_property(root: etree._Element) -> None:
    set_property(root, TASK, "organisation", "().__class__")


def _timer(root: etree._Element, kind: str, text: str) -> None:
    boundary = etree.SubElement(element(root, "Process_0ysk7yd"), f"{{{NS['bpmn']}}}boundaryEvent",
                                id="Event_0tmr1x", attachedToRef=TASK)
    etree.SubElement(boundary, f"{{{NS['bpmn']}}}outgoing").text = "Flow_tmr"
    definition = etree.SubElement(boundary, f"{{{NS['bpmn']}}}timerEventDefinition", id="TimerEventDefinition_1")
    etree.SubElement(definition, f"{{{NS['bpmn']}}}{kind}").text = text
    end = etree.SubElement(element(root, "Process_0ysk7yd"), f"{{{NS['bpmn']}}}endEvent", id="Event_tmr_end")
    etree.SubElement(end, f"{{{NS['bpmn']}}}incoming").text = "Flow_tmr"
    etree.SubElement(element(root, "Process_0ysk7yd"), f"{{{NS['bpmn']}}}sequenceFlow", id="Flow_tmr",
                     sourceRef="Event_0tmr1x", targetRef="Event_tmr_end")


def _unreachable(root: etree._Element) -> None:
    process = element(root, "Process_0ysk7yd")
    task = etree.SubElement(process, f"{{{NS['bpmn']}}}task", id="Activity_0orphan", name="Glömd")
    etree.SubElement(task, f"{{{NS['bpmn']}}}outgoing").text = "Flow_orphan"
    etree.SubElement(process, f"{{{NS['bpmn']}}}sequenceFlow", id="Flow_orphan", sourceRef="Activity_0orphan",
                     targetRef="Event_1b0m6tq")


def _parse_error(root: etree._Element) -> None:
    element(root, "Flow_0p2s9vb").set("targetRef", "Gateway_missing")


RULES: list[tuple[str, Callable[[etree._Element], None], str, str]] = [
    ("no form", _no_form, TASK, "saknar formulär"),
    ("form missing", _missing_form, TASK, "'nope.schema.json' finns inte"),
    ("lane without role", _no_role_lane, TASK, "simbana som anger en roll"),
    ("no assignment", _no_assignment, TASK, "saknar tilldelning"),
    ("bad dueIn", _bad_due_in, TASK, "ingen ISO 8601-varaktighet"),
    ("gateway without default", _no_default, GATEWAY, "saknar standardflöde"),
    ("forbidden condition", _forbidden_script, "Flow_0g6d7nc", "inte tillåtet"),
    ("forbidden property expression", _forbidden_property, TASK, "otillåtet attribut"),
    ("unquoted timer", lambda r: _timer(r, "timeDuration", "P5D"), "Event_0tmr1x", "citattecken"),
    ("bad duration", lambda r: _timer(r, "timeDuration", '"fem dagar"'), "Event_0tmr1x", "varaktighet"),
    ("bad date", lambda r: _timer(r, "timeDate", '"igår"'), "Event_0tmr1x", "tidpunkt"),
    ("bad cycle", lambda r: _timer(r, "timeCycle", '"P1D"'), "Event_0tmr1x", "upprepning"),
    ("timer syntax", lambda r: _timer(r, "timeDuration", "receiver["), "Event_0tmr1x", "går inte att tolka"),
    ("empty timer", lambda r: _timer(r, "timeDuration", ""), "Event_0tmr1x", "saknar tid"),
    ("unreachable", _unreachable, "Activity_0orphan", "kan aldrig nås"),
    ("parse error", _parse_error, "Flow_0p2s9vb", "Gateway_missing"),
]


@pytest.mark.parametrize(("label", "change", "element_id", "text"), RULES, ids=[r[0] for r in RULES])
def test_rule_names_the_element(label: str, change: Callable[[etree._Element], None], element_id: str, text: str) -> None:
    root = camunda_ready()
    change(root)
    found = problems(root)
    assert any(p.element_id == element_id and text in p.message for p in found), found


def test_valid_timer_expressions_pass() -> None:
    root = camunda_ready()
    _timer(root, "timeDuration", '"P5D"')
    assert problems(root) == []


def test_invalid_form_schema_names_the_task() -> None:
    bad = {"request-review.schema.json": {"type": "object", "properties": {"len": {"type": "string"}}}}
    found = problems(camunda_ready(), bad)
    assert [p.element_id for p in found] == [TASK]


def test_malformed_xml_is_one_problem_without_element() -> None:
    found = validation.validate(b"<bpmn:definitions", "x.bpmn", {}, role_for_lane)
    assert len(found) == 1 and found[0].element_id is None and "ogiltig XML" in found[0].message


def test_schema_error_is_placed_on_the_element_by_its_line() -> None:
    root = camunda_ready()
    task = element(root, TASK)
    task.append(task.find("bpmn:incoming", NS))  # incoming after outgoing: not allowed by the BPMN schema
    found = validation.validate(etree.tostring(root, pretty_print=True), "x.bpmn", FORMS, role_for_lane)
    assert [p.element_id for p in found] == [TASK]


def test_every_problem_is_reported_at_once() -> None:
    root = camunda_ready()
    _no_form(root)
    _no_default(root)
    assert {p.element_id for p in problems(root)} == {TASK, GATEWAY}
