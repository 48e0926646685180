"""Agreements (avtal/överenskommelse om samverkan): versions, parties, and the decisions on each version.

The adopted text of a version never changes: a change is a new version that every party adopts again.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.engine.calendar import APPEAL_PERIOD_DAYS, last_day_of_period
from service.extensions import db
from service.parties.models import AuthorisedBody, Organisation, OrganisationKind
from service.processes.models import ProcessInstance


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    IN_CONSULTATION = "in_consultation"
    AWAITING_DECISIONS = "awaiting_decisions"
    # Every party's decision is final but the agreement's start date (valid_from) lies ahead: the lifecycle's
    # timer in_force_from makes it active on that day.
    ADOPTED = "adopted"
    ACTIVE = "active"
    UNDER_AMENDMENT = "under_amendment"
    EXPIRED = "expired"
    TERMINATED = "terminated"


STATUS_LABELS = {
    AgreementStatus.DRAFT: "Utkast",
    AgreementStatus.IN_CONSULTATION: "På remiss",
    AgreementStatus.AWAITING_DECISIONS: "Väntar på beslut",
    AgreementStatus.ADOPTED: "Antaget, gäller från startdatum",
    AgreementStatus.ACTIVE: "Gäller",
    AgreementStatus.UNDER_AMENDMENT: "Gäller, ändring pågår",
    AgreementStatus.EXPIRED: "Upphört",
    AgreementStatus.TERMINATED: "Uppsagt",
}
# The adopted agreement before its start date, with the date (STATUS_LABELS' entry names it for the filter).
ADOPTED_FROM_LABEL = "Antaget, gäller från %(day)s"
# In force, with an amendment adopted that starts later: the version in force stays until then.
AMENDED_FROM_LABEL = "Gäller; version %(number)s är antagen och gäller från %(day)s"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    IN_CONSULTATION = "in_consultation"
    AWAITING_DECISIONS = "awaiting_decisions"
    ADOPTED = "adopted"
    SUPERSEDED = "superseded"


VERSION_STATUS_LABELS = {
    VersionStatus.DRAFT: "Utkast",
    VersionStatus.IN_CONSULTATION: "På remiss",
    VersionStatus.AWAITING_DECISIONS: "Väntar på beslut",
    VersionStatus.ADOPTED: "Gällande",
    VersionStatus.SUPERSEDED: "Ersatt",
}
# An agreement or version awaiting decisions once every party has adopted it.
AWAITING_FINAL_LABEL = "Alla parter har beslutat – väntar på laga kraft"
FROZEN_VERSION_STATUSES = (VersionStatus.ADOPTED, VersionStatus.SUPERSEDED)


class DecisionOutcome(StrEnum):
    ADOPTED = "adopted"
    APPROVED = "approved"
    ENDORSED = "endorsed"
    REJECTED = "rejected"
    RETURNED = "returned"
    TABLED = "tabled"


OUTCOME_LABELS = {
    DecisionOutcome.ADOPTED: "Antaget",
    DecisionOutcome.APPROVED: "Godkänt",
    DecisionOutcome.ENDORSED: "Ställer sig bakom",
    DecisionOutcome.REJECTED: "Avslaget",
    DecisionOutcome.RETURNED: "Återremitterat",
    DecisionOutcome.TABLED: "Bordlagt",
}
# "Antas", "godkänns" and "ställer sig bakom" all adopt the agreement; the body's own wording is kept and shown.
ADOPTING_OUTCOMES = frozenset({DecisionOutcome.ADOPTED, DecisionOutcome.APPROVED, DecisionOutcome.ENDORSED})


class DecisionStage(StrEnum):
    """The Swedish steps of a decision: beslutat → justerat → anslaget → laga kraft (or överklagat)."""

    DECIDED = "decided"
    POSTED = "posted"
    APPEALED = "appealed"
    FINAL = "final"
    ANNULLED = "annulled"


STAGE_LABELS = {
    DecisionStage.DECIDED: "Beslutat",
    DecisionStage.POSTED: "Justerat; justeringen anslagen",
    DecisionStage.APPEALED: "Överklagat",
    DecisionStage.FINAL: "Laga kraft",
    DecisionStage.ANNULLED: "Upphävt efter överklagande",
}
# A decision by delegation or a signed agreement has no anslag and no appeal period: final means it applies.
APPLIES_FOR_PARTY_LABEL = "Gäller för parten"


class DecisionRoute(StrEnum):
    """How a party's decision comes to apply to it (gäller för parten)."""

    # A nämnd, styrelse or fullmäktige decides at a meeting: justering, anslag, then the appeal period
    # (KL 8 kap. 12 §, 13 kap. 6 §). Kommun, region, kommunalförbund.
    DECISION_WITH_POSTING = "decision_with_posting"
    # Beslut på delegation (KL 7 kap. 5 §): a delegate decides alone; no justering or anslag in this flow.
    DELEGATION = "delegation"
    # A party outside kommunallagen (a state authority such as Kriminalvården, a private provider such as a
    # vårdcentral) signs the agreement by its own rules.
    SIGNED_AGREEMENT = "signed_agreement"


