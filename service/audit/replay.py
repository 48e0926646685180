"""Deterministic re-execution of an instance from its audit events, and per-step snapshots for the viewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from service.audit.models import AuditEvent
from service.engine import replay as engine_replay
from service.engine import runner
from service.extensions import db
from service.processes.definitions import parsed
from service.processes.models import ProcessInstance

# The events that carry what the engine was given; every other event only describes what happened.
ENGINE_ACTIONS = ("instance.started", "task.completed", "instance.timers_run", "incident.resolved")


@dataclass(frozen=True)
class ReplayResult:
    instance_id: int
    is_identical: bool
    steps: int
    differing_step: int | None = None  # 1-based
    differing_seq: int | None = None
    reason: str = ""

    def summary(self) -> str:
        if self.is_identical:
            return f"Ärende {self.instance_id}: identiskt ({self.steps} steg omkörda)."
        return (f"Ärende {self.instance_id}: skiljer sig vid steg {self.differing_step} "
                f"(händelse {self.differing_seq}): {self.reason}")


def engine_events(instance_id: int) -> list[Row[Any]]:
    """The instance's events that drove the engine, in chain order: their seq, action and data (rows, not
    whole events: a long case has hundreds)."""
    return list(db.session.execute(select(AuditEvent.seq, AuditEvent.action, AuditEvent.data).where(
        AuditEvent.instance_id == instance_id, AuditEvent.action.in_(ENGINE_ACTIONS)).order_by(AuditEvent.seq)))


def recorded_history(events: list[Row[Any]]) -> list[engine_replay.RecordedStep]:
    """Turn audit events into the operations the engine performed."""
    return [engine_replay.RecordedStep(_operation(event), list(event.data.get("steps", [])), event.action)
            for event in events]


def _operation(event: Row[Any]) -> engine_replay.Operation:
    data = event.data
    at = datetime.fromisoformat(str(data["at"]))
    if event.action == "instance.started":
        return engine_replay.Start(input=data["input"], at=at)
    if event.action == "task.completed":
        return engine_replay.Completion(task_id=str(data["task_id"]), bpmn_id=str(data["task"]), input=data["input"], at=at)
    if event.action == "incident.resolved":
        return engine_replay.Retry(task_id=str(data["task_id"]), bpmn_id=str(data["task"]), input=data["input"], at=at)
    return engine_replay.TimersRun(at=at)


def replay_instance(instance: ProcessInstance) -> ReplayResult:
    """Rebuild ``instance`` in a fresh engine from its recorded inputs and compare with the stored state."""
    events = engine_events(instance.id)
    definition = parsed(instance.definition)
    stored = runner.load(definition, instance.state)
    try:
        rebuilt = engine_replay.replay(definition, recorded_history(events), reference=stored)
    except (KeyError, ValueError) as exc:
        return _differs(instance, events, 0, f"händelsen saknar uppgift om indata: {exc}")
    except engine_replay.Divergence as exc:
        return _differs(instance, events, exc.index, exc.message)
    difference = engine_replay.compare(stored, engine_replay.round_trip(definition, rebuilt))
    if difference is not None:
        return _differs(instance, events, len(events) - 1, f"sluttillståndet skiljer sig: {difference}")
    return ReplayResult(instance.id, True, len(events))


def _differs(instance: ProcessInstance, events: list[Row[Any]], index: int, reason: str) -> ReplayResult:
    seq = events[index].seq if 0 <= index < len(events) else None
    return ReplayResult(instance.id, False, len(events), index + 1, seq, reason)


def replay_all() -> list[ReplayResult]:
    """Re-execute every instance (``samverkan audit replay --all``)."""
    ids = list(db.session.scalars(select(ProcessInstance.id).order_by(ProcessInstance.id)))
    results = []
    for instance_id in ids:
        instance = db.session.get(ProcessInstance, instance_id)
        if instance is not None:
            results.append(replay_instance(instance))
        db.session.expunge_all()
    return results


@dataclass(frozen=True)
class StepSnapshot:
    seq: int
    action: str
    snapshot: engine_replay.Snapshot


def snapshots(instance: ProcessInstance) -> tuple[list[StepSnapshot], str | None]:
    """The instance after each engine step (for the replay viewer), and why it stopped early if it did."""
    events = engine_events(instance.id)
    definition = parsed(instance.definition)
    stored = runner.load(definition, instance.state)
    found: list[StepSnapshot] = []

    def keep(index: int, workflow: Any) -> None:
        found.append(StepSnapshot(events[index].seq, events[index].action, engine_replay.snapshot(workflow)))

    try:
        engine_replay.replay(definition, recorded_history(events), reference=stored, on_step=keep)
    except (engine_replay.Divergence, KeyError, ValueError) as exc:
        return found, str(exc)
    return found, None
