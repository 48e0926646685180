"""A case's history: the timeline of its events with a diff of the case data, and per-step replay views."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.audit.cases import Case, case_events, case_instances
from service.audit.labels import action_label
from service.audit.models import AuditEvent
from service.audit.replay import ENGINE_ACTIONS, snapshots
from service.processes.models import ProcessInstance

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Fields that only serve re-execution; the submitted data is shown, the engine input is exported.
_ENGINE_FIELDS = ("input", "at", "steps")

def local_time(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Change:
    key: str
    before: Any
    after: Any


@dataclass
class Entry:
    event: AuditEvent
    when: str
    label: str
    submitted: dict[str, Any]
    changes: list[Change] = field(default_factory=list)


@dataclass
class InstanceReplay:
    instance: ProcessInstance
    steps: list[dict[str, Any]]
    stopped: str | None


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Keys added, changed or removed between two versions of the case data."""
    return [Change(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]


def timeline(case: Case) -> tuple[list[Entry], list[InstanceReplay]]:
    """Every event of the case, with the data diff of each engine step, and each instance's replay steps."""
    events = case_events(case)
    replays = [instance_replay(instance, events) for instance in case_instances(case)]
    changes = {step["seq"]: step["changes"] for replay in replays for step in replay.steps}
    entries = [Entry(event, local_time(event.occurred_at), action_label(event.action),
                     {k: v for k, v in event.data.items() if k not in _ENGINE_FIELDS},
                     [Change(**c) for c in changes.get(event.seq, [])]) for event in events]
    return entries, replays


def instance_replay(instance: ProcessInstance, events: list[AuditEvent]) -> InstanceReplay:
    """The instance after each engine step, as JSON-ready dicts for the diagram viewer."""
    found, stopped = snapshots(instance)
    by_seq = {event.seq: event for event in events}
    escalated: list[str] = []
    steps: list[dict[str, Any]] = []
    previous: dict[str, Any] = {}
    for number, step in enumerate(found, start=1):
        event = by_seq.get(step.seq)
        for other in events:
            if other.instance_id == instance.id and other.action == "timer.fired" and other.seq <= step.seq \
                    and other.data.get("timer") not in escalated:
                escalated.append(str(other.data.get("timer")))
        steps.append({
            "number": number, "seq": step.seq, "action": step.action, "label": _step_label(event, step.action),
            "when": local_time(event.occurred_at) if event else "", "actor": event.actor_name if event else "",
            "completed": step.snapshot.completed, "active": step.snapshot.active,
            "cancelled": step.snapshot.cancelled, "escalated": list(escalated), "data": step.snapshot.data,
            "changes": [c.__dict__ for c in diff(previous, step.snapshot.data)],
        })
        previous = step.snapshot.data
    return InstanceReplay(instance, steps, stopped)


def _step_label(event: AuditEvent | None, action: str) -> str:
    label = action_label(action)
    if event is not None and event.action == "task.completed":
        return f"{label}: {event.data.get('name') or event.data.get('task')}"
    if event is not None and event.action == "instance.timers_run":
        return f"{label}: {event.data.get('job_timer')}"
    return label


def is_engine_event(event: AuditEvent) -> bool:
    return event.action in ENGINE_ACTIONS
