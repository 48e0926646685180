"""Reading parties: which organisations are members of which associations (kommunalförbund, VästKom)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from service.extensions import db
from service.parties.models import Organisation, OrganisationMembership


def list_associations(organisation_id: int) -> list[Organisation]:
    """The associations (kommunalförbund, VästKom) ``organisation_id`` is a member of, by name."""
    return list(db.session.scalars(select(Organisation).join(
        OrganisationMembership, OrganisationMembership.association_id == Organisation.id).where(
        OrganisationMembership.member_id == organisation_id).order_by(Organisation.name)))


def list_members(association_id: int) -> list[Organisation]:
    """The members of an association, by name."""
    return list(db.session.scalars(select(Organisation).join(
        OrganisationMembership, OrganisationMembership.member_id == Organisation.id).where(
        OrganisationMembership.association_id == association_id).order_by(Organisation.name)))


def member_pairs(member_ids: Iterable[int], association_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(member id, association id) of every membership between the two sets, in one query."""
    rows = db.session.execute(select(OrganisationMembership.member_id, OrganisationMembership.association_id).where(
        OrganisationMembership.member_id.in_(list(member_ids)),
        OrganisationMembership.association_id.in_(list(association_ids))))
    return {(member, association) for member, association in rows}
