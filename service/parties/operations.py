"""Admin changes to organisations, authorised bodies, users and memberships; each checked and audited."""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from service.audit import operations as audit
from service.auth.operations import password_errors
from service.auth.sessions import revoke_user_sessions
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import AuthorisedBody, Membership, Organisation, OrganisationMembership, Role, User
from service.parties.validation import normalise_org_number, organisation_errors, user_errors


def load_user(user_id: int) -> User | None:
    """The signed-in person with their memberships, in one statement: every request asks what they may do."""
    return db.session.get(User, user_id, options=[joinedload(User.memberships)])


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(_("Formuläret innehåller fel. Inget har sparats."), errors)


def create_organisation(name: str, kind: str, org_number: str, *, by: User) -> Organisation:
    """Add an organisation (a party or another participant)."""
    name, org_number = name.strip(), org_number.strip()
    _refuse(organisation_errors(name, kind, org_number))
    organisation = Organisation(name=name, kind=kind, org_number=normalise_org_number(org_number) if org_number else None)
    db.session.add(organisation)
    db.session.flush()
    audit.record(by, "organisation.created", organisation, name=name, kind=kind, org_number=organisation.org_number)
    return organisation


def update_organisation(organisation: Organisation, name: str, kind: str, org_number: str, *, by: User) -> None:
    """Change an organisation's name, kind or organisation number."""
    name, org_number = name.strip(), org_number.strip()
    _refuse(organisation_errors(name, kind, org_number, current=organisation))
    before = {"name": organisation.name, "kind": organisation.kind, "org_number": organisation.org_number}
    organisation.name, organisation.kind = name, kind
    organisation.org_number = normalise_org_number(org_number) if org_number else None
    audit.record(by, "organisation.updated", organisation, before=before,
                 after={"name": name, "kind": kind, "org_number": organisation.org_number})
    db.session.flush()


def add_body(organisation: Organisation, name: str, *, by: User) -> AuthorisedBody:
    """Add an authorised body (behörig instans) to an organisation."""
    name = name.strip()
    if not 2 <= len(name) <= 200:
        _refuse({"body_name": [_("Ange ett namn (2–200 tecken).")]})
    if any(b.name.lower() == name.lower() for b in organisation.bodies):
        _refuse({"body_name": [_("Organisationen har redan en instans med det namnet.")]})
    body = AuthorisedBody(name=name)
    organisation.bodies.append(body)
    db.session.flush()
    audit.record(by, "authorised_body.created", body, organisation_id=organisation.id, name=name)
    return body


def create_user(fields: dict[str, str], *, by: User) -> User:
    """Create a local account; ``fields``: username, display_name, email, password, repeat_password."""
    username, display_name = fields.get("username", "").strip(), fields.get("display_name", "").strip()
    email = fields.get("email", "").strip()
    errors = user_errors(username, display_name, email)
    errors.update(password_errors(fields.get("password", ""), fields.get("repeat_password", ""), "password", "repeat_password"))
    _refuse(errors)
    user = User(username=username, display_name=display_name, email=email or None)
    user.set_password(fields["password"])
    db.session.add(user)
    db.session.flush()
    audit.record(by, "user.created", user, username=username, display_name=display_name)
    return user


def set_user_enabled(user: User, is_enabled: bool, *, by: User) -> None:
    """Enable or disable an account (a disabled one cannot log in; its history stays)."""
    if user.id == by.id and not is_enabled:
        _refuse({"is_enabled": [_("Du kan inte stänga av ditt eget konto.")]})
    user.is_enabled = is_enabled
    if not is_enabled:
        revoke_user_sessions(user)  # signed-in browsers lose access now, not when their cookie expires
    audit.record(by, "user.enabled" if is_enabled else "user.disabled", user)
    db.session.flush()


def reset_password(user: User, *, by: User) -> str:
    """Give an account a new random password, shown once to the admin who hands it over."""
    password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    user.set_password(password)
    revoke_user_sessions(user)
    audit.record(by, "user.password_reset", user)
    db.session.flush()
    return password


def link_external_identity(user: User, issuer: str, subject: str, *, by: User) -> None:
    """Link (or with empty values unlink) an account to an OpenID Connect identity."""
    issuer, subject = issuer.strip(), subject.strip()
    if bool(issuer) != bool(subject):
        _refuse({"external_subject": [_("Ange både utfärdare och subjekt, eller inget av dem.")]})
    taken = db.session.scalar(select(User).where(User.external_issuer == issuer, User.external_subject == subject))
    if issuer and taken is not None and taken.id != user.id:
        _refuse({"external_subject": [_("Identiteten är redan kopplad till %(name)s.", name=taken.display_name)]})
    user.external_issuer, user.external_subject = issuer or None, subject or None
    audit.record(by, "user.identity_linked", user, issuer=issuer, external_subject=subject)
    db.session.flush()


def add_membership(user: User, organisation_id: Any, role: str, *, by: User) -> Membership:
    """Give a user a role in an organisation."""
    organisation = db.session.get(Organisation, organisation_id) if str(organisation_id).isdigit() else None
    errors: dict[str, list[str]] = {}
    if organisation is None:
        errors["organisation_id"] = [_("Välj en organisation.")]
    if role not in {r.value for r in Role}:
        errors["role"] = [_("Välj en roll.")]
    _refuse(errors)
    assert organisation is not None
    if user.has_role(organisation.id, Role(role)):
        _refuse({"role": [_("Personen har redan den rollen i organisationen.")]})
    membership = Membership(organisation=organisation, role=role)
    user.memberships.append(membership)
    db.session.flush()
    audit.record(by, "membership.added", user, organisation_id=organisation.id, role=role)
    return membership


def remove_membership(membership: Membership, *, by: User) -> None:
    """Take a role in an organisation away from a user."""
    if membership.user_id == by.id and membership.role == Role.ADMIN and _admin_count() <= 1:
        _refuse({"membership": [_("Den sista administratören kan inte ta bort sin egen roll.")]})
    audit.record(by, "membership.removed", membership.user, organisation_id=membership.organisation_id, role=membership.role)
    membership.user.memberships.remove(membership)
    db.session.flush()


def _admin_count() -> int:
    return int(db.session.scalar(select(func.count(func.distinct(Membership.user_id))).where(Membership.role == Role.ADMIN)) or 0)


def add_association_membership(member: Organisation, association: Organisation, *, by: User | None) -> None:
    """Record that ``member`` belongs to ``association`` (a kommun in its kommunalförbund, or in VästKom)."""
    if member.id == association.id:
        _refuse({"association": [_("En organisation kan inte vara medlem i sig själv.")]})
    if db.session.scalar(select(OrganisationMembership.id).where(
            OrganisationMembership.member_id == member.id, OrganisationMembership.association_id == association.id)):
        _refuse({"association": [_("%(member)s är redan medlem i %(association)s.", member=member.name,
                                   association=association.name)]})
    db.session.add(OrganisationMembership(member_id=member.id, association_id=association.id))
    db.session.flush()
    audit.record(by, "organisation.membership_added", member, association_id=association.id)


def remove_association_membership(member: Organisation, association: Organisation, *, by: User | None) -> None:
    """End ``member``'s membership of ``association``; recommendations already given stay as they were."""
    found = db.session.scalar(select(OrganisationMembership).where(
        OrganisationMembership.member_id == member.id, OrganisationMembership.association_id == association.id))
    if found is None:
        _refuse({"association": [_("%(member)s är inte medlem i %(association)s.", member=member.name,
                                   association=association.name)]})
    db.session.delete(found)
    db.session.flush()
    audit.record(by, "organisation.membership_removed", member, association_id=association.id)