ROUTE_LABELS = {
    DecisionRoute.DECISION_WITH_POSTING: "Beslut med justering och anslag",
    DecisionRoute.DELEGATION: "Beslut på delegation",
    DecisionRoute.SIGNED_AGREEMENT: "Undertecknat avtal",
}
# The routes each kind of organisation may take; the first is the default. Kinds not named sign.
ROUTES_BY_KIND: dict[str, tuple[DecisionRoute, ...]] = {
    OrganisationKind.KOMMUN: (DecisionRoute.DECISION_WITH_POSTING, DecisionRoute.DELEGATION),
    OrganisationKind.REGION: (DecisionRoute.DECISION_WITH_POSTING, DecisionRoute.DELEGATION),
    OrganisationKind.KOMMUNALFORBUND: (DecisionRoute.DECISION_WITH_POSTING, DecisionRoute.DELEGATION),
}


def routes_for(kind: str) -> tuple[DecisionRoute, ...]:
    """The routes open to a party of ``kind``, the default first."""
    return ROUTES_BY_KIND.get(kind, (DecisionRoute.SIGNED_AGREEMENT,))


class Agreement(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(32), default=AgreementStatus.DRAFT)
    coordinator_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Follow-up every interval from activation (ISO 8601 duration); expiry notice before the end date.
    follow_up_interval: Mapped[str] = mapped_column(String(20), default="P1Y")
    expiry_notice_days: Mapped[int] = mapped_column(default=90)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreement_versions.id", use_alter=True, name="fk_agreements_current_version_id"))
    lifecycle_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)

    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementParty.id")
    versions: Mapped[list[AgreementVersion]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementVersion.number",
        foreign_keys="AgreementVersion.agreement_id")
    current_version: Mapped[AgreementVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)
    coordinator_organisation: Mapped[Organisation] = relationship()
    lifecycle_instance: Mapped[ProcessInstance | None] = relationship(
        foreign_keys=[lifecycle_instance_id], backref=backref("lifecycle_of", uselist=False))

    @property
    def status_label(self) -> str:
        version = self.latest_version
        if self.status == AgreementStatus.AWAITING_DECISIONS and version is not None and version.awaits_final:
            return _(AWAITING_FINAL_LABEL)
        starts = self.current_version.valid_from if self.current_version is not None else None
        if self.status == AgreementStatus.ADOPTED and starts is not None:
            return _(ADOPTED_FROM_LABEL, day=starts.isoformat())
        upcoming = self.upcoming_version
        if upcoming is not None and upcoming.valid_from is not None:
            return _(AMENDED_FROM_LABEL, number=upcoming.number, day=upcoming.valid_from.isoformat())
        return _(STATUS_LABELS[AgreementStatus(self.status)])

    @property
    def latest_version(self) -> AgreementVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def upcoming_version(self) -> AgreementVersion | None:
        """An amendment adopted by every party whose start date lies ahead: the current version applies until then."""
        version = self.latest_version
        if version is None or version.status != VersionStatus.ADOPTED or self.current_version_id in (None, version.id):
            return None
        return version

    @property
    def appeal_note(self) -> str:
        """What appeals do to the status: decisions överklagade, or parties' adoptions set aside (appeals.py)."""
        from service.agreements.appeals import appeal_note

        return appeal_note(self)

    def has_party(self, organisation_id: int) -> bool:
        return any(p.organisation_id == organisation_id for p in self.parties)

    @property
    def bound_parties(self) -> list[AgreementParty]:
        """The parties still bound: all but those whose notice period has run out (service/agreements/leaving.py)."""
        return [party for party in self.parties if not party.has_left]


