"""Organisations (huvudmän and others), their authorised bodies, people and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import gettext as _
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from service.columns import UtcDateTime, now
from service.extensions import db


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "mark only")
    """Mark a label for the message catalogue; templates translate it when shown (``_(label)``)."""
    return message


class OrganisationKind(StrEnum):
    KOMMUN = "kommun"
    REGION = "region"
    KOMMUNALFORBUND = "kommunalforbund"
    STATE_AUTHORITY = "state_authority"  # e.g. Kriminalvården: signs agreements, posts nothing on an anslagstavla
    PRIVATE_PROVIDER = "private_provider"  # e.g. a vårdcentral in private management
    OTHER = "other"


ORGANISATION_KIND_LABELS = {
    OrganisationKind.KOMMUN: N_("Kommun"),
    OrganisationKind.REGION: N_("Region"),
    OrganisationKind.KOMMUNALFORBUND: N_("Kommunalförbund"),
    OrganisationKind.STATE_AUTHORITY: N_("Statlig myndighet"),
    OrganisationKind.PRIVATE_PROVIDER: N_("Privat vårdgivare eller utförare"),
    OrganisationKind.OTHER: N_("Annan organisation"),
}


class Role(StrEnum):
    CASE_OFFICER = "case_officer"
    MANAGER = "manager"
    DEVIATION_CONTACT = "deviation_contact"
    STEERING_GROUP_MEMBER = "steering_group_member"
    BODY_SECRETARY = "body_secretary"
    PROCESS_OWNER = "process_owner"
    AUDITOR = "auditor"
    ADMIN = "admin"
    DEVIATION_COORDINATOR = "deviation_coordinator"
    ANALYSIS_GROUP_MEMBER = "analysis_group_member"
    COUNTY_BODY_MEMBER = "county_body_member"
    SENIOR_MANAGER = "senior_manager"


ROLE_LABELS = {
    Role.CASE_OFFICER: N_("Handläggare"),
    Role.MANAGER: N_("Chef"),
    Role.DEVIATION_CONTACT: N_("Avvikelsekontakt"),
    Role.STEERING_GROUP_MEMBER: N_("Styrgruppsledamot"),
    # Registers the decisions of the party's authorised body (behörig instans).
    Role.BODY_SECRETARY: N_("Sekreterare (behörig instans)"),
    Role.PROCESS_OWNER: N_("Processägare"),
    Role.AUDITOR: N_("Granskare"),
    Role.ADMIN: N_("Administratör"),
    # Sees all of the party's deviation reports, sent and received.
    Role.DEVIATION_COORDINATOR: N_("Avvikelsesamordnare"),
    Role.ANALYSIS_GROUP_MEMBER: N_("Analysgrupp"),
    # The county collaboration body (länsnivå), last level of a dispute.
    Role.COUNTY_BODY_MEMBER: N_("Länsnivå"),
    # The next management level up in a party's line organisation (förvaltningschef): level 1's second round.
    Role.SENIOR_MANAGER: N_("Överordnad chef"),
}


# Lane names that keep naming a role after its label changed (issue #19: "Sekreterare (behörig instans)"),
# so that diagrams deployed with either name run.
LANE_ALIASES = {"nämndsekreterare": Role.BODY_SECRETARY, "sekreterare (behörig instans)": Role.BODY_SECRETARY}


def role_for_lane(lane: str) -> Role | None:
    """The role a BPMN lane names: its role code, its Swedish label or an alias, case-insensitive."""
    wanted = lane.strip().casefold()
    for role in Role:
        if wanted in (role.value, ROLE_LABELS[role].casefold()):
            return role
    return LANE_ALIASES.get(wanted)


def role_lane_names() -> list[str]:
    """Every lane name ``role_for_lane`` accepts (casefolded): the modeller's and the deploy's lint check lanes by it."""
    names = {name for role in Role for name in (role.value, ROLE_LABELS[role].casefold())}
    return sorted(names | set(LANE_ALIASES))


class Organisation(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    org_number: Mapped[str | None] = mapped_column(String(16))
    bodies: Mapped[list[AuthorisedBody]] = relationship(
        back_populates="organisation", order_by="AuthorisedBody.name")

    @property
    def kind_label(self) -> str:
        return _(ORGANISATION_KIND_LABELS[OrganisationKind(self.kind)])


class AuthorisedBody(db.Model):  # type: ignore[name-defined,misc]
    """Behörig instans: the body inside a party that may adopt a decision (e.g. kommunstyrelsen)."""

    __tablename__ = "authorised_bodies"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[Organisation] = relationship(back_populates="bodies")


class OrganisationMembership(db.Model):  # type: ignore[name-defined,misc]
    """An organisation's membership of an association: a kommun in its kommunalförbund (GR) and in VästKom.

    The association recommends decisions to its members; it never decides for them (DOMAIN.md)."""

    __tablename__ = "organisation_memberships"
    __table_args__ = (UniqueConstraint("member_id", "association_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    member: Mapped[Organisation] = relationship(foreign_keys=[member_id])
    association: Mapped[Organisation] = relationship(foreign_keys=[association_id])


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"
    # One person per identity at an OpenID Connect provider (issuer + subject), see service/auth/oidc.py.
    __table_args__ = (UniqueConstraint("external_issuer", "external_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    external_issuer: Mapped[str | None] = mapped_column(String(255))
    external_subject: Mapped[str | None] = mapped_column(String(255))
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.password_changed_at = now()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.is_enabled

    def has_role(self, organisation_id: int, role: Role) -> bool:
        return any(m.organisation_id == organisation_id and m.role == role for m in self.memberships)

    def groups(self) -> set[tuple[int, str]]:
        """Every (organisation id, role) this person holds: the task groups they see."""
        return {(m.organisation_id, m.role) for m in self.memberships}


class Membership(db.Model):  # type: ignore[name-defined,misc]
    """User × organisation × role. A user may belong to several organisations."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", "role"),
        Index("ix_memberships_organisation_role", "organisation_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(40))
    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()

    @property
    def role_label(self) -> str:
        return _(ROLE_LABELS[Role(self.role)])
