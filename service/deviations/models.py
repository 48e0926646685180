"""Deviations in the collaboration (avvikelser i samverkan), the receiving parties' answers, their analysis,
the answer deadlines per agreement and party, and the case-number series (one per prefix and year)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db
from service.parties.models import Organisation, User


class DeviationCategory(StrEnum):
    INFORMATION_TRANSFER = "information_transfer"
    AVAILABILITY = "availability"
    UNCLEAR_RESPONSIBILITY = "unclear_responsibility"
    SIP = "sip"
    DISCHARGE = "discharge"
    MEDICATION = "medication"
    # Seed 004's areas (the annual report of Vårdsamverkan Lerum Alingsås).
    ADMISSION_DISCHARGE = "admission_discharge"
    MEDICATION_TRANSITIONS = "medication_transitions"
    OTHER = "other"


CATEGORY_LABELS = {
    DeviationCategory.INFORMATION_TRANSFER: "Informationsöverföring",
    DeviationCategory.AVAILABILITY: "Tillgänglighet och nåbarhet",
    DeviationCategory.UNCLEAR_RESPONSIBILITY: "Oklar ansvarsfördelning",
    DeviationCategory.SIP: "SIP har inte upprättats eller följts",
    DeviationCategory.DISCHARGE: "Utskrivning eller överflyttning av vård",
    DeviationCategory.MEDICATION: "Läkemedelsöverlämning",
    DeviationCategory.ADMISSION_DISCHARGE: "In- och utskrivning från sluten hälso- och sjukvård",
    DeviationCategory.MEDICATION_TRANSITIONS: "Läkemedelshantering vid vårdens övergångar",
    DeviationCategory.OTHER: "Övrigt",
}


class Consequence(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MODERATE = "moderate"
    SERIOUS = "serious"


CONSEQUENCE_LABELS = {
    Consequence.NONE: "Ingen konsekvens för den enskilde",
    Consequence.MINOR: "Liten konsekvens",
    Consequence.MODERATE: "Måttlig konsekvens",
    Consequence.SERIOUS: "Allvarlig konsekvens",
}


class RootCause(StrEnum):
    ROUTINE_MISSING = "routine_missing"
    ROUTINE_NOT_FOLLOWED = "routine_not_followed"
    COMMUNICATION = "communication"
    RESOURCES = "resources"
    IT_SYSTEMS = "it_systems"
    RESPONSIBILITY = "responsibility"
    OTHER = "other"


ROOT_CAUSE_LABELS = {
    RootCause.ROUTINE_MISSING: "Gemensam rutin saknas",
    RootCause.ROUTINE_NOT_FOLLOWED: "Rutinen finns men följdes inte",
    RootCause.COMMUNICATION: "Brister i kommunikation eller dokumentation",
    RootCause.RESOURCES: "Bemanning eller resurser",
    RootCause.IT_SYSTEMS: "IT-system eller teknik",
    RootCause.RESPONSIBILITY: "Oklar ansvarsfördelning mellan huvudmännen",
    RootCause.OTHER: "Annan orsak",
}


class DeviationStatus(StrEnum):
    OPEN = "open"  # the receiving parties investigate and answer
    IN_ANALYSIS = "in_analysis"
    CLOSED = "closed"


DEVIATION_STATUS_LABELS = {
    DeviationStatus.OPEN: "Under utredning",
    DeviationStatus.IN_ANALYSIS: "Under analys",
    DeviationStatus.CLOSED: "Avslutad",
}


class ReceiverStatus(StrEnum):
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_REPLY = "awaiting_reply"  # the receiver asked the reporter a question
    ESCALATED = "escalated"  # overdue: with the receiving party's manager
    ANSWERED = "answered"
    ACCEPTED = "accepted"
    CONTESTED = "contested"  # contested a second time: to the analysis group


RECEIVER_STATUS_LABELS = {
    ReceiverStatus.SENT: "Skickad",
    ReceiverStatus.ACKNOWLEDGED: "Kvitterad, utreds",
    ReceiverStatus.AWAITING_REPLY: "Väntar på svar från rapportören",
    ReceiverStatus.ESCALATED: "Försenad, eskalerad till chef",
    ReceiverStatus.ANSWERED: "Besvarad",
    ReceiverStatus.ACCEPTED: "Svaret godtaget",
    ReceiverStatus.CONTESTED: "Svaret bestritt",
}


class Deviation(db.Model):  # type: ignore[name-defined,misc]
    """One reported deviation; anonymised (no personal identity numbers are ever stored)."""

    __tablename__ = "deviations"
    __table_args__ = (Index("ix_deviations_reporting_reported", "reporting_organisation_id", "reported_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(30), index=True, unique=True)  # AV-YEAR-NNNN, one per case
    reporting_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reporting_unit: Mapped[str] = mapped_column(String(200))
    receiving_unit: Mapped[str] = mapped_column(String(200), default="")
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), index=True)
    event_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    immediate_action: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40))
    consequence: Mapped[str] = mapped_column(String(20))
    consequence_description: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    status: Mapped[str] = mapped_column(String(20), default=DeviationStatus.OPEN)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    analysis_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    final_category: Mapped[str | None] = mapped_column(String(40))
    root_cause: Mapped[str | None] = mapped_column(String(40))
    analysis_comment: Mapped[str] = mapped_column(Text, default="")
    analysed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    analysed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    analysis_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The analysis group was reminded, then the steering side told that nothing happened (timers on analyse).
    analysis_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    analysis_escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_dispute_proposed: Mapped[bool] = mapped_column(default=False)
    dispute_question: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    reporting_organisation: Mapped[Organisation] = relationship(foreign_keys=[reporting_organisation_id])
    analysis_organisation: Mapped[Organisation] = relationship(foreign_keys=[analysis_organisation_id])
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id])
    receivers: Mapped[list[DeviationReceiver]] = relationship(
        back_populates="deviation", cascade="all, delete-orphan", order_by="DeviationReceiver.id")
    entries: Mapped[list[DeviationEntry]] = relationship(
        back_populates="deviation", cascade="all, delete-orphan", order_by="DeviationEntry.id")
    improvements: Mapped[list[ImprovementAction]] = relationship(
        back_populates="deviation", cascade="all, delete-orphan", order_by="ImprovementAction.id")

    @property
    def status_label(self) -> str:
        return _(DEVIATION_STATUS_LABELS[DeviationStatus(self.status)])

    @property
    def category_label(self) -> str:
        return _(CATEGORY_LABELS[DeviationCategory(self.category)])

    @property
    def final_category_label(self) -> str:
        return _(CATEGORY_LABELS[DeviationCategory(self.final_category)]) if self.final_category else ""

    @property
    def consequence_label(self) -> str:
        return _(CONSEQUENCE_LABELS[Consequence(self.consequence)])

    @property
    def root_cause_label(self) -> str:
        return _(ROOT_CAUSE_LABELS[RootCause(self.root_cause)]) if self.root_cause else ""

    def organisation_ids(self) -> set[int]:
        """The reporting party and every receiving party."""
        return {self.reporting_organisation_id, *(r.organisation_id for r in self.receivers)}

    def receiver_for(self, organisation_id: int) -> DeviationReceiver | None:
        return next((r for r in self.receivers if r.organisation_id == organisation_id), None)


class DeviationReceiver(db.Model):  # type: ignore[name-defined,misc]
    """A receiving party of a deviation: its case number, deadline and answer."""

    __tablename__ = "deviation_receivers"
    __table_args__ = (UniqueConstraint("deviation_id", "organisation_id"),
                      Index("ix_deviation_receivers_organisation", "organisation_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_number: Mapped[str] = mapped_column(String(30))  # the deviation's number: every party uses the same
    status: Mapped[str] = mapped_column(String(20), default=ReceiverStatus.SENT)
    answer_round: Mapped[int] = mapped_column(default=1)  # 2 after the reporter contested once
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    first_due_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the deadline the statistics measure against
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)  # this round's deadline
    remind_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handler: Mapped[str] = mapped_column(String(200), default="")
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_answered_late: Mapped[bool] = mapped_column(default=False)
    findings: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contest_count: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    deviation: Mapped[Deviation] = relationship(back_populates="receivers")
    organisation: Mapped[Organisation] = relationship()
    answered_by: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        return _(RECEIVER_STATUS_LABELS[ReceiverStatus(self.status)])


class EntryKind(StrEnum):
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    QUESTION = "question"
    REPLY = "reply"
    ANSWER = "answer"
    REMINDER = "reminder"
    ESCALATED = "escalated"
    ACCEPTED = "accepted"
    CONTESTED = "contested"
    ANALYSED = "analysed"
    DISPUTE = "dispute"
    MEETING_DECISION = "meeting_decision"  # a joint body's decision (§) on the deviation (deviations/meetings.py)


ENTRY_KIND_LABELS = {
    EntryKind.REPORTED: "Rapporterad",
    EntryKind.ACKNOWLEDGED: "Kvitterad",
    EntryKind.QUESTION: "Fråga till rapportören",
    EntryKind.REPLY: "Svar från rapportören",
    EntryKind.ANSWER: "Svar från mottagande part",
    EntryKind.REMINDER: "Påminnelse om svarstiden",
    EntryKind.ESCALATED: "Eskalerad till chef",
    EntryKind.ACCEPTED: "Svaret godtogs",
    EntryKind.CONTESTED: "Svaret bestreds",
    EntryKind.ANALYSED: "Analyserad",
    EntryKind.DISPUTE: "Tvist",
    EntryKind.MEETING_DECISION: "Beslut vid möte",
}


class DeviationEntry(db.Model):  # type: ignore[name-defined,misc]
    """One line of a deviation's history as the parties see it (the audit log keeps the full record)."""

    __tablename__ = "deviation_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), index=True)
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("deviation_receivers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    deviation: Mapped[Deviation] = relationship(back_populates="entries")
    receiver: Mapped[DeviationReceiver | None] = relationship()
    author: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return _(ENTRY_KIND_LABELS[EntryKind(self.kind)])


class ImprovementStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


IMPROVEMENT_STATUS_LABELS = {
    ImprovementStatus.PLANNED: "Planerad",
    ImprovementStatus.IN_PROGRESS: "Pågår",
    ImprovementStatus.DONE: "Genomförd",
}


class ImprovementAction(db.Model):  # type: ignore[name-defined,misc]
    """An improvement action the analysis group decided on, with an owner and a due date, followed to done."""

    __tablename__ = "deviation_improvement_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The person who answers for it (reminded when overdue); ``owner`` is the name or function as written.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=ImprovementStatus.PLANNED)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    result: Mapped[str] = mapped_column(Text, default="")  # what was done, when done
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    deviation: Mapped[Deviation] = relationship(back_populates="improvements")
    organisation: Mapped[Organisation] = relationship()
    owner_user: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    @property
    def status_label(self) -> str:
        return _(IMPROVEMENT_STATUS_LABELS[ImprovementStatus(self.status)])

    @property
    def is_done(self) -> bool:
        return self.status == ImprovementStatus.DONE


class AnswerDeadline(db.Model):  # type: ignore[name-defined,misc]
    """How long a receiving party has to answer: per agreement and party, or per party (agreement_id NULL).
    Without a row the default applies (operations.DEFAULT_ANSWER_PERIOD)."""

    __tablename__ = "deviation_answer_deadlines"
    __table_args__ = (UniqueConstraint("organisation_id", "agreement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"))
    answer_period: Mapped[str] = mapped_column(String(10))  # ISO 8601 P60D, P8W, P2M, or P10WD (working days)
    reminder_days: Mapped[int] = mapped_column(default=7)  # the reminder goes out this many days before due
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship()


class CaseNumberSeries(db.Model):  # type: ignore[name-defined,misc]
    """The last case number given in a series and year (AV-2026-0042: series AV, 2026): one row each, moved by
    service/deviations/case_numbers.py; the case tables' unique constraints hold the numbers unique too."""

    __tablename__ = "case_number_series"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)