class AgreementParty(db.Model):  # type: ignore[name-defined,misc]
    """A party to the agreement, with the diarienummer of the case in its own registry."""

    __tablename__ = "agreement_parties"
    __table_args__ = (UniqueConstraint("agreement_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    diarienummer: Mapped[str] = mapped_column(String(50), default="")
    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()
    leaving: Mapped[PartyLeaving | None] = relationship(back_populates="party", cascade="all, delete-orphan",
                                                        uselist=False)

    @property
    def has_left(self) -> bool:
        return self.leaving is not None and self.leaving.left_at is not None


class AgreementVersion(db.Model):  # type: ignore[name-defined,misc]
    """One text of the agreement. ``sections`` maps a checklist key to {text, responsible, due}."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(32), default=VersionStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(300))
    sections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    motivation: Mapped[str] = mapped_column(Text, default="")  # why an amendment is proposed
    # Uppsägningstid: a party that leaves stays bound this many months after its notice (None: not stated).
    notice_months: Mapped[int | None] = mapped_column()
    # Uppföljning: how often (ISO 8601 duration; None: the agreement's follow_up_interval), by whom (a party's
    # steering group members, or one named person), and the date the text is revised at the latest.
    follow_up_interval: Mapped[str | None] = mapped_column(String(20))
    follow_up_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    follow_up_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_by: Mapped[date | None] = mapped_column(Date)
    # Bodies that recommend the text to their members first, in order (e.g. VästKom, then GR).
    recommender_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    adoption_round: Mapped[int] = mapped_column(default=0)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    adopted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    agreement: Mapped[Agreement] = relationship(back_populates="versions", foreign_keys=[agreement_id])
    # The backref gives hooks ``instance.agreement_version``, loaded once per session.
    instance: Mapped[ProcessInstance | None] = relationship(backref=backref("agreement_version", uselist=False))
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Decision.id")
    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Recommendation.id")
    comments: Mapped[list[ConsultationComment]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="ConsultationComment.id")
    receipts: Mapped[list[ProposalReceipt]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="ProposalReceipt.id")

    @property
    def status_label(self) -> str:
        if self.awaits_final:
            return _(AWAITING_FINAL_LABEL)
        return _(VERSION_STATUS_LABELS[VersionStatus(self.status)])

    @property
    def awaits_final(self) -> bool:
        """Every party has adopted this version; it waits only for the decisions to become final (laga kraft)."""
        if self.status != VersionStatus.AWAITING_DECISIONS or not self.agreement.parties:
            return False
        adopted = {d.organisation_id for d in self.current_decisions() if d.outcome in ADOPTING_OUTCOMES}
        return all(party.organisation_id in adopted for party in self.agreement.bound_parties)

    @property
    def final_expected_after(self) -> date | None:
        """The last day to appeal the last decision not yet final, once every such decision is posted."""
        days = [d.last_appeal_day for d in self.current_decisions() if d.stage != DecisionStage.FINAL]
        return max(day for day in days if day) if days and all(days) else None

    @property
    def is_frozen(self) -> bool:
        return self.status in FROZEN_VERSION_STATUSES

    def text_of(self, key: str) -> str:
        return str((self.sections.get(key) or {}).get("text") or "")

    def current_decisions(self) -> list[Decision]:
        """The current round's decisions on the matter. A bordläggning postpones the matter and is no decision on
        it (the decide task stays open): see current_tablings."""
        return [d for d in self.decisions
                if d.adoption_round == self.adoption_round and d.outcome != DecisionOutcome.TABLED]

    def current_tablings(self) -> list[Decision]:
        """The current round's bordläggningar, in the order recorded."""
        return [d for d in self.decisions
                if d.adoption_round == self.adoption_round and d.outcome == DecisionOutcome.TABLED]

    def current_receipts(self) -> list[ProposalReceipt]:
        return [r for r in self.receipts if r.adoption_round == self.adoption_round]


@event.listens_for(AgreementVersion, "before_update")
def _refuse_changes_to_adopted_text(mapper: Any, connection: Any, version: AgreementVersion) -> None:
    """The adopted text is immutable: a change is a new version (enforced for every code path)."""
    state = db.inspect(version)
    was_frozen = state.attrs.status.history.deleted or [version.status]
    if was_frozen[0] in FROZEN_VERSION_STATUSES:
        for name in ("title", "sections", "valid_from", "valid_until", "notice_months", "follow_up_interval",
                     "follow_up_organisation_id", "follow_up_user_id", "review_by"):
            if state.attrs[name].history.has_changes():
                raise ValueError(f"version {version.number} of agreement {version.agreement_id} is adopted: {name} is frozen")


class Decision(db.Model):  # type: ignore[name-defined,misc]
    """A party's authorised body's decision on one version, followed through to laga kraft."""

    __tablename__ = "agreement_decisions"
    __table_args__ = (UniqueConstraint("version_id", "adoption_round", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    adoption_round: Mapped[int]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    body_id: Mapped[int] = mapped_column(ForeignKey("authorised_bodies.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16), default=DecisionStage.DECIDED)
    route: Mapped[str] = mapped_column(String(32), default=DecisionRoute.DECISION_WITH_POSTING)
    decided_on: Mapped[date] = mapped_column(Date)
    paragraph: Mapped[str] = mapped_column(String(20))
    diarienummer: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text, default="")
    minutes_approved_on: Mapped[date | None] = mapped_column(Date)  # justerat
    posted_on: Mapped[date | None] = mapped_column(Date)  # anslaget
    appealed_on: Mapped[date | None] = mapped_column(Date)
    final_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # laga kraft, or applies (other routes)
    delegate: Mapped[str] = mapped_column(String(200), default="")  # route delegation: who decided (befattning)
    delegation_reference: Mapped[str] = mapped_column(String(100), default="")  # punkt i delegationsordningen
    signatory: Mapped[str] = mapped_column(String(200), default="")  # route signed_agreement: who signed
    # The decision's documents (inbox attachments of the decide task): tjänsteskrivelse, protokollsutdrag.
    report_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_attachments.id"))
    extract_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_attachments.id"))
    # KL 8 kap. 12 § limits the justering or the anslag missed: [{"rule", "last_day", "on"}] (warnings only).
    deadline_warnings: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    version: Mapped[AgreementVersion] = relationship(back_populates="decisions")
    organisation: Mapped[Organisation] = relationship()
    body: Mapped[AuthorisedBody] = relationship()

    @property
    def outcome_label(self) -> str:
        return _(OUTCOME_LABELS[DecisionOutcome(self.outcome)])

    @property
    def is_adopting(self) -> bool:
        """Antaget, godkänt or ställer sig bakom: the party adopts the agreement, in the body's own words."""
        return self.outcome in ADOPTING_OUTCOMES

    @property
    def stage_label(self) -> str:
        if self.stage == DecisionStage.POSTED and self.posted_on:
            return _("Justerat; justeringen anslagen %(date)s", date=self.posted_on.isoformat())
        if self.stage == DecisionStage.FINAL and not self.is_posted_route:
            return _(APPLIES_FOR_PARTY_LABEL)
        return _(STAGE_LABELS[DecisionStage(self.stage)])

    @property
    def route_label(self) -> str:
        return _(ROUTE_LABELS[DecisionRoute(self.route)])

    @property
    def is_posted_route(self) -> bool:
        """Justering, anslag and an appeal period follow this decision (the other routes apply at once)."""
        return self.route == DecisionRoute.DECISION_WITH_POSTING

    @property
    def last_appeal_day(self) -> date | None:
        """Sista dag för överklagande: three weeks from the anslag, moved by lag (1930:173) (KL 13 kap. 6 §)."""
        return last_day_of_period(self.posted_on, APPEAL_PERIOD_DAYS) if self.posted_on else None


class ProposalReceipt(db.Model):  # type: ignore[name-defined,misc]
    """A party's registration of the proposal on arrival (its diarienummer, the day it came in), and the
    preparation (beredning, e.g. in an arbetsutskott) if any: neither starts an appeal period."""

    __tablename__ = "agreement_proposal_receipts"
    __table_args__ = (UniqueConstraint("version_id", "adoption_round", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    adoption_round: Mapped[int]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    diarienummer: Mapped[str] = mapped_column(String(50))
    received_on: Mapped[date] = mapped_column(Date)
    prepared_by: Mapped[str] = mapped_column(String(200), default="")  # e.g. kommunstyrelsens arbetsutskott
    prepared_on: Mapped[date | None] = mapped_column(Date)
    prepared_paragraph: Mapped[str] = mapped_column(String(20), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    version: Mapped[AgreementVersion] = relationship(back_populates="receipts")
    organisation: Mapped[Organisation] = relationship()


class Recommendation(db.Model):  # type: ignore[name-defined,misc]
    """A recommendation to the members (e.g. VästKom's board, then a kommunalförbund), before they decide."""

    __tablename__ = "agreement_recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    adoption_round: Mapped[int]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    body_id: Mapped[int] = mapped_column(ForeignKey("authorised_bodies.id"))
    recommends: Mapped[bool]
    decided_on: Mapped[date] = mapped_column(Date)
    paragraph: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    version: Mapped[AgreementVersion] = relationship(back_populates="recommendations")
    organisation: Mapped[Organisation] = relationship()
    body: Mapped[AuthorisedBody] = relationship()


class ConsultationComment(db.Model):  # type: ignore[name-defined,misc]
    """A party's remiss comment on one section (``section_key`` "" is a general comment)."""

    __tablename__ = "agreement_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    adoption_round: Mapped[int]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    section_key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    version: Mapped[AgreementVersion] = relationship(back_populates="comments")
    organisation: Mapped[Organisation] = relationship()


class FollowUp(db.Model):  # type: ignore[name-defined,misc]
    """The steering group's periodic follow-up of an agreement, with the period's deviation and dispute counts."""

    __tablename__ = "agreement_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    deviations_count: Mapped[int]
    disputes_count: Mapped[int]
    process_indicators: Mapped[str] = mapped_column(Text)
    result_indicators: Mapped[str] = mapped_column(Text)
    user_influence: Mapped[str] = mapped_column(Text, default="")
    action_plan: Mapped[str] = mapped_column(Text)
    amendment_version_id: Mapped[int | None] = mapped_column(ForeignKey("agreement_versions.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class AgreementDrafter(db.Model):  # type: ignore[name-defined,misc]
    """A member of an agreement's drafting group (skrivgrupp): a case officer of one of the parties who may
    work on the draft and the revision alongside the coordinator's group."""

    __tablename__ = "agreement_drafters"
    __table_args__ = (UniqueConstraint("agreement_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    user = relationship("User", foreign_keys=[user_id])
    organisation = relationship("Organisation")


class PartyLeaving(db.Model):  # type: ignore[name-defined,misc]
    """Uppsägning: one party's decision, by its behörig instans, to leave the agreement (or, ``is_joint``, to end it
    together with every other party). The party stays bound until ``bound_until`` (the notice period the agreement
    states, counted from ``notified_on``); ``left_at`` is set when that day has ended."""

    __tablename__ = "agreement_party_leavings"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("agreement_parties.id"), unique=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("authorised_bodies.id"))
    decided_on: Mapped[date] = mapped_column(Date)
    paragraph: Mapped[str] = mapped_column(String(20))
    diarienummer: Mapped[str] = mapped_column(String(50))
    notified_on: Mapped[date] = mapped_column(Date)  # the other parties were told (the notice period starts)
    notice_months: Mapped[int] = mapped_column(default=0)
    bound_until: Mapped[date] = mapped_column(Date)
    is_joint: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    party: Mapped[AgreementParty] = relationship(back_populates="leaving")
    body: Mapped[AuthorisedBody] = relationship()
