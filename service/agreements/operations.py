"""Changes to agreements. The adoption itself is driven by bpmn/agreement_adoption.bpmn via hooks.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from service import audit
from service.agreements.checklist import SECTION_KEYS
from service.agreements.models import Agreement, AgreementParty, AgreementStatus, Decision
from service.columns import now
from service.errors import InvalidTransition, NotPermitted
from service.extensions import db
from service.parties.models import Organisation, Role, User
from service.processes.models import ProcessInstance
from service.processes.operations import start_process

ADOPTION_PROCESS = "agreement_adoption"


def start_drafting(*, by: User, organisation: Organisation, title: str) -> Agreement:
    """Open a new agreement in draft and start its adoption process with ``by`` as coordinator."""
    if not by.has_role(organisation.id, Role.CASE_OFFICER):
        raise NotPermitted("Du måste vara handläggare i organisationen för att samordna ett avtal.")
    agreement = Agreement(title=title, coordinator_organisation_id=organisation.id, created_by_id=by.id)
    db.session.add(agreement)
    db.session.flush()
    instance = start_process(ADOPTION_PROCESS, by=by, title=f"Avtal: {title}", data={
        "agreement_id": agreement.id, "coordinator_organisation_id": organisation.id, "title": title})
    agreement.instance = instance
    audit.record(by, "agreement.drafting_started", agreement, instance_id=instance.id, title=title,
                 coordinator_organisation_id=organisation.id)
    db.session.flush()
    return agreement


def submit_draft(agreement: Agreement, fields: dict[str, Any], parties: list[Organisation], *, by: User) -> None:
    """Store the submitted draft text and parties and open a new adoption round."""
    require_status(agreement, AgreementStatus.DRAFT)
    agreement.title = fields["title"]
    # Only the checklist's sections: the form data also carries engine-only keys (parties, decisions).
    agreement.sections = {key: fields[key] for key in SECTION_KEYS if fields.get(key)}
    _set_parties(agreement, {org.id for org in parties})
    agreement.adoption_round += 1
    agreement.status = AgreementStatus.AWAITING_DECISIONS
    audit.record(by, "agreement.submitted_for_decision", agreement, instance_id=agreement.instance_id,
                 round=agreement.adoption_round, parties=[org.id for org in parties])


def _set_parties(agreement: Agreement, organisation_ids: set[int]) -> None:
    # Keep rows of parties still chosen: the unit of work inserts before it deletes, so replacing
    # the whole list would collide with the unique (agreement, organisation) constraint.
    for party in list(agreement.parties):
        if party.organisation_id not in organisation_ids:
            agreement.parties.remove(party)
    known = {party.organisation_id for party in agreement.parties}
    agreement.parties.extend(AgreementParty(organisation_id=i) for i in sorted(organisation_ids - known))


def record_decision(agreement: Agreement, decision: Decision, *, by: User) -> None:
    """Record one party's decision in the current round."""
    require_status(agreement, AgreementStatus.AWAITING_DECISIONS)
    decision.adoption_round = agreement.adoption_round
    decision.recorded_by_id = by.id
    agreement.decisions.append(decision)
    audit.record(by, "agreement.decision_recorded", agreement, instance_id=agreement.instance_id,
                 round=agreement.adoption_round, organisation_id=decision.organisation_id,
                 body_id=decision.body_id, outcome=decision.outcome, decided_on=decision.decided_on,
                 paragraph=decision.paragraph, diarienummer=decision.diarienummer, reason=decision.reason)


def activate_agreement(agreement: Agreement, *, by: User | None) -> None:
    """Every party's authorised body approved: the agreement applies."""
    require_status(agreement, AgreementStatus.AWAITING_DECISIONS)
    agreement.status = AgreementStatus.ACTIVE
    agreement.activated_at = now()
    audit.record(by, "agreement.activated", agreement, instance_id=agreement.instance_id, round=agreement.adoption_round)


def return_to_draft(agreement: Agreement, *, by: User | None) -> None:
    """A party rejected: back to drafting, with the reasons given."""
    require_status(agreement, AgreementStatus.AWAITING_DECISIONS)
    agreement.status = AgreementStatus.DRAFT
    reasons = {str(d.organisation_id): d.reason for d in agreement.current_decisions() if d.outcome == "reject"}
    audit.record(by, "agreement.returned_to_draft", agreement, instance_id=agreement.instance_id,
                 round=agreement.adoption_round, reasons=reasons)


def require_status(agreement: Agreement, status: AgreementStatus) -> None:
    if agreement.status != status:
        raise InvalidTransition(f"Avtalet har status '{agreement.status_label}', åtgärden kräver en annan status.")


def new_decision(organisation_id: int, values: dict[str, Any]) -> Decision:
    return Decision(organisation_id=organisation_id, body_id=values["body_id"], outcome=values["outcome"],
                    decided_on=date.fromisoformat(values["decided_on"]), paragraph=values["paragraph"],
                    diarienummer=values["diarienummer"], reason=values.get("reason") or "")


def get_agreement_for_instance(instance: ProcessInstance) -> Agreement | None:
    agreement: Agreement | None = getattr(instance, "agreement", None)
    return agreement


def can_view(user: User, agreement: Agreement) -> bool:
    """Members of the coordinating organisation or of any party see the agreement."""
    organisations = {m.organisation_id for m in user.memberships}
    return agreement.coordinator_organisation_id in organisations or any(
        p.organisation_id in organisations for p in agreement.parties)


def list_agreements_for(user: User) -> list[Agreement]:
    organisations = {m.organisation_id for m in user.memberships}
    party_of = select(AgreementParty.agreement_id).where(AgreementParty.organisation_id.in_(organisations))
    return list(db.session.scalars(select(Agreement).where(
        Agreement.coordinator_organisation_id.in_(organisations) | Agreement.id.in_(party_of))
        .order_by(Agreement.created_at.desc())))
