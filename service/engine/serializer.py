"""Instance state only: the spec lives once per definition version, not in every instance row.

The stock ``BpmnWorkflowConverter`` embeds the whole process spec in each serialization (shared/
SPIFFWORKFLOW.md §7). Ours leaves it out and, on load, reuses the already parsed spec objects of the
instance's own definition version, so an instance stays pinned to the version it started on.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from service.engine.specs import Definition

# History compaction. SpiffWorkflow keeps every finished task in the tree, so a case that loops (rounds of
# revision, yearly follow-ups) grows without end and every load and save gets slower. The finished chain
# above the live part of the tree (every task not completed or cancelled) is history the engine no longer
# reads: the audit log keeps it. It is cut in steps of CUT_STEP levels, keeping at least KEEP_LEVELS above
# the live part's common ancestor; the cut depends only on how deep that ancestor is (counted from the
# original root, kept in the state as ``root_depth``), so a replay that cuts once at the end gets the same tree.
KEEP_LEVELS = 8
CUT_STEP = 8
_FINISHED = (TaskState.COMPLETED, TaskState.CANCELLED)
_ROOT_DEPTH = "samverkan_root_depth"


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        dct["root_depth"] = getattr(workflow, _ROOT_DEPTH, 0)
        compact(dct)
        return dct

    def from_dict(self, dct: dict[str, Any], definition: Definition | None = None) -> BpmnWorkflow:
        if definition is None:
            raise ValueError("instance state can only be loaded with its definition")
        dct.pop("spec", None)  # tolerated in states written by the stock converter
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(definition.spec, dict(definition.subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        setattr(workflow, _ROOT_DEPTH, dct.pop("root_depth", 0))
        return workflow


def compact(dct: dict[str, Any]) -> None:
    """Cut the finished history above the live part of the top-level task tree (see KEEP_LEVELS)."""
    tasks: dict[str, dict[str, Any]] = dct["tasks"]
    if len(tasks) < KEEP_LEVELS + CUT_STEP:
        return
    live = [task_id for task_id, task in tasks.items() if task["state"] not in _FINISHED]
    if not live:
        return
    common = _path_to_root(tasks, live[0])
    for task_id in live[1:]:
        path = _path_to_root(tasks, task_id)
        length = next((i for i, (a, b) in enumerate(zip(common, path, strict=False)) if a != b), min(len(common), len(path)))
        common = common[:length]
    target = _cut_depth(dct["root_depth"], len(common))
    if target <= dct["root_depth"]:
        return
    new_root = common[target - dct["root_depth"]]
    # Only the root stores its data whole; the others store a delta against their parent.
    tasks[new_root]["data"] = _full_data(tasks, common[: target - dct["root_depth"] + 1])
    tasks[new_root]["delta"] = {}
    kept = _subtree(tasks, new_root)
    removed = {task_id for task_id in tasks if task_id not in kept}
    for task_id in removed:
        del tasks[task_id]
    _drop_subprocesses_of(dct["subprocesses"], removed)
    tasks[new_root]["parent"] = None
    dct["root"], dct["root_depth"] = new_root, target
    if dct.get("last_task") not in kept:
        dct["last_task"] = new_root


def _cut_depth(root_depth: int, common_length: int) -> int:
    """Where the new root goes (depth from the original root), for a tree whose root is at ``root_depth`` and
    whose path from the root to the live part's common ancestor is ``common_length`` tasks long."""
    depth = root_depth + common_length - 1  # of the live part's common ancestor, from the original root
    return (depth - KEEP_LEVELS) // CUT_STEP * CUT_STEP


