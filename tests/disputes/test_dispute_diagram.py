"""bpmn/dispute.bpmn through the engine: agreement at level 1, escalation by decision and by each level's
timer, the common instruction. Element ids: see service/disputes/hooks.py."""

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

ALINGSAS, REGION, STEERING, COUNTY = 10, 20, 10, 99
AGREED = {"outcome": "agreed", "solution": "Regionen står för hjälpmedlet.", "motivation": None,
          "needs_instruction": False}
NOT_AGREED = {"outcome": "not_agreed", "solution": None, "motivation": "Oenighet om kostnaden.", "needs_instruction": False}


@pytest.fixture(scope="module")
def definition() -> specs.Definition:
    return parse("dispute.bpmn")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(START)
    yield
    clock.reset()


def start(definition: specs.Definition) -> Instance:
    return Instance(definition, {
        "dispute_id": 1, "positions": {}, "needs_instruction": False, "line_raised": False, "started_by": 5,
        "parties": {str(org): {"organisation_id": org} for org in (ALINGSAS, REGION)},
        "steering_organisation_id": STEERING, "county_organisation_id": COUNTY, "instruction_organisation_id": ALINGSAS,
        "level_1_period": "P14D", "level_2_period": "P30D"})


def position(instance: Instance, organisation_id: int, data: dict[str, Any]) -> None:
    [task] = [t for t in instance.ready("line_position") if t.organisation == organisation_id]
    instance.complete(task, data)


def test_lanes_name_the_roles(definition: specs.Definition) -> None:
    roles = {task.bpmn_id: role_for_lane(task.lane or "") for task in definition.user_tasks.values()}
    assert roles == {"line_position": Role.MANAGER, "higher_position": Role.SENIOR_MANAGER,
                     "steering_decision": Role.STEERING_GROUP_MEMBER,
                     "county_preparation": Role.COUNTY_BODY_MEMBER, "county_decision": Role.COUNTY_BODY_MEMBER,
                     "write_instruction": Role.CASE_OFFICER}


def test_a_lifted_dispute_goes_to_the_next_management_level_up_once(definition: specs.Definition) -> None:
    instance = start(definition)
    position(instance, REGION, AGREED)
    position(instance, ALINGSAS, {"outcome": "raise", "motivation": "Cheferna kan inte besluta om budgeten."})
    assert sorted((t.bpmn_id, t.organisation) for t in instance.ready()) == [
        ("higher_position", ALINGSAS), ("higher_position", REGION)]
    [first] = [t for t in instance.ready() if t.organisation == REGION]
    instance.complete(first, {"outcome": "not_agreed", "motivation": "Regionen anser att kommunen ska bekosta det."})
    assert [t.bpmn_id for t in instance.ready()] == ["steering_decision"]  # no second lift: on to level 2


def test_agreement_in_the_line_organisation_with_an_instruction(definition: specs.Definition) -> None:
    instance = start(definition)
    assert [(t.bpmn_id, t.organisation) for t in instance.ready()] == [("line_position", ALINGSAS), ("line_position", REGION)]
    position(instance, ALINGSAS, AGREED)
    position(instance, REGION, {**AGREED, "needs_instruction": True})
    [task] = instance.ready()
    assert (task.bpmn_id, task.organisation) == ("write_instruction", ALINGSAS)
    instance.complete(task, {"instruction_title": "Hjälpmedel vid utskrivning", "instruction": "Regionen beställer."})
    assert instance.is_completed() and instance.waiting_timers() == []


def test_escalation_by_decision_to_the_county_level(definition: specs.Definition) -> None:
    instance = start(definition)
    position(instance, ALINGSAS, NOT_AGREED)  # one "no" is enough: the other party's task is cancelled
    [task] = instance.ready()
    assert (task.bpmn_id, task.organisation) == ("steering_decision", STEERING)
    instance.complete(task, {"outcome": "escalate", "decision": None, "motivation": "Principfråga.", "needs_instruction": False})
    [task] = instance.ready()  # level 3 starts with the officials' preparation, then the county group decides
    assert (task.bpmn_id, task.organisation) == ("county_preparation", COUNTY)
    instance.complete(task, {"summary": "Oenighet om kostnaden.", "proposal": "Kostnaden delas lika."})
    [task] = instance.ready()
    assert (task.bpmn_id, task.organisation) == ("county_decision", COUNTY)
    instance.complete(task, {"decision": "Kostnaden delas lika.", "needs_instruction": False})
    assert instance.is_completed()


def test_each_level_escalates_by_itself_when_its_time_runs_out(definition: specs.Definition) -> None:
    instance = start(definition)
    assert instance.advance(timedelta(days=13)) == []
    assert instance.advance(timedelta(days=1, seconds=1))[0] == "level_1_deadline"
    assert instance.ready_ids() == ["steering_decision"]
    assert instance.advance(timedelta(days=29)) == []
    assert instance.advance(timedelta(days=1, seconds=1)) == ["level_2_deadline"]
    assert instance.ready_ids() == ["county_preparation"]
    assert instance.waiting_timers() == []  # the county level is the last: nothing escalates from there
