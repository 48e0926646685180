"""Disposal (gallring) under a disposal decision per case type, as a logged job.

Audit rows are never changed or deleted, so disposal removes the *content* of the case record (free texts
that may describe people) and appends one ``<case>.disposed`` event naming the decision and the SHA-256 of
every removed value: the chain stays verifiable and shows what was removed, without keeping it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service import audit
from service.audit.models import AuditEvent, DisposalDecision
from service.columns import now
from service.deviations.models import Deviation, DeviationStatus
from service.disputes.models import Dispute, DisputeStatus
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import User

DISPOSED = "[gallrad]"
# Case types that can be disposed, the model, its closed status and moment, and the content removed.
_RULES: dict[str, tuple[Any, str, str, tuple[str, ...]]] = {
    "deviation": (Deviation, DeviationStatus.CLOSED, "closed_at",
                  ("description", "immediate_action", "consequence_description", "analysis_comment", "dispute_question")),
    "dispute": (Dispute, DisputeStatus.RESOLVED, "resolved_at", ("question", "background", "decision", "instruction")),
}


def set_disposal_decision(case_type: str, after_years: int, reference: str, *, by: User | None) -> DisposalDecision:
    """Record (or replace) the disposal decision for a case type; audited."""
    if case_type not in _RULES:
        raise ValidationFailed("Okänd ärendetyp.", {"case_type": [f"Välj en av {', '.join(_RULES)}."]})
    if after_years < 1:
        raise ValidationFailed("Gallringsfristen måste vara minst ett år.", {"after_years": ["Minst 1."]})
    if not reference.strip():
        raise ValidationFailed("Ange beslutets diarienummer.", {"reference": ["Obligatoriskt."]})
    decision = db.session.scalar(select(DisposalDecision).where(DisposalDecision.case_type == case_type))
    if decision is None:
        decision = DisposalDecision(case_type=case_type, after_years=after_years, reference=reference, decided_at=now())
        db.session.add(decision)
    decision.after_years, decision.reference, decision.decided_at = after_years, reference.strip(), now()
    db.session.flush()
    audit.record(by, "disposal.decision_set", decision, case_type=case_type, after_years=after_years, reference=reference)
    return decision


@dataclass(frozen=True)
class Disposed:
    case_type: str
    case_id: int
    fields: tuple[str, ...]


def dispose_due(*, by: User | None = None, dry_run: bool = False) -> list[Disposed]:
    """Dispose the content of every closed case past its decision's period. Without a decision: nothing."""
    done: list[Disposed] = []
    for decision in db.session.scalars(select(DisposalDecision).order_by(DisposalDecision.case_type)):
        model, closed, closed_at, fields = _RULES[decision.case_type]
        cutoff = now() - timedelta(days=365 * decision.after_years)
        already = select(AuditEvent.subject_id).where(AuditEvent.action == f"{decision.case_type}.disposed")
        due = db.session.scalars(select(model).where(model.status == closed, getattr(model, closed_at) < cutoff,
                                                     model.id.not_in(_ids(already))).order_by(model.id)).all()
        for record in due:
            done.append(Disposed(decision.case_type, record.id, fields))
            if not dry_run:
                _dispose(record, decision, fields, by)
    return done


def _ids(query: Any) -> list[int]:
    return [int(value) for value in db.session.scalars(query)]


def _dispose(record: Any, decision: DisposalDecision, fields: tuple[str, ...], by: User | None) -> None:
    removed = {}
    for name in fields:
        value = getattr(record, name) or ""
        if value and value != DISPOSED:
            removed[name] = hashlib.sha256(str(value).encode()).hexdigest()
            setattr(record, name, DISPOSED)
    removed.update(_dispose_children(record))
    audit.record(by, f"{decision.case_type}.disposed", record, instance_id=record.instance_id,
                 decision=decision.reference, after_years=decision.after_years, removed_sha256=removed)


def _dispose_children(record: Any) -> dict[str, str]:
    """Texts held in the case's child rows (a deviation's entries and answers)."""
    removed: dict[str, str] = {}
    children: list[tuple[str, Any, tuple[str, ...]]] = []
    if isinstance(record, Deviation):
        children = [("entry", e, ("text",)) for e in record.entries] + \
                   [("receiver", r, ("findings", "measures", "handler")) for r in record.receivers]
    elif isinstance(record, Dispute):
        children = [("step", s, ("text",)) for s in record.steps]
    for label, child, names in children:
        for name in names:
            value = getattr(child, name) or ""
            if value and value != DISPOSED:
                removed[f"{label}:{child.id}:{name}"] = hashlib.sha256(str(value).encode()).hexdigest()
                setattr(child, name, DISPOSED)
    return removed
