"""A case as auditors see it: an agreement, deviation or dispute with its process instances and events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from service import access
from service.agreements.models import Agreement, AgreementVersion
from service.audit.models import AuditEvent
from service.deviations.models import Deviation
from service.disputes.models import Dispute
from service.extensions import db
from service.parties.models import User
from service.processes.models import ProcessInstance

CASE_TYPES = ("agreement", "deviation", "dispute")
CASE_TYPE_LABELS = {"agreement": "Avtal", "deviation": "Avvikelse", "dispute": "Tvist"}
_MODELS: dict[str, Any] = {"agreement": Agreement, "deviation": Deviation, "dispute": Dispute}


@dataclass(frozen=True)
class Case:
    case_type: str
    record: Any
    instance_ids: tuple[int, ...]

    @property
    def id(self) -> int:
        return int(self.record.id)

    @property
    def title(self) -> str:
        if self.case_type == "agreement":
            return str(self.record.title)
        return f"{_(CASE_TYPE_LABELS[self.case_type])} {self.record.case_number}"

    @property
    def label(self) -> str:
        return _(CASE_TYPE_LABELS[self.case_type])

    @property
    def subject_table(self) -> str:
        return str(self.record.__tablename__)


def get_case(case_type: str, case_id: int) -> Case | None:
    """The case, or None if the type is unknown or the record does not exist."""
    model = _MODELS.get(case_type)
    record = db.session.get(model, case_id) if model is not None else None
    if record is None:
        return None
    return Case(case_type, record, _instance_ids(case_type, record))


def _instance_ids(case_type: str, record: Any) -> tuple[int, ...]:
    if case_type == "agreement":
        ids = [version.instance_id for version in record.versions] + [record.lifecycle_instance_id]
    else:
        ids = [record.instance_id]
    return tuple(sorted({i for i in ids if i is not None}))


def case_of_instance(instance_id: int) -> Case | None:
    """The agreement, deviation or dispute an instance belongs to."""
    for model, case_type in ((Deviation, "deviation"), (Dispute, "dispute")):
        found = db.session.scalar(select(model.id).where(model.instance_id == instance_id))
        if found is not None:
            return get_case(case_type, found)
    agreement_id = db.session.scalar(select(AgreementVersion.agreement_id).where(AgreementVersion.instance_id == instance_id))
    if agreement_id is None:
        agreement_id = db.session.scalar(select(Agreement.id).where(Agreement.lifecycle_instance_id == instance_id))
    return get_case("agreement", agreement_id) if agreement_id is not None else None


def can_view_case(user: User, case: Case) -> bool:
    """Through the one authorisation layer: auditors see every case, parties their own."""
    if case.case_type == "agreement":
        return access.can_view_agreement(user, case.record)
    if case.case_type == "deviation":
        return access.can_view_deviation(user, case.record)
    return access.can_view_dispute(user, case.record)


def case_events(case: Case) -> list[AuditEvent]:
    """Every event of the case's instances and of the case record itself, in chain order."""
    own = and_(AuditEvent.subject_type == case.subject_table, AuditEvent.subject_id == str(case.id))
    condition = or_(own, AuditEvent.instance_id.in_(case.instance_ids)) if case.instance_ids else own
    return list(db.session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.seq)))


def case_instances(case: Case) -> list[ProcessInstance]:
    return [instance for instance in (db.session.get(ProcessInstance, i) for i in case.instance_ids) if instance is not None]


def list_cases(case_type: str, limit: int = 500) -> list[Case]:
    """Cases of one type, newest first (for the auditors' overview)."""
    model = _MODELS[case_type]
    records = db.session.scalars(select(model).order_by(model.id.desc()).limit(limit))
    return [Case(case_type, record, _instance_ids(case_type, record)) for record in records]
