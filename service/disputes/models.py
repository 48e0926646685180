"""Disputes about the division of responsibility (tvister) and their escalation levels."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db
from service.parties.models import Organisation, User


class DisputeLevel(StrEnum):
    LINE = "line"  # level 1: the parties' line organisation (their managers)
    STEERING_GROUP = "steering_group"  # level 2: the agreement's steering group
    COUNTY = "county"  # level 3: the county collaboration body


LEVELS = (DisputeLevel.LINE, DisputeLevel.STEERING_GROUP, DisputeLevel.COUNTY)

LEVEL_LABELS = {
    DisputeLevel.LINE: "Nivå 1: linjeorganisationen",
    DisputeLevel.STEERING_GROUP: "Nivå 2: styrgruppen",
    DisputeLevel.COUNTY: "Nivå 3: länsnivå",
}

# The user task each level waits on (element ids in bpmn/dispute.bpmn).
LEVEL_TASKS = {"line_position": DisputeLevel.LINE, "higher_position": DisputeLevel.LINE,
               "steering_decision": DisputeLevel.STEERING_GROUP, "county_preparation": DisputeLevel.COUNTY,
               "county_decision": DisputeLevel.COUNTY}

DEFAULT_PERIODS = {DisputeLevel.LINE: "P14D", DisputeLevel.STEERING_GROUP: "P30D", DisputeLevel.COUNTY: "P60D"}


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


DISPUTE_STATUS_LABELS = {DisputeStatus.OPEN: "Pågår", DisputeStatus.RESOLVED: "Avgjord"}


class Dispute(db.Model):  # type: ignore[name-defined,misc]
    """A dispute between parties of an agreement, and where on the escalation ladder it stands."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_agreement_status", "agreement_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(30), index=True, unique=True)  # TV-YEAR-NNNN, one per case
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    opening_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    question: Mapped[str] = mapped_column(Text)
    background: Mapped[str] = mapped_column(Text, default="")
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviations.id"))
    status: Mapped[str] = mapped_column(String(20), default=DisputeStatus.OPEN)
    level: Mapped[str] = mapped_column(String(20), default=DisputeLevel.LINE)
    level_started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    level_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    steering_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    county_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    instruction_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision: Mapped[str] = mapped_column(Text, default="")
    needs_instruction: Mapped[bool] = mapped_column(default=False)
    instruction_title: Mapped[str] = mapped_column(String(300), default="")
    instruction: Mapped[str] = mapped_column(Text, default="")
    instruction_written_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    # The joint bodies that decide at levels 2 and 3 at their meetings (service/bodies); NULL: the agreement had
    # none when the dispute was opened, and the level's task is offered to the organisation's role as before.
    steering_body_id: Mapped[int | None] = mapped_column(ForeignKey("joint_bodies.id"))
    county_body_id: Mapped[int | None] = mapped_column(ForeignKey("joint_bodies.id"))

    opening_organisation: Mapped[Organisation] = relationship(foreign_keys=[opening_organisation_id])
    steering_organisation: Mapped[Organisation] = relationship(foreign_keys=[steering_organisation_id])
    county_organisation: Mapped[Organisation] = relationship(foreign_keys=[county_organisation_id])
    instruction_organisation: Mapped[Organisation] = relationship(foreign_keys=[instruction_organisation_id])
    opened_by: Mapped[User] = relationship()
    steering_body = relationship("JointBody", foreign_keys=[steering_body_id])
    county_body = relationship("JointBody", foreign_keys=[county_body_id])
    parties: Mapped[list[DisputeParty]] = relationship(
        back_populates="dispute", cascade="all, delete-orphan", order_by="DisputeParty.id")
    steps: Mapped[list[DisputeStep]] = relationship(
        back_populates="dispute", cascade="all, delete-orphan", order_by="DisputeStep.id")

    @property
    def level_label(self) -> str:
        return _(LEVEL_LABELS[DisputeLevel(self.level)])

    @property
    def status_label(self) -> str:
        return _(DISPUTE_STATUS_LABELS[DisputeStatus(self.status)])

    @property
    def is_open(self) -> bool:
        return self.status == DisputeStatus.OPEN

    def party_ids(self) -> list[int]:
        return [party.organisation_id for party in self.parties]


class DisputeParty(db.Model):  # type: ignore[name-defined,misc]
    """A party to the dispute, with the dispute's case number in that party's series."""

    __tablename__ = "dispute_parties"
    __table_args__ = (UniqueConstraint("dispute_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    case_number: Mapped[str] = mapped_column(String(30))
    is_opener: Mapped[bool] = mapped_column(default=False)

    dispute: Mapped[Dispute] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()


class StepKind(StrEnum):
    OPENED = "opened"
    POSITION = "position"  # a party's manager at level 1: agreed, not agreed, or lifted one management level up
    HIGHER_POSITION = "higher_position"  # level 1's second round: the next management level up in each party
    ESCALATED = "escalated"
    PREPARED = "prepared"  # level 3: the officials' summary and proposal
    RESOLVED = "resolved"
    INSTRUCTION = "instruction"


STEP_KIND_LABELS = {
    StepKind.OPENED: "Öppnad",
    StepKind.POSITION: "Partens besked",
    StepKind.HIGHER_POSITION: "Besked från överordnad chef",
    StepKind.ESCALATED: "Eskalerad",
    StepKind.PREPARED: "Beredd för länsnivån",
    StepKind.RESOLVED: "Avgjord",
    StepKind.INSTRUCTION: "Gemensam instruktion skriven",
}


class DisputeStep(db.Model):  # type: ignore[name-defined,misc]
    """One step on the ladder, as the parties see it (the audit log keeps the full record)."""

    __tablename__ = "dispute_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    is_by_timer: Mapped[bool] = mapped_column(default=False)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    dispute: Mapped[Dispute] = relationship(back_populates="steps")
    organisation: Mapped[Organisation | None] = relationship()
    actor: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return _(STEP_KIND_LABELS[StepKind(self.kind)])

    @property
    def level_label(self) -> str:
        return _(LEVEL_LABELS[DisputeLevel(self.level)])


class DisputeLevelSetting(db.Model):  # type: ignore[name-defined,misc]
    """Who handles a level and how long it has: per agreement, or for all agreements (agreement_id NULL).

    Level 2 defaults to the steering group members of the agreement's coordinating organisation; level 3
    needs a row naming the county collaboration body (role Länsnivå there)."""

    __tablename__ = "dispute_level_settings"
    __table_args__ = (UniqueConstraint("agreement_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"))
    level: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    period: Mapped[str | None] = mapped_column(String(10))  # ISO 8601 duration; NULL: the default
    # Whether the level's expired time escalates the dispute by itself (True) or only reminds (as the agreement says).
    escalates: Mapped[bool] = mapped_column(default=True, server_default=true())

    organisation: Mapped[Organisation | None] = relationship()
