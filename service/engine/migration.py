"""Move a running instance onto a newer version of its process, or say exactly why not.

Our state is stored without the spec (serializer.py), so an instance is loaded against its own version,
its tasks are aligned with the new version by BPMN id (SpiffWorkflow's diff/migrate helpers), and the
result is only accepted when nothing unsafe happens:
* every task the case waits in (READY, WAITING, STARTED) still exists under the same id;
* a running subprocess or multi-instance activity has not changed (its children were made from it);
* no task already run disappears (its history would no longer load).
READY and WAITING branches are re-predicted from the new version (SpiffWorkflow keeps their task ids,
so the task list rows stay the same); a waiting timer is evaluated again from its new definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.diff import WorkflowDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from service.engine import runner, serializer
from service.engine.specs import Definition

_SPEC_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_DONE = TaskState.COMPLETED | TaskState.ERROR | TaskState.CANCELLED


@dataclass
class MigrationPlan:
    """What migrating one instance would do; ``workflow`` is the migrated instance when it is safe."""

    refusals: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    workflow: BpmnWorkflow | None = None

    @property
    def is_safe(self) -> bool:
        return not self.refusals


def plan(state: str, old: Definition, new: Definition) -> MigrationPlan:
    """Load ``state`` (an instance of ``old``) and migrate it in memory to ``new``; nothing is stored."""
    result = MigrationPlan()
    workflow = runner.load(old, state)
    registry = _SPEC_REGISTRY  # only task specs are converted (to compare them), never the instance
    top, subprocess_diffs = diff_workflow(registry, workflow, new.spec, dict(new.subprocess_specs))
    _check(top, result)
    for sp_id, diff in subprocess_diffs.items():
        sub = workflow.subprocesses[sp_id]
        if diff is None:
            result.refusals.append(f"delprocessen '{sub.spec.name}' som ärendet är i finns inte i den nya versionen")
        else:
            _check(diff, result)
    if result.refusals:
        return result
    for task in _active_tasks(workflow):
        result.actions.append(f"{_label(task)} ({TaskState.get_name(task.state)}) behålls och följer den nya versionen")
    migrate_workflow(top, workflow, new.spec)
    for sp_id, diff in subprocess_diffs.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(diff, sub, new.subprocess_specs[sub.spec.name])
    # Round trip: what is stored must load against the new version alone.
    result.workflow = runner.load(new, serializer.dump(workflow))
    return result


def _check(diff: WorkflowDiff, result: MigrationPlan) -> None:
    # SpiffWorkflow aligns a renamed task with the new one in its place; we align by BPMN id only.
    renamed = [task for task, spec in diff.alignment.items()
               if task.task_spec.bpmn_id and (spec is None or spec.bpmn_id != task.task_spec.bpmn_id)]
    for task in [*diff.removed, *renamed]:
        if task.state & _ACTIVE:
            result.refusals.append(f"ärendet väntar i {_label(task)}, som saknas i den nya versionen")
        elif task.state & _DONE:
            result.refusals.append(f"{_label(task)} har redan körts men saknas i den nya versionen (historiken går förlorad)")
    for task in diff.changed:
        if task.state & TaskState.STARTED and _is_container(task):
            result.refusals.append(f"den pågående delprocessen/multi-instansen {_label(task)} har ändrats")
        elif task.state & _ACTIVE:
            result.actions.append(f"{_label(task)} är ändrad i den nya versionen: uppgiften beräknas om")


def _is_container(task: SpiffTask) -> bool:
    spec: Any = task.task_spec
    return isinstance(spec, SubWorkflowTask) or hasattr(spec, "loop_characteristics") or "[child]" in spec.name \
        or type(spec).__name__.endswith("MultiInstanceTask")


def _active_tasks(workflow: BpmnWorkflow) -> list[SpiffTask]:
    return [t for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING) if t.task_spec.bpmn_id]


def _label(task: SpiffTask) -> str:
    spec = task.task_spec
    return f"'{spec.bpmn_id or spec.name}'" + (f" ({spec.bpmn_name})" if spec.bpmn_name else "")
