"""A file's entry point, call activities and ``del`` in scripts (issue #22 item 6): engine only, no database."""

from __future__ import annotations

import pytest
from SpiffWorkflow.util.task import TaskState

from service.engine import runner, scripting, serializer, specs
from service.errors import BpmnError, ScriptRejected
from tests.processes.test_called_processes import INTAKE, REVIEW, both_in_one_file, two_entry_points


def test_the_process_no_other_calls_is_the_entry_point_and_the_callee_comes_along() -> None:
    definition = specs.parse(both_in_one_file(), "intake.bpmn")
    assert definition.process_id == "intake" and set(definition.subprocess_specs) == {"review"}
    assert set(definition.user_tasks) == {"register", "approve"}


def test_an_instance_runs_through_the_called_process_with_a_save_and_load_between_steps() -> None:
    definition = specs.parse(both_in_one_file(), "intake.bpmn")
    workflow, _ = runner.start(definition, {"organisation_id": 1})
    completed = []
    while not workflow.is_completed():
        workflow = runner.load(definition, serializer.dump(workflow))
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.data["note"] = "klar"
        task.run()
        completed.append(task.task_spec.bpmn_id)
        runner.run_engine(workflow)
    assert completed == ["register", "approve"]
    assert workflow.data["reviewed_by"] == "review" and "scratch" not in workflow.data


def test_a_separately_deployed_callee_is_resolved_by_its_process_id() -> None:
    review = specs.parse(REVIEW, "review.bpmn")
    definition = specs.parse(INTAKE, "intake.bpmn", resolve={"review": review}.get)
    assert definition.subprocess_specs["review"] is review.spec
    assert definition.callees == {"review": review}
    assert set(definition.own_user_tasks) == {"register"} and set(definition.user_tasks) == {"register", "approve"}


def test_a_call_to_an_unknown_process_names_the_call_activity() -> None:
    with pytest.raises(BpmnError) as refused:
        specs.parse(INTAKE, "intake.bpmn")
    assert refused.value.element_id == "call_review" and "'review'" in refused.value.detail


def test_several_uncalled_processes_are_refused_naming_them_unless_one_is_chosen() -> None:
    with pytest.raises(BpmnError, match=r"2 körbara processer som ingen annan process anropar: 'intake'"):
        specs.parse(two_entry_points(), "pools.bpmn")
    assert specs.parse(two_entry_points(), "pools.bpmn", entry="review").process_id == "review"


def test_a_pool_that_is_not_executable_leaves_one_entry_point() -> None:
    xml = two_entry_points().replace(b'id="review" name="Godk\xc3\xa4nnande av avgift" isExecutable="true"',
                                     b'id="review" name="Godk\xc3\xa4nnande av avgift" isExecutable="false"')
    assert specs.parse(xml, "pools.bpmn").process_id == "intake"


def test_a_process_that_only_calls_itself_cannot_start() -> None:
    xml = INTAKE.replace(b'calledElement="review"', b'calledElement="intake"')
    with pytest.raises(BpmnError, match="anropas av en annan"):
        specs.parse(xml, "intake.bpmn")


def test_a_business_rule_task_without_a_dmn_decision_is_refused_naming_it() -> None:
    xml = REVIEW.replace(b"bpmn:scriptTask", b"bpmn:businessRuleTask")
    with pytest.raises(BpmnError) as refused:
        specs.parse(xml, "review.bpmn")
    assert refused.value.element_id == "note_scratch" and "DMN" in refused.value.detail


@pytest.mark.parametrize("source", ["del x", "del x, y", "del(x)", "del d['k']", "del items[0], items[1:]",
                                    "del len\nn = len(items)"])
def test_del_of_a_name_or_an_item_of_the_data_is_allowed(source: str) -> None:
    scripting.check_source(source, "exec")


@pytest.mark.parametrize("source", ["del d.keys", "del (d.get,)", "del __builtins__", "del d['k'].__class__"])
def test_del_of_an_attribute_or_a_hidden_name_is_refused(source: str) -> None:
    with pytest.raises(ScriptRejected):
        scripting.check_source(source, "exec")


def test_del_removes_data_and_a_deleted_helper_name_is_found_again() -> None:
    context = {"x": 1, "d": {"k": 1, "j": 2}, "items": [1, 2, 3]}
    scripting.GuardedEnvironment().execute("del x, d['k']\ndel len\nn = len(items)", context)
    assert context == {"d": {"j": 2}, "items": [1, 2, 3], "n": 3}
