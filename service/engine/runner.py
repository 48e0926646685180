"""Start, load, run and complete: the engine operations the service layer composes.

Every function takes or returns a live ``BpmnWorkflow``; persistence is the caller's business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from service.engine import bounds, scripting, serializer
from service.engine.specs import Definition
from service.errors import BpmnError, Conflict


@dataclass(frozen=True)
class Step:
    """One task the engine ran by itself (gateway, script, event): recorded in the audit log."""

    bpmn_id: str
    name: str
    kind: str


@dataclass(frozen=True)
class ReadyTask:
    """A READY user task, with its assignment properties already evaluated against its data."""

    task_id: str
    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    instructions: str | None
    organisation: Any
    assignee: Any
    due_in: str | None
    due_in_working_days: int | None
    due_at: datetime | None
    data: Mapping[str, Any]


class EngineFailure(BpmnError):
    """A script, condition or expression failed at run time. ``task_id`` names the engine task left in
    ERROR (or READY but not offerable): the service layer turns that into an incident on the case."""

    status = 422

    def __init__(self, element_id: str | None, message: str, task_id: str | None = None) -> None:
        super().__init__(element_id, message)
        self.task_id = task_id


def start(definition: Definition, data: Mapping[str, Any]) -> tuple[BpmnWorkflow, list[Step]]:
    """Create an instance of ``definition`` with initial ``data`` and run it to its first wait."""
    workflow = BpmnWorkflow(definition.spec, dict(definition.subprocess_specs),
                            script_engine=scripting.new_script_engine())
    workflow.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow, run_engine(workflow)


def load(definition: Definition, state: str) -> BpmnWorkflow:
    """Rebuild an instance and re-attach the restricted script engine (it is not serialized)."""
    workflow = serializer.load(definition, state)
    workflow.script_engine = scripting.new_script_engine()
    return workflow


def run_engine(workflow: BpmnWorkflow) -> list[Step]:
    """Run every non-manual task that can run; return the BPMN elements the engine completed. More than
    ``bounds.MAX_ENGINE_STEPS`` tasks in one call refuses the whole operation, naming the last element."""
    steps: list[Step] = []
    count = 0

    def record(task: SpiffTask) -> None:
        nonlocal count
        spec = task.task_spec
        count += 1
        if count > bounds.MAX_ENGINE_STEPS:
            message = f"processen körde fler än {bounds.MAX_ENGINE_STEPS} steg i ett anrop och stoppades"
            raise EngineFailure(spec.bpmn_id, message)
        if spec.bpmn_id is not None:
            steps.append(Step(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, type(spec).__name__))

    with _engine_errors():
        workflow.do_engine_steps(did_complete_task=record)
    return steps


def ready_tasks(workflow: BpmnWorkflow, definition: Definition,
                failures: list[EngineFailure] | None = None) -> list[ReadyTask]:
    """The READY user tasks, in a stable order, with ``organisation``/``assignee`` evaluated. With a
    ``failures`` list, a task whose properties cannot be evaluated is left out and its failure collected."""
    described = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        try:
            described.append(_describe(workflow, definition, task))
        except EngineFailure as failure:
            if failures is None:
                raise
            failure.task_id = str(task.id)
            failures.append(failure)
    return described


def _describe(workflow: BpmnWorkflow, definition: Definition, task: SpiffTask) -> ReadyTask:
    info = definition.user_tasks[task.task_spec.bpmn_id]
    return ReadyTask(
        task_id=str(task.id), bpmn_id=info.bpmn_id, name=info.name, lane=info.lane, form=info.form,
        instructions=info.instructions, due_in=info.properties.get("dueIn"),
        organisation=_property(workflow, task, "organisation"),
        assignee=_property(workflow, task, "assignee"), data=task.data,
        due_in_working_days=_optional_int(_property(workflow, task, "dueInWorkingDays")),
        due_at=_optional_moment(task, _property(workflow, task, "dueAt")),
    )


def _property(workflow: BpmnWorkflow, task: SpiffTask, name: str) -> Any:
    expression = task.task_spec.extensions.get("properties", {}).get(name)
    if not expression:
        return None
    try:
        return workflow.script_engine.environment.evaluate(expression, dict(task.data))
    except Exception as exc:  # any failure of a process owner's expression is theirs to fix
        raise EngineFailure(task.task_spec.bpmn_id, f"egenskapen '{name}' ({expression}) kunde inte beräknas: {exc}") from None


def _optional_moment(task: SpiffTask, value: Any) -> datetime | None:
    """``dueAt`` gives an ISO moment (e.g. computed by the case); a naive one would be ambiguous."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise EngineFailure(task.task_spec.bpmn_id, f"dueAt ({value}) saknar tidszon")
    return moment


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def complete(workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> list[Step]:
    """Complete a READY user task with already validated ``data`` and run on to the next wait."""
    task = get_ready_task(workflow, task_id)
    with _engine_errors():
        task.data.update(data)
        task.run()
    return run_engine(workflow)


def retry(workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> list[Step]:
    """Run a failed task again with corrected ``data``: an ERROR task is reset (it runs again), a READY
    user task whose properties failed gets the data and is described again by the caller."""
    task = _task(workflow, task_id)
    if task.state == TaskState.ERROR:
        with _engine_errors():
            workflow.reset_from_task_id(task.id, data=dict(data))
        # Known SpiffWorkflow bug: timers of removed tasks stay in the event manager (SPIFFWORKFLOW.md §9).
        for stale in [key for key in workflow.event_manager.tasks if key not in workflow.tasks]:
            workflow.event_manager.tasks.pop(stale)
    elif task.state == TaskState.READY:
        task.data = dict(data)
    else:
        raise Conflict("Uppgiften väntar inte längre på en rättning.")
    return run_engine(workflow)


def task_data(workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
    """A task's data, as a failed task had it (what a process owner corrects)."""
    return dict(_task(workflow, task_id).data)


def _task(workflow: BpmnWorkflow, task_id: str) -> SpiffTask:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, TaskNotFoundException):
        raise Conflict("Uppgiften finns inte längre i ärendet.") from None


def tolerating_incident(run: Callable[[], list[Step]], own_task_id: str | None) -> tuple[list[Step], list[EngineFailure]]:
    """Run the engine; a failure in a later task (script, condition, expression) becomes an incident on the
    case and the work done so far stands. A failure with no task, or of ``own_task_id`` (the task being
    completed or retried), refuses the whole operation. The service and the replay share this rule."""
    try:
        return run(), []
    except EngineFailure as failure:
        if failure.task_id is None or failure.task_id == own_task_id:
            raise
        return [], [failure]


def get_ready_task(workflow: BpmnWorkflow, task_id: str) -> SpiffTask:
    """The READY user task ``task_id``, or Conflict: ``run()`` on a cancelled task corrupts the workflow."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, TaskNotFoundException):
        raise Conflict("Uppgiften finns inte längre i ärendet.") from None
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise Conflict("Uppgiften är redan utförd eller har avbrutits av någon annan.")
    return task


def is_completed(workflow: BpmnWorkflow) -> bool:
    return bool(workflow.is_completed())


def final_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    return dict(workflow.data)


@contextmanager
def _engine_errors() -> Iterator[None]:
    """Turn SpiffWorkflow's exceptions into EngineFailure naming the BPMN element."""
    try:
        yield
    except SpiffWorkflowException as exc:
        task = getattr(exc, "task", None)
        element_id = task.task_spec.bpmn_id if task is not None else None
        message = str(exc).split("\n", 1)[0]
        task_id = str(task.id) if task is not None and task.state == TaskState.ERROR else None
        raise EngineFailure(element_id, f"processen kunde inte köras vidare: {message}", task_id) from exc
