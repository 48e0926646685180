"""The shipped decision table bpmn/avvikelse-routning.dmn, run by deviation.bpmn's business-rule task
route_deviation: category and consequence give the manager's answer periods in working days, read by
answer_overdue (after an escalation) and decide_dispute. The expected route of each combination is written here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from service import clock
from service.engine import specs
from tests.conftest import ROOT
from tests.deviations.diagram import Instance, parse
from tests.deviations.world import START

TABLE = ROOT / "bpmn" / "avvikelse-routning.dmn"
REPORT = json.loads((ROOT / "forms" / "deviation-report.schema.json").read_text(encoding="utf-8"))["properties"]
CATEGORIES = [option["const"] for option in REPORT["category"]["oneOf"]]
CONSEQUENCES = [option["const"] for option in REPORT["consequence"]["oneOf"]]


@pytest.fixture(scope="module")
def definition() -> specs.Definition:
    return parse("deviation.bpmn")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(START)
    yield
    clock.reset()


def _route(definition: specs.Definition, category: str, consequence: str) -> tuple[int, int]:
    instance = Instance(definition, {
        "deviation_id": 1, "reporter_id": 5, "reporting_organisation_id": 10, "started_by": 5,
        "analysis_organisation_id": 11, "outcomes": {}, "category": category, "consequence": consequence,
        "receivers": {"1": {"receiver_id": 1, "organisation_id": 20, "answer_round": 1,
                            "due_at": (clock.now() + timedelta(days=60)).isoformat(),
                            "remind_at": (clock.now() + timedelta(days=53)).isoformat()}}})
    [task] = instance.ready("acknowledge")
    return task.data["chefens_svarsdagar"], task.data["tvistens_svarsdagar"]


@pytest.mark.parametrize(("category", "consequence", "route"), [
    ("medication", "serious", (3, 5)),               # rule 1: serious at a medication handover
    ("medication_transitions", "serious", (3, 5)),
    ("sip", "serious", (5, 5)),                      # rule 2: any other serious consequence
    ("other", "serious", (5, 5)),
    ("discharge", "moderate", (7, 10)),              # rule 3: moderate at a transition of care
    ("admission_discharge", "moderate", (7, 10)),
    ("medication", "moderate", (7, 10)),
    ("sip", "moderate", (10, 10)),                   # the default rule
    ("discharge", "minor", (10, 10)),
    ("availability", "none", (10, 10)),
])
def test_category_and_consequence_give_the_managers_answer_periods(definition: specs.Definition, category: str,
                                                                   consequence: str, route: tuple[int, int]) -> None:
    assert _route(definition, category, consequence) == route


def test_every_combination_the_report_form_allows_is_routed(definition: specs.Definition) -> None:
    assert definition.decisions == {"avvikelse-routning.dmn": TABLE.read_text(encoding="utf-8")}
    for category in CATEGORIES:
        for consequence in CONSEQUENCES:
            chef, dispute = _route(definition, category, consequence)
            assert chef in (3, 5, 7, 10) and dispute in (5, 10), (category, consequence)


def test_the_escalated_and_the_dispute_tasks_read_the_tables_periods() -> None:
    xml = (ROOT / "bpmn" / "deviation.bpmn").read_text(encoding="utf-8")
    assert '<spiffworkflow:property name="dueInWorkingDays" value="chefens_svarsdagar"/>' in xml
    assert '<spiffworkflow:property name="dueInWorkingDays" value="tvistens_svarsdagar"/>' in xml
