"""Incidents: a script, condition or expression failed in a running case.

The case is not silently stuck: the failed task stays in the engine (ERROR, or READY but not offerable),
an incident row names the element, the error and the data, and process owners see the list, correct the
data and retry (operations.retry_incident). Opening, failed retries and resolution are audited.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from service import audit
from service.engine import runner
from service.engine.runner import EngineFailure
from service.extensions import db
from service.parties.models import User
from service.processes.models import IncidentStatus, ProcessIncident, ProcessInstance


def open_incident(instance: ProcessInstance, workflow: Any, failure: EngineFailure, actor: User | None) -> ProcessIncident:
    """Record ``failure`` on ``instance`` (once per failed task while it is open)."""
    task_id = failure.task_id or ""
    existing = db.session.scalar(select(ProcessIncident).where(
        ProcessIncident.instance_id == instance.id, ProcessIncident.task_id == task_id,
        ProcessIncident.status == IncidentStatus.OPEN))
    if existing is not None:
        existing.message = failure.detail
        return existing
    incident = ProcessIncident(instance_id=instance.id, task_id=task_id, bpmn_id=failure.element_id,
                               message=failure.detail, data=json_safe(runner.task_data(workflow, task_id)))
    db.session.add(incident)
    _started(db.session()).pop(instance.id, None)  # an instance started in this transaction: it has one now
    db.session.flush()
    audit.record(actor, "incident.opened", incident, instance_id=instance.id, incident=incident.id,
                 task=failure.element_id, task_id=task_id, message=failure.detail)
    return incident


def json_safe(data: dict[str, Any]) -> dict[str, Any]:
    """Task data as JSON (dates as ISO text): what the correction form shows and the audit log keeps."""
    loaded: dict[str, Any] = json.loads(json.dumps(data, default=str, sort_keys=True))
    return loaded


def get_open_incident(instance_id: int) -> ProcessIncident | None:
    """The instance's oldest open incident: the case stands still there until a process owner retries it.
    None without a query for an instance started in this transaction with none opened (remember_started)."""
    if instance_id in _started(db.session()):
        return None
    return db.session.scalar(select(ProcessIncident).where(
        ProcessIncident.instance_id == instance_id, ProcessIncident.status == IncidentStatus.OPEN)
        .order_by(ProcessIncident.created_at, ProcessIncident.id).limit(1))


_STARTED_KEY = "samverkan.started_without_incident"


def remember_started(instance: ProcessInstance) -> None:
    """``instance`` was started in this transaction, and has no incident unless open_incident opens one: the
    answer to its start needs no query for it (issue #23). Called once it has its id, before it runs."""
    _started(db.session())[instance.id] = True


def _started(session: Session) -> dict[int, bool]:
    started: dict[int, bool] = session.info.setdefault(_STARTED_KEY, {})
    return started


@event.listens_for(Session, "after_transaction_end")
def _forget_started(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_STARTED_KEY, None)


def open_incidents(limit: int = 200) -> list[ProcessIncident]:
    return list(db.session.scalars(select(ProcessIncident).where(ProcessIncident.status == IncidentStatus.OPEN)
                                   .order_by(ProcessIncident.created_at.desc()).limit(limit)))


def recent_resolved(limit: int = 50) -> list[ProcessIncident]:
    return list(db.session.scalars(select(ProcessIncident).where(ProcessIncident.status == IncidentStatus.RESOLVED)
                                   .order_by(ProcessIncident.resolved_at.desc()).limit(limit)))


def count_open() -> int:
    return int(db.session.scalar(select(func.count()).select_from(ProcessIncident)
                                 .where(ProcessIncident.status == IncidentStatus.OPEN)) or 0)


def open_for_instance(instance_id: int) -> list[ProcessIncident]:
    return list(db.session.scalars(select(ProcessIncident).where(
        ProcessIncident.instance_id == instance_id, ProcessIncident.status == IncidentStatus.OPEN)))
