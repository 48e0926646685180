"""Who sees which dispute, and the lists the pages show. A dispute is visible to the parties' managers and
steering group members, the agreement's steering group, and the county body once it has reached it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from service.bodies.models import BodyMember
from service.disputes.models import Dispute, DisputeLevel, DisputeParty
from service.extensions import db
from service.parties.models import Organisation, Role, User

PARTY_ROLES = frozenset({Role.MANAGER, Role.SENIOR_MANAGER, Role.STEERING_GROUP_MEMBER})


def can_view_dispute(user: User, dispute: Dispute) -> bool:
    """Whether ``user`` may see the dispute (see the module docstring)."""
    roles = {(m.organisation_id, m.role) for m in user.memberships}
    parties = set(dispute.party_ids())
    return (any(org in parties and role in PARTY_ROLES for org, role in roles)
            or (dispute.steering_organisation_id, Role.STEERING_GROUP_MEMBER) in roles
            or ((dispute.county_organisation_id, Role.COUNTY_BODY_MEMBER) in roles and _has_reached_county(dispute))
            or ((dispute.instruction_organisation_id, Role.CASE_OFFICER) in roles and dispute.needs_instruction)
            or _member_of_deciding_body(user, dispute))


def _member_of_deciding_body(user: User, dispute: Dispute) -> bool:
    """The members of the joint body that decides (or decided) the dispute at its level (issue #20)."""
    bodies = [dispute.steering_body_id if dispute.level != DisputeLevel.LINE else None,
              dispute.county_body_id if dispute.level == DisputeLevel.COUNTY else None]
    wanted = [body_id for body_id in bodies if body_id is not None]
    return bool(wanted) and db.session.scalar(select(BodyMember.id).where(
        BodyMember.body_id.in_(wanted), BodyMember.user_id == user.id).limit(1)) is not None


def _has_reached_county(dispute: Dispute) -> bool:
    return dispute.level == DisputeLevel.COUNTY


def list_disputes_for(user: User) -> list[Dispute]:
    """The disputes ``user`` may see, newest first."""
    organisations = {m.organisation_id for m in user.memberships}
    of_party = select(DisputeParty.dispute_id).where(DisputeParty.organisation_id.in_(organisations))
    my_bodies = select(BodyMember.body_id).where(BodyMember.user_id == user.id)
    candidates = db.session.scalars(select(Dispute).where(or_(
        Dispute.id.in_(of_party), Dispute.steering_body_id.in_(my_bodies), Dispute.county_body_id.in_(my_bodies),
        Dispute.steering_organisation_id.in_(organisations),
        Dispute.county_organisation_id.in_(organisations), Dispute.instruction_organisation_id.in_(organisations)))
        .order_by(Dispute.opened_at.desc(), Dispute.id.desc()))
    return [dispute for dispute in candidates if can_view_dispute(user, dispute)]


def list_disputes_of_deviation(deviation_id: int) -> list[Dispute]:
    """Disputes opened after a deviation's analysis."""
    return list(db.session.scalars(select(Dispute).where(Dispute.deviation_id == deviation_id).order_by(Dispute.id)))


def list_manager_organisations(user: User) -> list[Organisation]:
    """The parties ``user`` is a manager of: the ones they can open a dispute for."""
    found = {m.organisation_id: m.organisation for m in user.memberships if m.role == Role.MANAGER}
    return sorted(found.values(), key=lambda o: o.name)


def list_instructions(agreement_id: int, since: datetime | None = None) -> list[Dispute]:
    """The agreement's disputes settled with a common instruction (its routines), oldest first; ``since``: written
    after that moment (what the next follow-up takes up)."""
    query = select(Dispute).where(Dispute.agreement_id == agreement_id, Dispute.instruction_written_at.is_not(None))
    if since is not None:
        query = query.where(Dispute.instruction_written_at > since)
    return list(db.session.scalars(query.order_by(Dispute.instruction_written_at, Dispute.id)))
