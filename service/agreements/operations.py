"""Changes to agreements. Adoption of each version is driven by bpmn/agreement_adoption.bpmn (hooks.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from service import audit
from service.agreements.checklist import REPLACED_BY, SECTIONS
from service.agreements.models import (
    Agreement,
    AgreementParty,
    AgreementStatus,
    AgreementVersion,
    ConsultationComment,
    Decision,
    DecisionStage,
    VersionStatus,
)
from service.columns import now
from service.errors import InvalidTransition, NotPermitted
from service.extensions import db
from service.parties.models import Organisation, Role, User
from service.processes.operations import start_process

ADOPTION_PROCESS = "agreement_adoption"
DECISION_WITHIN = "P60D"  # the overdue notice to the party's manager (decision_overdue timer)


def start_drafting(*, by: User, organisation: Organisation, title: str) -> Agreement:
    """Open a new agreement in draft and start adopting its first version with ``by`` as coordinator."""
    if not by.has_role(organisation.id, Role.CASE_OFFICER):
        raise NotPermitted("Du måste vara handläggare i organisationen för att samordna ett avtal.")
    agreement = Agreement(title=title, coordinator_organisation_id=organisation.id, created_by_id=by.id)
    db.session.add(agreement)
    version = _new_version(agreement, by, title=title, sections={}, motivation="")
    audit.record(by, "agreement.drafting_started", agreement, title=title, coordinator_organisation_id=organisation.id)
    _start_adoption(version, organisation, by)
    return agreement


def propose_amendment(agreement: Agreement, motivation: str, *, by: User,
                      on_behalf_of_coordinator: bool = False) -> AgreementVersion:
    """Start a new version from the one in force; every party's authorised body adopts it again.

    A party's case officer proposes it; a follow-up or renewal decision proposes it for the coordinator."""
    organisation = agreement.coordinator_organisation if on_behalf_of_coordinator else next(
        (p.organisation for p in agreement.parties if by.has_role(p.organisation_id, Role.CASE_OFFICER)), None)
    if organisation is None:
        raise NotPermitted("Du måste vara handläggare hos en av parterna för att föreslå en ändring.")
    if agreement.status != AgreementStatus.ACTIVE or agreement.current_version is None:
        raise InvalidTransition("Bara ett gällande avtal utan pågående ändring kan ändras.")
    current = agreement.current_version
    version = _new_version(agreement, by, title=current.title, sections=dict(current.sections), motivation=motivation,
                           valid_from=current.valid_from, valid_until=current.valid_until,
                           recommender_ids=list(current.recommender_ids),
                           **{name: getattr(current, name) for name in FOLLOW_UP_FIELDS})
    agreement.status = AgreementStatus.UNDER_AMENDMENT
    audit.record(by, "agreement.amendment_proposed", agreement, version=version.number, motivation=motivation)
    _start_adoption(version, organisation, by)
    return version


def _new_version(agreement: Agreement, by: User, **fields: Any) -> AgreementVersion:
    number = len(agreement.versions) + 1
    version = AgreementVersion(number=number, created_by_id=by.id, **fields)
    agreement.versions.append(version)
    db.session.flush()
    return version


def _start_adoption(version: AgreementVersion, organisation: Organisation, by: User) -> None:
    agreement = version.agreement
    instance = start_process(ADOPTION_PROCESS, by=by, title=f"{agreement.title} (version {version.number})", data={
        "agreement_id": agreement.id, "version_id": version.id, "coordinator_organisation_id": organisation.id,
        "is_amendment": version.number > 1, "decision_within": DECISION_WITHIN})
    version.instance = instance


def submit_version_text(version: AgreementVersion, fields: dict[str, Any], parties: list[Organisation],
                        recommenders: list[Organisation], *, by: User) -> None:
    """Store the submitted text, validity and parties, and open a new round (remiss or decisions)."""
    _require_open(version)
    version.title = fields["title"]
    version.sections = sections_from_form(fields)
    version.valid_from = _date(fields.get("valid_from"))
    version.valid_until = _date(fields.get("valid_until"))
    version.recommender_ids = [org.id for org in recommenders]
    _set_terms(version, fields)
    version.adoption_round += 1
    version.status = VersionStatus.IN_CONSULTATION if fields.get("with_consultation") else VersionStatus.AWAITING_DECISIONS
    agreement = version.agreement
    if version.number == 1:
        agreement.title = version.title
        _set_parties(agreement, {org.id for org in parties})
    _sync_agreement_status(agreement, version)
    audit.record(by, "agreement.version_submitted", agreement, instance_id=version.instance_id, version=version.number,
                 round=version.adoption_round, parties=[org.id for org in parties], status=version.status)


