"""bpmn/agreement_adoption.bpmn through the engine, saved and restored after every step.

Element ids the tests depend on: draft, decide (multi-instance over ``parties``), agreement_active.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from service.engine import runner, serializer, specs
from service.engine.runner import ReadyTask, Step
from service.errors import Conflict
from service.parties.models import Role, role_for_lane

ROOT = Path(__file__).resolve().parents[2]
BPMN_FILE = ROOT / "bpmn" / "agreement_adoption.bpmn"
COORDINATOR_ORGANISATION, STARTED_BY = 7, 42
PARTY_IDS = (11, 12, 13)


@pytest.fixture(scope="module")
def definition() -> specs.Definition:
    xml = BPMN_FILE.read_bytes()
    definition = specs.parse(xml, BPMN_FILE.name)
    schemas = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in (ROOT / "forms").glob("*.json")}
    specs.validate(xml, definition, schemas, role_for_lane)
    return definition


class Instance:
    """An instance as the service keeps it: only the serialized state survives between steps."""

    def __init__(self, definition: specs.Definition, data: Mapping[str, Any]) -> None:
        self.definition = definition
        workflow, _ = runner.start(definition, data)
        self.state = serializer.dump(workflow)

    def ready(self) -> list[ReadyTask]:
        return runner.ready_tasks(runner.load(self.definition, self.state), self.definition)

    def complete(self, task_id: str, data: Mapping[str, Any]) -> list[Step]:
        workflow = runner.load(self.definition, self.state)
        steps = runner.complete(workflow, task_id, data)
        self.state = serializer.dump(workflow)
        return steps

    def is_completed(self) -> bool:
        return runner.is_completed(runner.load(self.definition, self.state))

    def final_data(self) -> dict[str, Any]:
        return runner.final_data(runner.load(self.definition, self.state))


@pytest.fixture
def instance(definition: specs.Definition) -> Instance:
    return Instance(definition, {"coordinator_organisation_id": COORDINATOR_ORGANISATION, "started_by": STARTED_BY,
                                 "agreement_id": 5, "title": "Samverkan kring psykisk hälsa"})


def draft_data(party_ids: tuple[int, ...] = PARTY_IDS) -> dict[str, Any]:
    """What AdoptionHooks.prepare() hands the engine for the draft task."""
    return {
        "title": "Samverkan kring psykisk hälsa", "party_ids": list(party_ids),
        "responsibilities": "Kommunen ansvarar för boendestöd.", "follow_up": "Årligen, styrgruppen.",
        "parties": {str(i): {"organisation_id": i, "name": f"Organisation {i}"} for i in party_ids},
        "decisions": {},
    }


def decision(organisation_id: int, outcome: str = "approve", reason: str | None = None) -> dict[str, Any]:
    return {"outcome": outcome, "body_id": 100 + organisation_id, "decided_on": "2026-03-02", "paragraph": "§ 14",
            "diarienummer": f"KS 2026/{organisation_id}", "reason": reason}


def the_only(tasks: list[ReadyTask], bpmn_id: str) -> ReadyTask:
    assert [t.bpmn_id for t in tasks] == [bpmn_id]
    return tasks[0]


def decide_tasks(instance: Instance) -> dict[int, ReadyTask]:
    """The READY decide instances keyed by the organisation each one is offered in."""
    tasks = instance.ready()
    assert {t.bpmn_id for t in tasks} == {"decide"}
    return {t.organisation: t for t in tasks}


def submit_draft(instance: Instance, party_ids: tuple[int, ...] = PARTY_IDS) -> dict[int, ReadyTask]:
    instance.complete(the_only(instance.ready(), "draft").task_id, draft_data(party_ids))
    return decide_tasks(instance)


def test_every_party_approving_puts_the_agreement_in_force(instance: Instance) -> None:
    submit_draft(instance)
    for remaining, organisation_id in zip((2, 1, 0), PARTY_IDS, strict=True):
        steps = instance.complete(decide_tasks(instance)[organisation_id].task_id, decision(organisation_id))
        assert len(instance.ready()) == remaining
        assert instance.is_completed() is (remaining == 0)

    assert [s.bpmn_id for s in steps] == ["decide", "all_approved", "agreement_active"]
    decisions = instance.final_data()["decisions"]
    assert set(decisions) == {"11", "12", "13"}
    for key, recorded in decisions.items():
        assert recorded == {"organisation_id": int(key), **decision(int(key))}


def test_two_party_agreement_completes_after_two_approvals(instance: Instance) -> None:
    tasks = submit_draft(instance, party_ids=(11, 13))
    assert set(tasks) == {11, 13}
    for organisation_id in (11, 13):
        instance.complete(decide_tasks(instance)[organisation_id].task_id, decision(organisation_id))
    assert instance.is_completed()
    assert set(instance.final_data()["decisions"]) == {"11", "13"}


def test_a_rejection_cancels_open_decisions_and_returns_to_the_draft(instance: Instance) -> None:
    first_draft = the_only(instance.ready(), "draft")
    first_round = submit_draft(instance)
    reason = "Kostnadsfördelningen behöver ses över."

    steps = instance.complete(first_round[12].task_id, decision(12, "reject", reason))

    assert [s.bpmn_id for s in steps] == ["decide", "all_approved"]
    draft = the_only(instance.ready(), "draft")
    assert draft.task_id != first_draft.task_id
    assert (draft.organisation, draft.assignee) == (COORDINATOR_ORGANISATION, STARTED_BY)
    assert draft.data["decisions"] == {"12": {"organisation_id": 12, **decision(12, "reject", reason)}}
    assert not instance.is_completed()
    for cancelled in (first_round[11], first_round[13]):
        with pytest.raises(Conflict):
            instance.complete(cancelled.task_id, decision(cancelled.organisation))

    second_round = submit_draft(instance)
    assert set(second_round) == set(PARTY_IDS)
    assert {t.task_id for t in second_round.values()}.isdisjoint(t.task_id for t in first_round.values())
    for organisation_id in PARTY_IDS:
        instance.complete(decide_tasks(instance)[organisation_id].task_id, decision(organisation_id))
    assert instance.is_completed()
    assert {d["outcome"] for d in instance.final_data()["decisions"].values()} == {"approve"}


def test_draft_is_offered_to_the_person_who_started_in_the_coordinating_organisation(instance: Instance) -> None:
    draft = the_only(instance.ready(), "draft")
    assert (draft.organisation, draft.assignee) == (COORDINATOR_ORGANISATION, STARTED_BY)
    assert (draft.lane, role_for_lane(str(draft.lane))) == ("Handläggare", Role.CASE_OFFICER)
    assert draft.form == "agreement-draft.schema.json"
    assert draft.due_in is None
    assert draft.data["title"] == "Samverkan kring psykisk hälsa"


def test_decide_is_offered_to_each_party_with_sixty_days(instance: Instance) -> None:
    tasks = submit_draft(instance)
    assert sorted(tasks) == list(PARTY_IDS)
    for organisation_id, task in tasks.items():
        assert task.data["party"] == {"organisation_id": organisation_id, "name": f"Organisation {organisation_id}"}
        assert (task.lane, role_for_lane(str(task.lane))) == ("Nämndsekreterare", Role.BODY_SECRETARY)
        assert (task.due_in, task.assignee) == ("P60D", None)
        assert task.form == "agreement-decision.schema.json"


@pytest.mark.parametrize("which", ["completed draft", "unknown uuid", "not a uuid"])
def test_completing_a_task_that_is_not_ready_is_a_conflict(instance: Instance, which: str) -> None:
    draft_id = the_only(instance.ready(), "draft").task_id
    before = submit_draft(instance)
    state = instance.state
    task_id = {"completed draft": draft_id, "unknown uuid": str(uuid4()), "not a uuid": "draft"}[which]

    with pytest.raises(Conflict):
        instance.complete(task_id, draft_data())

    assert instance.state == state
    assert decide_tasks(instance) == before


def test_state_leaves_the_spec_out_and_loads_against_the_definition(
        instance: Instance, definition: specs.Definition) -> None:
    submit_draft(instance)
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG)).serialize_json(
        runner.load(definition, instance.state))

    assert {"spec", "subprocess_specs"} & set(json.loads(instance.state)) == set()
    assert "Samordnaren fyller i" in stock
    assert "Samordnaren fyller i" not in instance.state
    assert len(instance.state) < 0.7 * len(stock)

    instance.state = stock  # a state written by the stock serializer still loads
    for organisation_id in PARTY_IDS:
        instance.complete(decide_tasks(instance)[organisation_id].task_id, decision(organisation_id))
    assert instance.is_completed()
    assert "spec" not in json.loads(instance.state)

