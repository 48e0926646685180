"""Agreements (avtal/överenskommelse om samverkan), their parties and the decisions of each party."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db
from service.parties.models import AuthorisedBody, Organisation
from service.processes.models import ProcessInstance


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    AWAITING_DECISIONS = "awaiting_decisions"
    ACTIVE = "active"


STATUS_LABELS = {
    AgreementStatus.DRAFT: "Utkast",
    AgreementStatus.AWAITING_DECISIONS: "Väntar på beslut",
    AgreementStatus.ACTIVE: "Gäller",
}


class DecisionOutcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


OUTCOME_LABELS = {DecisionOutcome.APPROVE: "Godkänt", DecisionOutcome.REJECT: "Avslag"}


class Agreement(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(32), default=AgreementStatus.DRAFT)
    sections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Each adoption round starts when a draft is submitted; decisions belong to one round.
    adoption_round: Mapped[int] = mapped_column(default=0)
    coordinator_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementParty.id")
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="Decision.id")
    coordinator_organisation: Mapped[Organisation] = relationship()
    # The backref gives hooks ``instance.agreement``, loaded once per session.
    instance: Mapped[ProcessInstance | None] = relationship(backref=backref("agreement", uselist=False))

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[AgreementStatus(self.status)]

    def current_decisions(self) -> list[Decision]:
        return [d for d in self.decisions if d.adoption_round == self.adoption_round]

    def has_party(self, organisation_id: int) -> bool:
        return any(p.organisation_id == organisation_id for p in self.parties)


class AgreementParty(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "agreement_parties"
    __table_args__ = (UniqueConstraint("agreement_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()


class Decision(db.Model):  # type: ignore[name-defined,misc]
    """A party's authorised body's decision on the agreement, with date, § and diarienummer."""

    __tablename__ = "agreement_decisions"
    __table_args__ = (UniqueConstraint("agreement_id", "adoption_round", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    adoption_round: Mapped[int]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    body_id: Mapped[int] = mapped_column(ForeignKey("authorised_bodies.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    decided_on: Mapped[date] = mapped_column(Date)
    paragraph: Mapped[str] = mapped_column(String(20))
    diarienummer: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    agreement: Mapped[Agreement] = relationship(back_populates="decisions")
    organisation: Mapped[Organisation] = relationship()
    body: Mapped[AuthorisedBody] = relationship()

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[DecisionOutcome(self.outcome)]
