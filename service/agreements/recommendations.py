"""Recommendations by membership (issue #19 item 6): a förbund (GR, VästKom) recommends a version to ITS
members among the parties; it is advice, never a decision. Parties that are members of no recommending body
are not concerned (their stage is None), and nobody's decision waits for a recommendation
(bpmn/agreement_adoption.bpmn: recommendation_split runs the förbund beside the parties' decisions)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from service import audit
from service.agreements.models import AgreementVersion, Recommendation
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, Organisation, Role, User
from service.parties.queries import member_pairs


class RecommendationStage(StrEnum):
    """A party's recommendation stage in the adoption tracker."""

    AWAITED = "awaited"  # a förbund the party is a member of has not answered yet
    RECOMMENDED = "recommended"  # every such förbund recommends adoption
    NOT_RECOMMENDED = "not_recommended"  # every such förbund has answered, at least one without recommending


@dataclass(frozen=True)
class MemberRecommendation:
    """One recommending body of the version that the party is a member of, and its answer (None: not yet)."""

    association: Organisation
    recommendation: Recommendation | None


def recommendations_for(version: AgreementVersion, organisation_id: int) -> list[MemberRecommendation]:
    """What each of the version's recommending bodies that the party is a member of has recommended in the
    current round; empty when the party is a member of none of them."""
    recommender_ids = list(version.recommender_ids or [])
    mine = {association for _, association in member_pairs([organisation_id], recommender_ids)}
    given = {r.organisation_id: r for r in version.recommendations if r.adoption_round == version.adoption_round}
    return [MemberRecommendation(db.session.get_one(Organisation, association_id), given.get(association_id))
            for association_id in recommender_ids if association_id in mine]


def recommendation_for(version: AgreementVersion, organisation_id: int) -> RecommendationStage | None:
    """The party's stage "recommended" (or awaited, or not recommended) for the adoption tracker; None when
    no recommending body of the version counts the party among its members."""
    answers = [entry.recommendation for entry in recommendations_for(version, organisation_id)]
    if not answers:
        return None
    if any(answer is None for answer in answers):
        return RecommendationStage.AWAITED
    if all(answer is not None and answer.recommends for answer in answers):
        return RecommendationStage.RECOMMENDED
    return RecommendationStage.NOT_RECOMMENDED


def associations_without_members(recommenders: list[Organisation], parties: list[Organisation]) -> list[Organisation]:
    """Recommenders with no member among the parties: their recommendation would be addressed to nobody."""
    pairs = member_pairs([p.id for p in parties], [r.id for r in recommenders])
    return [r for r in recommenders if not any(association == r.id for _, association in pairs)]


def record_recommendation(version: AgreementVersion, recommendation: Recommendation, *, by: User) -> None:
    """Keep a förbund's recommendation (or its choice not to recommend) and send it to its member parties'
    secretaries; nothing else changes: the members still decide for themselves."""
    recommendation.adoption_round, recommendation.recorded_by_id = version.adoption_round, by.id
    version.recommendations.append(recommendation)
    members = member_parties(version, recommendation.organisation_id)
    audit.record(by, "agreement.recommendation_recorded", version.agreement, instance_id=version.instance_id,
                 version=version.number, organisation_id=recommendation.organisation_id,
                 recommends=recommendation.recommends, paragraph=recommendation.paragraph,
                 members=[m.id for m in members])
    _tell_members(version, recommendation, members)


def member_parties(version: AgreementVersion, association_id: int) -> list[Organisation]:
    """The parties a recommending body's recommendation goes to: its members among the agreement's parties."""
    party_ids = [p.organisation_id for p in version.agreement.parties]
    member_ids = {member for member, _ in member_pairs(party_ids, [association_id])}
    return sorted((p.organisation for p in version.agreement.parties if p.organisation_id in member_ids),
                  key=lambda organisation: organisation.name)


def _tell_members(version: AgreementVersion, recommendation: Recommendation, members: list[Organisation]) -> None:
    if not members:
        return
    secretaries = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id.in_([m.id for m in members]), Membership.role == Role.BODY_SECRETARY,
        User.is_enabled.is_(True))).unique().all()
    association = db.session.get_one(Organisation, recommendation.organisation_id)
    title = version.agreement.title
    what = ("rekommenderar sina medlemmar att anta avtalet" if recommendation.recommends
            else "lämnar ingen rekommendation om avtalet")
    notify(secretaries, NotificationKind.OTHER, f"Rekommendation från {association.name}: {title}",
           f"{association.name} {what} ”{title}” (version {version.number}, {recommendation.paragraph}, "
           f"{recommendation.decided_on.isoformat()}). Rekommendationen är ett råd; er behöriga instans beslutar "
           "själv, och beslutsuppgiften i Samverkan visar rekommendationen.", instance_id=version.instance_id)
