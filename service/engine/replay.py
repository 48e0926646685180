"""Re-execute an instance from nothing: its definition version plus the inputs the audit log recorded.

Every operation the service performs on the engine (start, complete a user task, fire due timers) is
recorded with exactly what the engine was given (``input``) and the one moment it saw (``at``). Running the
same operations again under ``clock.pinned(at)`` must give the same workflow. SpiffWorkflow gives each task a
random uuid, so a recorded task id is matched to the replayed task by its BPMN id and, for multi-instance
children, by its position among its siblings in the stored workflow. States are compared structurally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from service import clock
from service.engine import runner, serializer, timers
from service.engine.specs import Definition


@dataclass(frozen=True)
class Start:
    input: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class Completion:
    task_id: str
    bpmn_id: str
    input: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class TimersRun:
    at: datetime


@dataclass(frozen=True)
class Retry:
    """A process owner corrected an incident's data and the failed task ran again."""

    task_id: str
    bpmn_id: str
    input: Mapping[str, Any]
    at: datetime


Operation = Start | Completion | TimersRun | Retry


@dataclass(frozen=True)
class RecordedStep:
    """One recorded operation and the BPMN elements the engine ran by itself during it."""

    operation: Operation
    steps: Sequence[str]
    label: str = ""


@dataclass
class Snapshot:
    """The instance as it was after one step: element states for the diagram, and the case data."""

    completed: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


class Divergence(Exception):
    """The re-execution did not do what the recorded history says (``index`` is the 0-based step)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index, self.message = index, message


def replay(definition: Definition, history: Sequence[RecordedStep], *, reference: BpmnWorkflow | None = None,
           on_step: Callable[[int, BpmnWorkflow], None] | None = None) -> BpmnWorkflow:
    """Run ``history`` in a fresh engine; raise Divergence at the first step that does not match the record.

    ``reference`` (the stored workflow) tells multi-instance children apart; ``on_step`` sees the workflow
    after every step (for per-step snapshots)."""
    if not history or not isinstance(history[0].operation, Start):
        raise Divergence(0, "historiken börjar inte med att ärendet startades")
    workflow: BpmnWorkflow | None = None
    taken: set[UUID] = set()  # replayed tasks already matched to a recorded completion
    for index, recorded in enumerate(history):
        operation = recorded.operation
        try:
            with clock.pinned(operation.at):
                if isinstance(operation, Start):
                    if index:
                        raise Divergence(index, "ärendet startades två gånger")
                    workflow, steps = runner.start(definition, operation.input)
                else:
                    assert workflow is not None
                    steps = _apply(workflow, operation, reference, taken, index)
                serializer.compact_in_memory(workflow)  # as the service's save after every operation does
        except Divergence:
            raise
        except Exception as exc:  # the engine refused what it once accepted
            raise Divergence(index, f"motorn kunde inte utföra steget: {exc}") from exc
        ran = [step.bpmn_id for step in steps]
        if list(recorded.steps) != ran:
            raise Divergence(index, f"motorn körde {ran} men loggen anger {list(recorded.steps)}")
        if on_step is not None:
            on_step(index, workflow)
    assert workflow is not None
    return workflow


def round_trip(definition: Definition, workflow: BpmnWorkflow) -> BpmnWorkflow:
    """Save and load as the service does after every operation (compacting the finished history)."""
    return runner.load(definition, serializer.dump(workflow))


def _apply(workflow: BpmnWorkflow, operation: Operation, reference: BpmnWorkflow | None,
           taken: set[UUID], index: int) -> list[runner.Step]:
    if isinstance(operation, TimersRun):
        return runner.tolerating_incident(lambda: timers.fire_due(workflow), None)[0]
    if isinstance(operation, Retry):
        failed = _match(workflow, operation, reference, set(), states=(TaskState.ERROR, TaskState.READY),
                        manual_only=False)
        if failed is None:
            raise Divergence(index, f"det felade steget {operation.bpmn_id} finns inte i omkörningen")
        taken.add(failed.id)
        return runner.tolerating_incident(lambda: runner.retry(workflow, str(failed.id), operation.input), str(failed.id))[0]
    assert isinstance(operation, Completion)
    task = _match(workflow, operation, reference, taken)
    if task is None:
        raise Divergence(index, f"uppgiften {operation.bpmn_id} är inte redo i omkörningen")
    taken.add(task.id)
    return runner.tolerating_incident(lambda: runner.complete(workflow, str(task.id), operation.input), str(task.id))[0]


def _match(workflow: BpmnWorkflow, operation: Completion | Retry, reference: BpmnWorkflow | None,
           taken: set[UUID], *, states: tuple[int, ...] = (TaskState.READY,),
           manual_only: bool = True) -> SpiffTask | None:
    """The replayed task that plays the recorded one's part: same BPMN id, same sibling positions."""
    candidates = [task for task in _all_tasks(workflow) if task.state in states
                  and task.task_spec.bpmn_id == operation.bpmn_id
                  and (task.task_spec.manual or not manual_only) and task.id not in taken]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    original = _find(reference, operation.task_id)
    if original is not None:
        by_data = _by_data(candidates, original)
        if by_data is not None:
            return by_data
        wanted = lineage(original)
        for task in candidates:
            path = lineage(task)
            common = min(len(path), len(wanted))  # compaction may have cut one tree higher than the other
            if path[:common] == wanted[:common]:
                return task
    return candidates[0]


