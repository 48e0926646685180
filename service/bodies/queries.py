"""Who sees which joint body, and the lists its pages offer (agreements, people, cases for the agenda)."""

from __future__ import annotations

from sqlalchemy import or_, select

from service import access
from service.agreements.models import Agreement, AgreementParty
from service.bodies.models import BodyMember, JointBody, Meeting, joint_body_agreements
from service.bodies.operations import case_types
from service.extensions import db
from service.parties.models import N_, Membership, Organisation, Role, User

# What a meeting may decide on a case (the case type's ``land`` reads it; a dispute: resolve or escalate).
DECISION_OUTCOMES = {
    "": N_("Beslut (utan särskilt utfall)"),
    "resolve": N_("Ärendet avgörs"),
    "resolve_with_instruction": N_("Ärendet avgörs och en gemensam instruktion ska skrivas"),
    "escalate": N_("Ärendet lyfts till nästa nivå"),
}


def coordinated_agreements(user: User) -> list[Agreement]:
    """The agreements whose coordinating organisation ``user`` is a case officer of."""
    organisations = [m.organisation_id for m in user.memberships if m.role == Role.CASE_OFFICER]
    return list(db.session.scalars(select(Agreement).where(Agreement.coordinator_organisation_id.in_(organisations))
                                   .order_by(Agreement.title)))


def manageable_agreements(user: User) -> list[Agreement]:
    """The agreements ``user`` may set bodies up for: every one for an admin, else those they coordinate."""
    if access.is_admin(user):
        return list(db.session.scalars(select(Agreement).order_by(Agreement.title)))
    return coordinated_agreements(user)


def can_view_body(user: User, body: JointBody) -> bool:
    """Members, people who see an agreement it serves, admins (who set bodies up) and auditors."""
    return (access.can_read_everything(user) or access.is_admin(user)
            or any(m.user_id == user.id for m in body.members)
            or any(access.can_view_agreement(user, a) for a in body.agreements))


def keeps_minutes(user: User, body: JointBody) -> bool:
    """The body's secretary or chair (in term today)."""
    return any(m.user_id == user.id and (m.is_secretary or m.is_chair) for m in body.members_on(access.local_today()))


def list_bodies_for(user: User) -> list[JointBody]:
    """The bodies ``user`` may see, by name."""
    if access.can_read_everything(user) or access.is_admin(user):
        return list(db.session.scalars(select(JointBody).order_by(JointBody.name)))
    organisations = {m.organisation_id for m in user.memberships}
    party_of = select(AgreementParty.agreement_id).where(AgreementParty.organisation_id.in_(organisations))
    agreements = select(Agreement.id).where(or_(Agreement.coordinator_organisation_id.in_(organisations),
                                                Agreement.id.in_(party_of)))
    serving = select(joint_body_agreements.c.body_id).where(joint_body_agreements.c.agreement_id.in_(agreements))
    member_of = select(BodyMember.body_id).where(BodyMember.user_id == user.id)
    return list(db.session.scalars(select(JointBody).where(or_(JointBody.id.in_(serving), JointBody.id.in_(member_of)))
                                   .order_by(JointBody.name)))


def member_candidates(body: JointBody) -> list[tuple[str, str]]:
    """(value "organisation_id:user_id", label) for the people of the parties and coordinators of the agreements
    the body serves (and of the county organisations already in it): whom a member may be."""
    organisations = {p.organisation_id for a in body.agreements for p in a.parties}
    organisations |= {a.coordinator_organisation_id for a in body.agreements} | {m.organisation_id for m in body.members}
    rows = db.session.execute(select(Membership.organisation_id, User.id, User.display_name, Organisation.name)
                              .join(User, User.id == Membership.user_id)
                              .join(Organisation, Organisation.id == Membership.organisation_id)
                              .where(Membership.organisation_id.in_(organisations), User.is_enabled)).all()
    found = {(org_id, user_id): f"{name} ({organisation})" for org_id, user_id, name, organisation in rows}
    return sorted(((f"{o}:{u}", label) for (o, u), label in found.items()), key=lambda pair: pair[1])


def open_cases_for(meeting: Meeting) -> list[tuple[str, str]]:
    """(value "case_type:id", title) of the cases the body may put on this meeting's agenda, from every case type's
    ``candidates`` (service/bodies/operations.register_case_type)."""
    found: list[tuple[str, str]] = []
    for name, spec in case_types().items():
        found.extend((f"{name}:{case_id}", title) for case_id, title in spec.candidates(meeting)
                     if not meeting.has_on_agenda(name, case_id))
    return found
