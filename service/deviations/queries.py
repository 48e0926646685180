"""Who sees which deviation, and the lists the pages show. A deviation is visible only to the parties involved:
the reporter, the deviation roles of the reporting and receiving parties, and the analysis group reviewing it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from service.agreements.models import Agreement, AgreementParty
from service.deviations.models import Deviation, DeviationReceiver
from service.extensions import db
from service.parties.models import Organisation, Role, User

# Roles that see their party's deviations, sent and received (the coordinator exists for exactly this).
PARTY_ROLES = frozenset({Role.DEVIATION_COORDINATOR, Role.DEVIATION_CONTACT, Role.MANAGER})
LIST_LIMIT = 500


def can_view_deviation(user: User, deviation: Deviation) -> bool:
    """Whether ``user`` may see the deviation (see the module docstring)."""
    if deviation.reported_by_id == user.id:
        return True
    involved = deviation.organisation_ids()
    return any((m.organisation_id in involved and m.role in PARTY_ROLES)
               or (m.organisation_id == deviation.analysis_organisation_id and m.role == Role.ANALYSIS_GROUP_MEMBER)
               for m in user.memberships)


def party_organisation_ids(user: User) -> set[int]:
    """The parties whose deviations ``user`` sees in full."""
    return {m.organisation_id for m in user.memberships if m.role in PARTY_ROLES}


def list_deviations_for(user: User, organisation_id: int | None = None) -> list[Deviation]:
    """The deviations ``user`` may see, newest first; with ``organisation_id``, those that party sent or received."""
    parties = party_organisation_ids(user)
    analysis = {m.organisation_id for m in user.memberships if m.role == Role.ANALYSIS_GROUP_MEMBER}
    received = select(DeviationReceiver.deviation_id).where(DeviationReceiver.organisation_id.in_(parties))
    visible = or_(Deviation.reported_by_id == user.id, Deviation.reporting_organisation_id.in_(parties),
                  Deviation.id.in_(received), Deviation.analysis_organisation_id.in_(analysis))
    query = select(Deviation).where(visible)
    if organisation_id is not None:
        of_party = select(DeviationReceiver.deviation_id).where(DeviationReceiver.organisation_id == organisation_id)
        query = query.where(or_(Deviation.reporting_organisation_id == organisation_id, Deviation.id.in_(of_party)))
    return list(db.session.scalars(query.order_by(Deviation.reported_at.desc(), Deviation.id.desc()).limit(LIST_LIMIT)))


def case_number_for(deviation: Deviation, organisation_id: int | None) -> str:
    """The number ``organisation_id`` uses for the deviation: the case's own, which every party shares (issue #18)."""
    receiver = deviation.receiver_for(organisation_id) if organisation_id is not None else None
    return receiver.case_number if receiver is not None else deviation.case_number


def list_agreements_of(organisation_ids: Iterable[int]) -> list[Agreement]:
    """Agreements these organisations are parties to, by title (agreements/ is read through its parties only)."""
    ids = db.session.scalars(select(AgreementParty.agreement_id)
                             .where(AgreementParty.organisation_id.in_(list(organisation_ids))).distinct()).all()
    found = [db.session.get(Agreement, agreement_id) for agreement_id in ids]
    return sorted((a for a in found if a is not None), key=lambda a: a.title)


def get_agreement_of(deviation: Deviation) -> Agreement | None:
    return db.session.get(Agreement, deviation.agreement_id) if deviation.agreement_id is not None else None


def can_view_agreement_statistics(user: User, agreement: Agreement) -> bool:
    """Members of the coordinating organisation or of any party see the agreement's statistics."""
    organisations = {m.organisation_id for m in user.memberships}
    return agreement.coordinator_organisation_id in organisations or any(
        p.organisation_id in organisations for p in agreement.parties)


def list_organisations() -> list[Organisation]:
    """Every organisation, by name (the choices of a receiving party or counterparty)."""
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def list_user_organisations(user: User) -> list[Organisation]:
    """The organisations ``user`` belongs to, by name."""
    return sorted({m.organisation_id: m.organisation for m in user.memberships}.values(), key=lambda o: o.name)