def _by_data(candidates: list[SpiffTask], original: SpiffTask) -> SpiffTask | None:
    """The one candidate whose data agrees with the recorded task on every value the candidates differ in
    (a multi-instance child's own item, e.g. the party it is for); None if that does not single one out."""
    keys = set().union(*(candidate.data for candidate in candidates))
    varying = [key for key in keys if len({repr(candidate.data.get(key)) for candidate in candidates}) > 1]
    if not varying:
        return None
    fitting = [candidate for candidate in candidates
               if all(_plain(candidate.data.get(key)) == _plain(original.data.get(key)) for key in varying)]
    return fitting[0] if len(fitting) == 1 else None


def _all_tasks(workflow: BpmnWorkflow) -> list[SpiffTask]:
    """Every task of the workflow and its subprocesses, from their id maps (much cheaper than a tree walk)."""
    found = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        found.extend(subprocess.tasks.values())
    return found


def _find(workflow: BpmnWorkflow | None, task_id: str) -> SpiffTask | None:
    if workflow is None:
        return None
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:  # not in the stored tree (or not a uuid): fall back to the first candidate
        return None


def lineage(task: SpiffTask) -> list[int]:
    """Sibling positions from the task up to the root, through the tasks that own subprocesses: tells apart
    multi-instance children however deeply nested (e.g. a decision inside one party's subprocess)."""
    path: list[int] = []
    current: SpiffTask | None = task
    while current is not None:
        path.append(sibling_position(current))
        if current.parent is not None:
            current = current.parent
        else:
            owner = getattr(current.workflow, "parent_task_id", None)
            current = current.workflow.top_workflow.get_task_from_id(owner) if owner is not None else None
    return path


def sibling_position(task: SpiffTask) -> int:
    """The task's index among its parent's children of the same spec (a multi-instance child's number)."""
    if task.parent is None:
        return 0
    same = [child for child in task.parent.children if child.task_spec.name == task.task_spec.name]
    return same.index(task)


def describe(workflow: BpmnWorkflow) -> list[dict[str, Any]]:
    """A structural description of the task tree, without uuids or wall-clock times: spec, state, data."""
    return [{"spec": task.task_spec.name, "state": TaskState.get_name(task.state), "depth": depth,
             "data": _plain(task.data)} for task, depth in _walk(workflow.task_tree, 0, workflow)]


def _walk(task: SpiffTask, depth: int, workflow: BpmnWorkflow) -> Iterator[tuple[SpiffTask, int]]:
    """Depth-first, parents before children, subprocesses before the owner's children. Iterative: a loop
    nests every round one level deeper, so a long history is far deeper than Python's recursion limit."""
    stack = [(task, depth)]
    while stack:
        current, level = stack.pop()
        yield current, level
        following = [(child, level + 1) for child in current.children]
        subprocess = workflow.subprocesses.get(current.id)
        if subprocess is not None:
            following.insert(0, (subprocess.task_tree, level + 1))
        stack.extend(reversed(following))


def compare(stored: BpmnWorkflow, rebuilt: BpmnWorkflow) -> str | None:
    """None if the two workflows are the same structurally; else what first differs."""
    if _plain(stored.data) != _plain(rebuilt.data):
        return "ärendets data skiljer sig"
    left, right = describe(stored), describe(rebuilt)
    for number, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            what = [key for key in ("spec", "state", "depth", "data") if a[key] != b[key]]
            return f"uppgift {number} ({a['spec']}) skiljer sig i {', '.join(what)}"
    if len(left) != len(right):
        return f"lagrat tillstånd har {len(left)} uppgifter, omkörningen {len(right)}"
    return None


def snapshot(workflow: BpmnWorkflow) -> Snapshot:
    """Which BPMN elements are completed, active or cancelled, and the case data as the tasks left it."""
    result = Snapshot()
    seen: dict[str, set[str]] = {"completed": set(), "active": set(), "cancelled": set()}
    touched: list[tuple[float, int, Any]] = []
    for order, (task, _) in enumerate(_walk(workflow.task_tree, 0, workflow)):
        bpmn_id = task.task_spec.bpmn_id
        if bpmn_id is None:
            continue
        kind = _kind(task.state)
        if kind is not None and bpmn_id not in seen[kind]:
            seen[kind].add(bpmn_id)
            getattr(result, kind).append(bpmn_id)
        if kind in ("completed", "active"):
            touched.append((task.last_state_change or 0.0, order, task.data))
    # The case data as the tasks saw it, latest change last (a finished multi-instance child shows its answer
    # before the loop merges the answers); at the end the workflow's own data.
    data: dict[str, Any] = {}
    for _, _, task_data in sorted(touched, key=lambda item: (item[0], item[1])):
        data.update(task_data)
    if workflow.is_completed():
        data.update(workflow.data)
    result.data = _plain(data)
    return result


def _kind(state: int) -> str | None:
    if state == TaskState.COMPLETED:
        return "completed"
    if state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
        return "active"
    if state == TaskState.CANCELLED:
        return "cancelled"
    return None


def _plain(value: Any) -> Any:
    """JSON-like copy: dates and other scalars as text, so the comparison and the viewer agree."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
