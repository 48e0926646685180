"""Correcting timers that already wait, when the rule computing their due moment was wrong.

SpiffWorkflow evaluates a date timer's expression once, as the timer starts waiting. Fixing a calendar
helper (the appeal period of lag 1930:173, December 2026) therefore reaches new timers only; this is how
the running cases get the corrected moment: under the instance's lock, written with the engine state,
the timer rows and one audit event per change, like every other state change.
"""

from __future__ import annotations

from sqlalchemy import select

from service import audit
from service.engine import runner, timers
from service.extensions import db
from service.processes.definitions import parsed
from service.processes.models import ProcessTimer, TimerStatus
from service.processes.operations import advance, lock_instance


def recompute_waiting_timers(bpmn_id: str) -> int:
    """Re-evaluate every waiting date timer of element ``bpmn_id`` in every instance; how many moved."""
    instance_ids = db.session.scalars(select(ProcessTimer.instance_id).distinct().where(
        ProcessTimer.status == TimerStatus.WAITING, ProcessTimer.bpmn_id == bpmn_id)).all()
    return sum(_recompute(instance_id, bpmn_id) for instance_id in sorted(instance_ids))


def _recompute(instance_id: int, bpmn_id: str) -> int:
    instance = lock_instance(instance_id)
    definition = parsed(instance.definition)
    workflow = runner.load(definition, instance.state)
    changes = timers.reevaluate_date_timers(workflow, bpmn_id)
    if not changes:
        return 0
    advance(instance, workflow, definition, None)
    for task_id, old, new in changes:
        audit.record(None, "timer.recomputed", instance, instance_id=instance.id, timer=bpmn_id, task_id=task_id,
                     old_due=old, new_due=new)
    db.session.flush()
    return len(changes)