# The terms of follow-up and leaving, copied into an amendment like the text.
FOLLOW_UP_FIELDS = ("notice_months", "follow_up_interval", "follow_up_organisation_id", "follow_up_user_id", "review_by")


def _set_terms(version: AgreementVersion, fields: dict[str, Any]) -> None:
    version.notice_months = fields.get("notice_months")
    version.follow_up_interval = fields.get("follow_up_interval") or None
    version.follow_up_organisation_id = fields.get("follow_up_organisation_id") or None
    version.follow_up_user_id = fields.get("follow_up_user_id") or None
    version.review_by = _date(fields.get("review_by"))


def sections_from_form(fields: dict[str, Any]) -> dict[str, Any]:
    """{key: {text, responsible, due}} for every checklist section with any content."""
    sections: dict[str, Any] = {}
    for section in SECTIONS:
        entry = {"text": fields.get(section.key) or "", "responsible": fields.get(f"{section.key}_responsible") or "",
                 "due": fields.get(f"{section.key}_due") or ""}
        if any(entry.values()):
            sections[section.key] = entry
    return sections


def form_from_version(version: AgreementVersion) -> dict[str, Any]:
    """The draft form's values for a version (to revise it, or to start an amendment from it)."""
    values: dict[str, Any] = {"title": version.title,
                              "party_ids": [p.organisation_id for p in version.agreement.bound_parties],
                              "recommender_ids": list(version.recommender_ids)}
    for name in ("valid_from", "valid_until", "review_by"):
        if getattr(version, name) is not None:
            values[name] = getattr(version, name).isoformat()
    for name in ("notice_months", "follow_up_interval", "follow_up_organisation_id", "follow_up_user_id"):
        if getattr(version, name) is not None:
            values[name] = getattr(version, name)
    for old, new in REPLACED_BY.items():  # a version from before the checklist was split
        if old in version.sections and new not in version.sections:
            values[new] = version.sections[old].get("text", "")
    for key, entry in version.sections.items():
        values[key] = entry.get("text", "")
        values[f"{key}_responsible"] = entry.get("responsible", "")
        values[f"{key}_due"] = entry.get("due", "")
    return values


def _set_parties(agreement: Agreement, organisation_ids: set[int]) -> None:
    # Keep rows of parties still chosen: the unit of work inserts before it deletes, so replacing
    # the whole list would collide with the unique (agreement, organisation) constraint.
    for party in list(agreement.parties):
        if party.organisation_id not in organisation_ids:
            agreement.parties.remove(party)
    known = {party.organisation_id for party in agreement.parties}
    agreement.parties.extend(AgreementParty(organisation_id=i) for i in sorted(organisation_ids - known))


def record_comments(version: AgreementVersion, organisation_id: int, comments: dict[str, str], *, by: User) -> None:
    """Keep a party's remiss comments, one row per commented section."""
    for key, text in comments.items():
        version.comments.append(ConsultationComment(adoption_round=version.adoption_round, organisation_id=organisation_id,
                                                    section_key=key, text=text, author_id=by.id))
    audit.record(by, "agreement.consultation_answered", version.agreement, instance_id=version.instance_id,
                 version=version.number, organisation_id=organisation_id, sections=sorted(comments))


def record_decision(version: AgreementVersion, decision: Decision, *, by: User) -> None:
    """Record one party's decision in the current round; the party's diarienummer goes on its party row."""
    decision.adoption_round, decision.recorded_by_id = version.adoption_round, by.id
    version.decisions.append(decision)
    for party in version.agreement.parties:
        if party.organisation_id == decision.organisation_id:
            party.diarienummer = decision.diarienummer
    audit.record(by, "agreement.decision_recorded", version.agreement, instance_id=version.instance_id,
                 version=version.number, round=version.adoption_round, organisation_id=decision.organisation_id,
                 body_id=decision.body_id, outcome=decision.outcome, decided_on=decision.decided_on,
                 paragraph=decision.paragraph, diarienummer=decision.diarienummer, reason=decision.reason)


def advance_decision(decision: Decision, stage: DecisionStage, *, by: User | None, **dates: Any) -> None:
    """Move a decision on: justerat och anslaget, överklagat, laga kraft, upphävt."""
    decision.stage = stage
    for name, value in dates.items():
        setattr(decision, name, value)
    if stage == DecisionStage.FINAL:
        decision.final_at = now()
    version = decision.version
    audit.record(by, "agreement.decision_" + stage, version.agreement, instance_id=version.instance_id,
                 version=version.number, organisation_id=decision.organisation_id,
                 **{name: str(value) for name, value in dates.items()})


