"""Timer rows follow the engine in the same transaction; the scheduler hears of changes after commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.columns import now
from service.engine import timers
from service.extensions import db
from service.processes.models import ProcessInstance, ProcessTimer, TimerStatus


@dataclass(frozen=True)
class TimerChange:
    timer_id: int
    due_at: datetime
    is_waiting: bool


# Called after a commit with the timers it created or ended; the scheduler registers itself here.
listeners: list[Callable[[Sequence[TimerChange]], None]] = []
_PENDING = "samverkan.timer_rows"
_COMMITTED = "samverkan.timer_changes"


def sync_timers(instance: ProcessInstance, workflow: Any) -> list[ProcessTimer]:
    """Make the instance's waiting rows equal the engine's waiting timers.

    A row the engine no longer waits on fired (by its job, or as a side effect of other work: the engine
    re-checks timers on every completion) or was cancelled (its task completed first, or an interrupting
    event took the flow elsewhere); the engine task's state says which.
    """
    wanted = {(timer.task_id, timer.due_at): timer for timer in timers.waiting_timers(workflow)}
    rows = db.session.scalars(select(ProcessTimer).where(
        ProcessTimer.instance_id == instance.id, ProcessTimer.status == TimerStatus.WAITING)).all()
    moment = now()
    fired_rows: list[ProcessTimer] = []
    for row in rows:
        if (row.task_id, row.due_at) not in wanted:
            fired = row.due_at <= moment and timers.has_fired(workflow, row.task_id)
            row.status = TimerStatus.FIRED if fired else TimerStatus.CANCELLED
            row.fired_at = moment if row.status == TimerStatus.FIRED else None
            row.updated_at = moment
            remember(row)
            if fired:
                fired_rows.append(row)
    known = {(row.task_id, row.due_at) for row in rows}
    for key, timer in wanted.items():
        if key not in known:
            row = ProcessTimer(instance_id=instance.id, task_id=timer.task_id, bpmn_id=timer.bpmn_id,
                               name=timer.name, kind=timer.kind, due_at=timer.due_at)
            db.session.add(row)
            remember(row)
    return fired_rows


def remember(row: ProcessTimer) -> None:
    db.session.info.setdefault(_PENDING, []).append(row)


def list_waiting_timers(limit: int | None = None) -> list[ProcessTimer]:
    query = select(ProcessTimer).where(ProcessTimer.status == TimerStatus.WAITING).order_by(ProcessTimer.due_at)
    return list(db.session.scalars(query.limit(limit) if limit else query))


@orm_event.listens_for(Session, "before_commit")
def _collect(session: Session) -> None:
    rows: list[ProcessTimer] = session.info.pop(_PENDING, [])
    if rows:
        session.flush()
        session.info[_COMMITTED] = [TimerChange(r.id, r.due_at, r.status == TimerStatus.WAITING) for r in rows]


@orm_event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    changes: list[TimerChange] = session.info.pop(_COMMITTED, [])
    for listener in list(listeners) if changes else []:
        listener(changes)


@orm_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_COMMITTED, None)
