"""The Västra Götaland demo: organisations, authorised bodies and users with their roles."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from service.extensions import db
from service.parties.models import (
    ROLE_LABELS,
    AuthorisedBody,
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationMembership,
    Role,
    User,
)

ORGANISATIONS = {
    "Västra Götalandsregionen": (OrganisationKind.REGION, ["Regionstyrelsen", "Hälso- och sjukvårdsstyrelsen"]),
    "Göteborgs Stad": (OrganisationKind.KOMMUN, ["Kommunstyrelsen", "Socialnämnden Centrum"]),
    "Alingsås kommun": (OrganisationKind.KOMMUN, ["Kommunstyrelsen", "Socialnämnden"]),
    "Lerums kommun": (OrganisationKind.KOMMUN, ["Kommunstyrelsen", "Socialnämnden"]),
    "Göteborgsregionen (GR)": (OrganisationKind.KOMMUNALFORBUND, ["Förbundsstyrelsen"]),
    # Västsvenska kommunförbundens samorganisation: every kommun in the county (seeds 000, 001).
    "VästKom": (OrganisationKind.OTHER, ["VästKoms styrelse"]),
    "Vårdsamverkan Västra Götaland": (OrganisationKind.OTHER, []),  # the county level of the dispute ladder
}

# Who recommends to whom (seeds 000, 001): GR and VästKom recommend to their member kommuner; the region is a
# member of neither.
ASSOCIATION_MEMBERS = {
    "Göteborgsregionen (GR)": ["Göteborgs Stad", "Alingsås kommun", "Lerums kommun"],
    "VästKom": ["Göteborgs Stad", "Alingsås kommun", "Lerums kommun"],
}

# username: (display name, [(organisation, role)])
USERS = {
    "anna": ("Anna Lindqvist", [("Göteborgs Stad", Role.CASE_OFFICER)]),
    "goran": ("Göran Berg", [("Göteborgs Stad", Role.BODY_SECRETARY), ("Göteborgs Stad", Role.MANAGER),
                             ("Göteborgs Stad", Role.STEERING_GROUP_MEMBER)]),
    "rita": ("Rita Svensson", [("Västra Götalandsregionen", Role.BODY_SECRETARY)]),
    "rolf": ("Rolf Ek", [("Västra Götalandsregionen", Role.CASE_OFFICER), ("Västra Götalandsregionen", Role.MANAGER)]),
    "alma": ("Alma Nord", [("Alingsås kommun", Role.BODY_SECRETARY), ("Alingsås kommun", Role.CASE_OFFICER)]),
    "leo": ("Leo Holm", [("Lerums kommun", Role.BODY_SECRETARY), ("Lerums kommun", Role.DEVIATION_CONTACT)]),
    "greta": ("Greta Rask", [("Göteborgsregionen (GR)", Role.CASE_OFFICER),
                             ("Göteborgsregionen (GR)", Role.STEERING_GROUP_MEMBER)]),
    "olof": ("Olof Strand", [("Västra Götalandsregionen", Role.PROCESS_OWNER), ("Göteborgs Stad", Role.PROCESS_OWNER)]),
    "ingrid": ("Ingrid Wall", [("Västra Götalandsregionen", Role.AUDITOR)]),
    # The county level's member is no auditor: the dispute ladder's last level is real work (issue #18).
    "karin": ("Karin Ljung", [("Vårdsamverkan Västra Götaland", Role.COUNTY_BODY_MEMBER)]),
    # The next management level up (förvaltningschef) that a lifted level-1 dispute goes to (seed 003).
    "hedda": ("Hedda Lund", [("Göteborgs Stad", Role.SENIOR_MANAGER)]),
    "admin": ("Åsa Adminsson", [("Västra Götalandsregionen", Role.ADMIN)]),
}


def seed_demo(new_password: Callable[[], str]) -> dict[str, tuple[str, str]]:
    """Create what is missing and (re)set every demo user's password; return {username: (password, roles)}."""
    organisations = {name: _organisation(name, kind, bodies) for name, (kind, bodies) in ORGANISATIONS.items()}
    _memberships(organisations)
    passwords: dict[str, tuple[str, str]] = {}
    for username, (display_name, roles) in USERS.items():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=display_name, email=f"{username}@example.se")
            db.session.add(user)
        password = new_password()
        user.set_password(password)
        for organisation_name, role in roles:
            if not any(m.organisation_id == organisations[organisation_name].id and m.role == role for m in user.memberships):
                user.memberships.append(Membership(organisation=organisations[organisation_name], role=role))
        passwords[username] = (password, f"{display_name}: " + ", ".join(
            f"{role_label(role)} ({org})" for org, role in roles))
    db.session.flush()
    return passwords


def _memberships(organisations: dict[str, Organisation]) -> None:
    pairs = select(OrganisationMembership.member_id, OrganisationMembership.association_id)
    known = {(member, association) for member, association in db.session.execute(pairs)}
    for association, members in ASSOCIATION_MEMBERS.items():
        for member in members:
            pair = (organisations[member].id, organisations[association].id)
            if pair not in known:
                db.session.add(OrganisationMembership(member_id=pair[0], association_id=pair[1]))


def role_label(role: Role) -> str:
    return ROLE_LABELS[role].lower()


def _organisation(name: str, kind: OrganisationKind, bodies: list[str]) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        organisation = Organisation(name=name, kind=kind)
        db.session.add(organisation)
    for body in bodies:
        if body not in {b.name for b in organisation.bodies}:
            organisation.bodies.append(AuthorisedBody(name=body))
    db.session.flush()
    return organisation
