"""Joint bodies (gemensamma organ): a steering group, an analysis group, a county-level group… made of members
from every party, each with a mandate from its own organisation. They meet, keep minutes with §, and decide
together (seed 000: "styrgrupp med representanter från respektive huvudman med mandat att fatta beslut";
seed 003: SocialKOLA, LokalKOLA; seed 004: samordningsgrupp, arbetsutskott, politiskt samråd, analysgrupp)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db
from service.parties.models import N_, Organisation, User


class BodyKind(StrEnum):
    STYRGRUPP = "styrgrupp"
    SAMORDNINGSGRUPP = "samordningsgrupp"
    ANALYSGRUPP = "analysgrupp"
    ARBETSUTSKOTT = "arbetsutskott"
    POLITISKT_SAMRAD = "politiskt_samrad"
    LANSNIVA = "lansniva"  # the county's joint group (SocialKOLA), last level of a dispute


BODY_KIND_LABELS = {
    BodyKind.STYRGRUPP: N_("Styrgrupp"),
    BodyKind.SAMORDNINGSGRUPP: N_("Samordningsgrupp"),
    BodyKind.ANALYSGRUPP: N_("Analysgrupp"),
    BodyKind.ARBETSUTSKOTT: N_("Arbetsutskott"),
    BodyKind.POLITISKT_SAMRAD: N_("Politiskt samråd"),
    BodyKind.LANSNIVA: N_("Länsnivå"),
}

# The same body may serve several agreements (a collaboration of several agreements).
joint_body_agreements = Table(
    "joint_body_agreements", db.metadata,
    Column("body_id", Integer, ForeignKey("joint_bodies.id"), primary_key=True),
    Column("agreement_id", Integer, ForeignKey("agreements.id"), primary_key=True, index=True),
)


class JointBody(db.Model):  # type: ignore[name-defined,misc]
    """A body of members from every party that serves one or more agreements."""

    __tablename__ = "joint_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    agreements = relationship("Agreement", secondary=joint_body_agreements, order_by="Agreement.id")
    members: Mapped[list[BodyMember]] = relationship(
        back_populates="body", cascade="all, delete-orphan", order_by="BodyMember.id")
    meetings: Mapped[list[Meeting]] = relationship(
        back_populates="body", cascade="all, delete-orphan", order_by="Meeting.held_on.desc()")

    @property
    def kind_label(self) -> str:
        return _(BODY_KIND_LABELS[BodyKind(self.kind)])

    def members_on(self, day: date) -> list[BodyMember]:
        """The members whose term covers ``day``."""
        return [m for m in self.members if m.is_in_term(day)]

    def secretary_on(self, day: date) -> BodyMember | None:
        return next((m for m in self.members_on(day) if m.is_secretary), None)

    def chair_on(self, day: date) -> BodyMember | None:
        return next((m for m in self.members_on(day) if m.is_chair), None)

    def serves(self, agreement_id: int) -> bool:
        return any(a.id == agreement_id for a in self.agreements)


class BodyMember(db.Model):  # type: ignore[name-defined,misc]
    """A person in a joint body for one party, with the mandate their organisation gave and its term."""

    __tablename__ = "body_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("joint_bodies.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    mandate: Mapped[str] = mapped_column(Text, default="")
    term_from: Mapped[date] = mapped_column(Date)
    term_to: Mapped[date | None] = mapped_column(Date)
    is_chair: Mapped[bool] = mapped_column(default=False)
    is_secretary: Mapped[bool] = mapped_column(default=False)

    body: Mapped[JointBody] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship()

    @property
    def is_deciding(self) -> bool:
        """A secretary who is nothing else keeps the minutes and does not decide (nor count for the quorum)."""
        return self.is_chair or not self.is_secretary

    def is_in_term(self, day: date) -> bool:
        return self.term_from <= day and (self.term_to is None or day <= self.term_to)


class Meeting(db.Model):  # type: ignore[name-defined,misc]
    """A meeting of a joint body: its agenda of cases, who came, and its protocol (decisions with §)."""

    __tablename__ = "body_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("joint_bodies.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    justerad_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # every named justerare has approved

    body: Mapped[JointBody] = relationship(back_populates="meetings")
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="AgendaItem.position")
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Attendance.id")
    decisions: Mapped[list[MeetingDecision]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingDecision.paragraph")
    adjusters: Mapped[list[Adjuster]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Adjuster.id")

    def present_members(self) -> list[BodyMember]:
        return [a.member for a in self.attendances if a.is_present]

    def present_organisation_ids(self) -> set[int]:
        return {m.organisation_id for m in self.present_members() if m.is_deciding}

    def represented_organisation_ids(self) -> set[int]:
        """The parties the body's deciding members (in term on the meeting day) come from."""
        return {m.organisation_id for m in self.body.members_on(self.held_on) if m.is_deciding}

    def absent_organisation_ids(self) -> set[int]:
        """Parties with members but none present: while any is left, the meeting may not decide."""
        return self.represented_organisation_ids() - self.present_organisation_ids()

    def has_on_agenda(self, case_type: str, case_id: int) -> bool:
        return any(i.case_type == case_type and i.case_id == case_id for i in self.agenda)


class AgendaItem(db.Model):  # type: ignore[name-defined,misc]
    """One point of a meeting's agenda; it points at a case (a dispute at the body's level, a deviation for
    analysis, a follow-up, the annual report…) or is a plain point (case_type empty)."""

    __tablename__ = "body_agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("body_meetings.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    case_type: Mapped[str] = mapped_column(String(30), default="")
    case_id: Mapped[int | None]

    meeting: Mapped[Meeting] = relationship(back_populates="agenda")


class Attendance(db.Model):  # type: ignore[name-defined,misc]
    """A member's presence at a meeting (recorded present or absent)."""

    __tablename__ = "body_attendances"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("body_meetings.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("body_members.id"))
    is_present: Mapped[bool] = mapped_column(default=True)

    meeting: Mapped[Meeting] = relationship(back_populates="attendances")
    member: Mapped[BodyMember] = relationship()


class Adjuster(db.Model):  # type: ignore[name-defined,misc]
    """A member chosen to justera the meeting's protocol, and when they did."""

    __tablename__ = "body_meeting_adjusters"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("body_meetings.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("body_members.id"))
    justerat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="adjusters")
    member: Mapped[BodyMember] = relationship()


class MeetingDecision(db.Model):  # type: ignore[name-defined,misc]
    """A decision in the meeting's protocol (§), landed on its case: the body's decision, never one party's."""

    __tablename__ = "body_meeting_decisions"
    __table_args__ = (UniqueConstraint("meeting_id", "paragraph"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("body_meetings.id"), index=True)
    paragraph: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(30), default="")  # case-specific, e.g. "escalate" for a dispute
    case_type: Mapped[str] = mapped_column(String(30), default="")
    case_id: Mapped[int | None]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    meeting: Mapped[Meeting] = relationship(back_populates="decisions")
    recorded_by: Mapped[User] = relationship()

    @property
    def is_justerad(self) -> bool:
        return self.meeting.justerad_at is not None