def activate_version(version: AgreementVersion, *, by: User | None) -> None:
    """Every party's decision is final: this version applies, the previous one is superseded. An amendment whose
    start date lies ahead is adopted but waits: the version in force stays current until the lifecycle's timer
    in_force_from brings it in (bring_into_force)."""
    agreement = version.agreement
    previous = agreement.current_version
    version.status, version.adopted_at = VersionStatus.ADOPTED, now()
    if agreement.activated_at is not None and previous is not None and previous.id != version.id \
            and previous.status == VersionStatus.ADOPTED and not has_started(version):
        agreement.status = AgreementStatus.ACTIVE  # no longer under amendment: the amendment is decided
        audit.record(by, "agreement.version_adopted", agreement, instance_id=version.instance_id,
                     version=version.number, valid_from=version.valid_from, valid_until=version.valid_until)
        return
    if previous is not None and previous.id != version.id:
        previous.status = VersionStatus.SUPERSEDED
    agreement.current_version = version
    if agreement.activated_at is None and not has_started(version):
        # Adopted, not yet in force: the lifecycle's timer in_force_from activates it (lifecycle.py).
        agreement.status = AgreementStatus.ADOPTED
    else:
        agreement.status = AgreementStatus.ACTIVE
        agreement.activated_at = agreement.activated_at or now()
    audit.record(by, "agreement.version_adopted", agreement, instance_id=version.instance_id, version=version.number,
                 valid_from=version.valid_from, valid_until=version.valid_until)


def has_started(version: AgreementVersion) -> bool:
    """The version's start date (valid_from, Stockholm) has come; no start date means at once."""
    from service.engine.calendar import STOCKHOLM

    return version.valid_from is None or version.valid_from <= now().astimezone(STOCKHOLM).date()


def bring_into_force(agreement: Agreement, version: AgreementVersion, *, by: User | None) -> None:
    """The start date of an adopted version has come (timer in_force_from): an adopted agreement becomes active;
    an amendment that waited for its start replaces the version in force."""
    if agreement.upcoming_version is version:
        previous = agreement.current_version
        if previous is not None:
            previous.status = VersionStatus.SUPERSEDED
        agreement.current_version = version
        audit.record(by, "agreement.version_in_force", agreement, version=version.number,
                     valid_from=version.valid_from)
    elif agreement.status == AgreementStatus.ADOPTED and agreement.current_version is version:
        agreement.status = AgreementStatus.ACTIVE
        agreement.activated_at = now()
        audit.record(by, "agreement.in_force", agreement, version=version.number, valid_from=version.valid_from)


def reopen_adoption(version: AgreementVersion, *, by: User) -> None:
    """A decision of a version whose adoption process has ended was set aside by the court (upphävt): the text goes
    back to the coordinator in a new adoption process, and every party decides again."""
    return_to_draft(version, by=by)
    coordinator = db.session.get(User, version.agreement.created_by_id) or by  # the draft task is the coordinator's
    _start_adoption(version, version.agreement.coordinator_organisation, coordinator)


def return_to_draft(version: AgreementVersion, *, by: User | None) -> None:
    """A rejection, a return or an annulled decision: the text goes back to the coordinator."""
    version.status = VersionStatus.DRAFT
    _sync_agreement_status(version.agreement, version)
    reasons = {str(d.organisation_id): d.reason for d in version.current_decisions() if not d.is_adopting}
    audit.record(by, "agreement.returned_to_draft", version.agreement, instance_id=version.instance_id,
                 version=version.number, round=version.adoption_round, reasons=reasons)


def _sync_agreement_status(agreement: Agreement, version: AgreementVersion) -> None:
    if agreement.current_version is not None and agreement.current_version.id != version.id:
        agreement.status = AgreementStatus.UNDER_AMENDMENT
    else:
        agreement.status = AgreementStatus(str(version.status))


def _require_open(version: AgreementVersion) -> None:
    if version.is_frozen:
        raise InvalidTransition(f"Version {version.number} är antagen och kan inte ändras; föreslå en ändring i stället.")


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def can_view(user: User, agreement: Agreement) -> bool:
    """Members of the coordinating organisation or of any party see the agreement; auditors see all."""
    organisations = {m.organisation_id for m in user.memberships}
    from service import access

    if access.can_read_everything(user):  # never on a write request: the auditor role grants no change
        return True
    return agreement.coordinator_organisation_id in organisations or any(
        p.organisation_id in organisations for p in agreement.parties)


def list_agreements_for(user: User) -> list[Agreement]:
    organisations = {m.organisation_id for m in user.memberships}
    party_of = select(AgreementParty.agreement_id).where(AgreementParty.organisation_id.in_(organisations))
    return list(db.session.scalars(select(Agreement).where(
        Agreement.coordinator_organisation_id.in_(organisations) | Agreement.id.in_(party_of))
        .order_by(Agreement.created_at.desc())))
