"""Heat map figures per BPMN element of one version: cases passed, waiting now, time spent.

Passed: user tasks completed (human_tasks) plus elements the engine ran (the ``steps`` of the audit
events instance.started, task.completed and instance.timers_run). Waiting: open user tasks. Time spent:
from a user task being offered (created_at) to its completion (completed_at), median and 90th percentile.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from service.audit.models import AuditEvent
from service.extensions import db
from service.processes.models import HumanTask, ProcessDefinition, ProcessInstance, TaskStatus

STEP_EVENTS = ("instance.started", "task.completed", "instance.timers_run")


@dataclass(frozen=True)
class ElementFigures:
    passed: int = 0
    waiting: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def figures(definition: ProcessDefinition) -> dict[str, ElementFigures]:
    """Figures per BPMN element id for the instances of ``definition`` (this version only)."""
    instance_ids = select(ProcessInstance.id).where(ProcessInstance.definition_id == definition.id)
    passed: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    hours: dict[str, list[float]] = defaultdict(list)
    tasks = db.session.execute(select(HumanTask.bpmn_id, HumanTask.status, HumanTask.created_at, HumanTask.completed_at)
                               .where(HumanTask.instance_id.in_(instance_ids)))
    for bpmn_id, status, created_at, completed_at in tasks:
        if status == TaskStatus.READY:
            waiting[bpmn_id] += 1
        elif status == TaskStatus.COMPLETED and completed_at is not None:
            passed[bpmn_id] += 1
            hours[bpmn_id].append((completed_at - created_at).total_seconds() / 3600)
    events = db.session.scalars(select(AuditEvent.data).where(AuditEvent.instance_id.in_(instance_ids),
                                                              AuditEvent.action.in_(STEP_EVENTS)))
    for data in events:
        passed.update(str(step) for step in (data or {}).get("steps", []))
    return {element: ElementFigures(passed[element], waiting[element], percentile(hours.get(element, []), 50),
                                    percentile(hours.get(element, []), 90))
            for element in sorted(set(passed) | set(waiting))}


def by_waiting_time(found: dict[str, ElementFigures]) -> dict[str, ElementFigures]:
    """The slowest first: by the median time spent at the element, then by how many wait there now; elements
    nobody has spent time at (events, gateways) last, busiest first."""
    return dict(sorted(found.items(), key=lambda item: (
        item[1].median_hours is None, -(item[1].median_hours or 0.0), -item[1].waiting, -item[1].passed, item[0])))


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) rounded to 0.1; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)