def compact_in_memory(workflow: BpmnWorkflow) -> None:
    """compact() on a live workflow: the same cut (same rule, same depths), without a save and a load. A
    task in memory holds its whole data, so the new root needs nothing more (a replay cuts after every step,
    as the service does at every save)."""
    tasks = workflow.tasks
    if len(tasks) < KEEP_LEVELS + CUT_STEP:
        return
    live = [task for task in tasks.values() if task.state not in _FINISHED]
    if not live:
        return
    common = _live_common_path(live)
    root_depth = getattr(workflow, _ROOT_DEPTH, 0)
    target = _cut_depth(root_depth, len(common))
    if target <= root_depth:
        return
    new_root = common[target - root_depth]
    kept, stack = set(), [new_root.id]
    while stack:
        task_id = stack.pop()
        kept.add(task_id)
        stack.extend(tasks[task_id]._children)
    removed = {task_id for task_id in tasks if task_id not in kept}
    for task_id in removed:
        del tasks[task_id]
    _drop_subprocesses_of(workflow.subprocesses, removed, lambda subprocess: subprocess.tasks)
    new_root._parent = None
    workflow.task_tree = new_root
    setattr(workflow, _ROOT_DEPTH, target)
    if workflow.last_task is not None and workflow.last_task.id not in kept:
        workflow.last_task = new_root


def _live_common_path(live: list[Any]) -> list[Any]:
    """From the root to the live tasks' common ancestor; the others climb only until the first one's path."""
    common = _live_path(live[0])
    position = {id(task): number for number, task in enumerate(common)}
    end = len(common)
    for task in live[1:]:
        node = task
        while id(node) not in position:
            node = node.parent
        end = min(end, position[id(node)] + 1)
    return common[:end]


def _live_path(task: Any) -> list[Any]:
    """Root first."""
    path = [task]
    while (parent := path[-1].parent) is not None:
        path.append(parent)
    return path[::-1]


def _full_data(tasks: dict[str, dict[str, Any]], path: list[str]) -> dict[str, Any]:
    """A task's data from the root's data and the deltas down ``path`` (as SpiffWorkflow's loader does)."""
    data: dict[str, Any] = copy.deepcopy(tasks[path[0]]["data"])
    for task_id in path[1:]:
        delta = tasks[task_id]["delta"] or {}
        data.update(copy.deepcopy(delta.get("updates", {})))
        for key in delta.get("deletions", []):
            data.pop(key, None)
    return data


def _drop_subprocesses_of(subprocesses: dict[Any, Any], removed: set[Any],
                          tasks_of: Callable[[Any], Iterable[Any]] = lambda subprocess: subprocess["tasks"]) -> None:
    """Finished subprocesses owned by cut tasks, and those nested in them (serialized or live: ``tasks_of``)."""
    owners = set(removed)
    while doomed := [key for key in subprocesses if key in owners]:
        for key in doomed:
            owners.update(tasks_of(subprocesses.pop(key)))


def _path_to_root(tasks: dict[str, dict[str, Any]], task_id: str) -> list[str]:
    """Root first."""
    path = [task_id]
    while (parent := tasks[path[-1]]["parent"]) is not None:
        path.append(parent)
    return path[::-1]


def _subtree(tasks: dict[str, dict[str, Any]], root: str) -> set[str]:
    found, stack = set(), [root]
    while stack:
        task_id = stack.pop()
        found.add(task_id)
        stack.extend(tasks[task_id]["children"])
    return found


def _uuid(value: str) -> UUID:
    return UUID(value)


def _registry() -> Any:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Forms submit dates as ISO strings, but a script may build a date: keep it a date.
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    return registry


_SERIALIZER = BpmnWorkflowSerializer(_registry())


def dump(workflow: BpmnWorkflow) -> str:
    """Serialize the instance's state (no spec) to a JSON string."""
    return _SERIALIZER.serialize_json(workflow)  # type: ignore[no-any-return]


def load(definition: Definition, state: str) -> BpmnWorkflow:
    """Rebuild a workflow from its state and its definition. The caller attaches the script engine."""
    dct = json.loads(state)
    _SERIALIZER.migrate(dct)
    return _SERIALIZER.registry.restore(dct, definition=definition)
