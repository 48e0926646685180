"""Timers: read each waiting timer's due moment, and fire the due ones against the service clock.

SpiffWorkflow reads ``datetime.now(timezone.utc)`` inside its timer module and has no clock hook
(shared/SPIFFWORKFLOW.md §5). ``install_clock`` gives that module a ``datetime`` whose ``now()`` is the
service clock, so production runs on real time and tests can move time forward for every timer kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from service import clock
from service.engine import calendar, scripting
from service.engine.runner import Step, run_engine


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _ClockDatetime:  # type: ignore[override]
        moment = clock.now().astimezone(tz) if tz is not None else clock.now().astimezone().replace(tzinfo=None)
        return cls.combine(moment.date(), moment.time(), moment.tzinfo)


def install_clock() -> None:
    """Point SpiffWorkflow's timer module at the service clock, and register the calendar helper."""
    spiff_timer.datetime = _ClockDatetime  # type: ignore[misc]
    scripting.HELPERS["working_days"] = calendar.working_days
    scripting.HELPERS["end_of_day_after"] = calendar.end_of_day_after
    scripting.HELPERS["end_of_day"] = calendar.end_of_day
    scripting.HELPERS["appeal_period_end"] = calendar.appeal_period_end
    scripting.HELPERS["add_period"] = calendar.add_period


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    bpmn_id: str
    name: str
    kind: str  # date, duration, cycle
    due_at: datetime


_KINDS = {"TimeDateEventDefinition": "date", "DurationTimerEventDefinition": "duration",
          "CycleTimerEventDefinition": "cycle"}


def waiting_timers(workflow: BpmnWorkflow) -> list[WaitingTimer]:
    """Every timer the instance waits on, with its due moment in UTC."""
    found = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        value = task.internal_data.get("event_value")
        if not isinstance(definition, TimerEventDefinition) or value is None:
            continue
        if isinstance(definition, CycleTimerEventDefinition):
            if not isinstance(value, dict) or value.get("cycles") == 0:
                continue
            value = value["next"]
        found.append(WaitingTimer(
            task_id=str(task.id), bpmn_id=task.task_spec.bpmn_id, name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            kind=_KINDS.get(type(definition).__name__, "timer"), due_at=_due(value)))
    return found


def _due(value: str) -> datetime:
    # The engine's own parser, so we agree with it on date-only and naive values (server local time).
    due: datetime = TimerEventDefinition.get_datetime(value)
    return datetime.fromtimestamp(due.timestamp(), UTC)


def fire_due(workflow: BpmnWorkflow) -> list[Step]:
    """Fire every timer due by the service clock and run on. ``do_engine_steps`` only refreshes timers
    at its end, so repeat until nothing more happens (a fired timer may lead to another due one)."""
    steps: list[Step] = []
    for _ in range(10):
        workflow.refresh_timers()
        new = run_engine(workflow)
        if not new:
            break
        steps.extend(new)
    return steps


def has_fired(workflow: BpmnWorkflow, task_id: str) -> bool:
    """Whether a timer task that no longer waits (at that moment) fired rather than was cancelled:
    completed, or a cycle timer still waiting for its next occurrence."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except Exception:  # removed from the tree (e.g. a reset): it did not fire
        return False
    return bool(task.state in (TaskState.COMPLETED, TaskState.WAITING, TaskState.READY))



def reevaluate_date_timers(workflow: BpmnWorkflow, bpmn_id: str) -> list[tuple[str, str, str]]:
    """Evaluate again the expression of every waiting date timer of element ``bpmn_id`` (SpiffWorkflow
    evaluates it once, when the timer starts waiting, and keeps the result as ``event_value``), so that a
    corrected helper reaches timers already waiting. Returns (task id, old value, new value) for each change."""
    changed = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if task.task_spec.bpmn_id != bpmn_id or not isinstance(definition, TimeDateEventDefinition):
            continue
        old = task.internal_data.get("event_value")
        new = workflow.script_engine.evaluate(task, definition.expression)
        if new != old:
            task.internal_data["event_value"] = new
            changed.append((str(task.id), str(old), str(new)))
    return changed
