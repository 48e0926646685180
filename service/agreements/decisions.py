"""Each party's route to "gäller för parten" (issue #19): the proposal registered on arrival, an arbetsutskott's
preparation, the decision by its route (at a meeting, under delegation, or by signing), the justering and its
anslag checked against KL's limits (warnings, never refusals), and the decision's documents sent to the others.

Element ids of bpmn/agreement_adoption.bpmn this depends on: receive_proposal, prepare, decide, record_minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import current_app, flash, has_request_context
from flask_babel import gettext as _
from sqlalchemy import select

from service import audit
from service.agreements import operations as ops
from service.agreements.models import (
    ROUTE_LABELS,
    AgreementVersion,
    Decision,
    DecisionRoute,
    DecisionStage,
    ProposalReceipt,
    routes_for,
)
from service.engine.calendar import last_day_of_period
from service.errors import ValidationFailed
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import DEFAULT_PUBLIC_URL, notify
from service.parties.models import Membership, Organisation, Role, User
from service.processes.models import HumanTask

REFUSED = "Formuläret innehåller fel. Inget har sparats."
# KL 8 kap. 12 §: the minutes are justerade at the latest fourteen days after the meeting, and the justering is
# announced on the anslagstavla at the latest the second day after it. Lag (1930:173) om beräkning av lagstadgad
# tid applies to every time limit a statute sets for an action unless that statute says otherwise, and KL does
# not: by its 2 § a last day on a Saturday, Sunday, other allmän helgdag, midsommarafton, julafton or nyårsafton
# moves to the next vardag. So both limits move like the appeal period (engine.calendar.last_day_of_period).
JUSTERING_WITHIN_DAYS = 14
POSTING_WITHIN_DAYS = 2
# Who hears of another party's decision document: the ones who take the agreement on in each organisation.
INFORMED_ROLES = (Role.BODY_SECRETARY, Role.CASE_OFFICER)


def default_route(organisation: Organisation) -> DecisionRoute:
    return routes_for(organisation.kind)[0]


def prepare_receipt(data: dict[str, Any], today: date) -> dict[str, Any]:
    """The arrival day has passed (it is registered on arrival, not in advance)."""
    if date.fromisoformat(data["received_on"]) > today:
        raise ValidationFailed(REFUSED, {"received_on": [_("Ankomstdagen kan inte ligga i framtiden.")]})
    data["with_preparation"] = bool(data.get("with_preparation"))
    return data


def prepare_decision(data: dict[str, Any], task: HumanTask) -> dict[str, Any]:
    """The decision's route: the one chosen if the party's kind allows it, else the kind's default. A diagram
    deployed before the routes (its decision form has no route) takes every decision through justering and
    anslag: a running adoption keeps that route to its end."""
    from service.processes.definitions import form_schema

    if "route" not in form_schema(task.instance.definition, task.form).get("properties", {}):
        data["route"] = str(DecisionRoute.DECISION_WITH_POSTING)
        return data
    organisation = db.session.get_one(Organisation, task.organisation_id)
    allowed = routes_for(organisation.kind)
    chosen = data.get("route") or allowed[0]
    if chosen not in allowed:
        raise ValidationFailed(REFUSED, {"route": [_("%(kind)s kan inte besluta på det sättet. Välj: %(routes)s.",
                                                     kind=organisation.kind_label,
                                                     routes=", ".join(_route_label(r) for r in allowed))]})
    data["route"] = str(chosen)
    return data


def _route_label(route: DecisionRoute) -> str:
    return _(ROUTE_LABELS[route])


def initial_values(version: AgreementVersion, bpmn_id: str, organisation_id: int | None) -> dict[str, Any]:
    """The decision form opens with the party's default route and the diarienummer registered on arrival."""
    if bpmn_id != "decide" or organisation_id is None:
        return {}
    values: dict[str, Any] = {"route": str(default_route(db.session.get_one(Organisation, organisation_id)))}
    receipt = receipt_of(version, organisation_id)
    if receipt is not None:
        values["diarienummer"] = receipt.diarienummer
    return values


def receipt_of(version: AgreementVersion, organisation_id: int | None) -> ProposalReceipt | None:
    return next((r for r in version.current_receipts() if r.organisation_id == organisation_id), None)


def record_receipt(version: AgreementVersion, organisation_id: int, data: Mapping[str, Any], *, by: User) -> ProposalReceipt:
    """Register the proposal in the party's diarium on arrival; the diarienummer goes on its party row."""
    receipt = ProposalReceipt(adoption_round=version.adoption_round, organisation_id=organisation_id,
                              diarienummer=data["diarienummer"], received_on=date.fromisoformat(data["received_on"]),
                              recorded_by_id=by.id)
    version.receipts.append(receipt)
    for party in version.agreement.parties:
        if party.organisation_id == organisation_id:
            party.diarienummer = receipt.diarienummer
    audit.record(by, "agreement.proposal_received", version.agreement, instance_id=version.instance_id,
                 version=version.number, round=version.adoption_round, organisation_id=organisation_id,
                 diarienummer=receipt.diarienummer, received_on=receipt.received_on)
    return receipt


def record_preparation(version: AgreementVersion, organisation_id: int, data: Mapping[str, Any], *, by: User) -> None:
    """An arbetsutskott prepared the matter: recorded, and no appeal period starts (it is no decision)."""
    receipt = receipt_of(version, organisation_id)
    if receipt is None:
        raise LookupError(f"no proposal receipt of organisation {organisation_id} on version {version.id}")
    receipt.prepared_by, receipt.prepared_on = data["prepared_by"], date.fromisoformat(data["prepared_on"])
    receipt.prepared_paragraph = data.get("prepared_paragraph") or ""
    audit.record(by, "agreement.proposal_prepared", version.agreement, instance_id=version.instance_id,
                 version=version.number, organisation_id=organisation_id, prepared_by=receipt.prepared_by,
                 prepared_on=receipt.prepared_on, paragraph=receipt.prepared_paragraph)


def record_decision(version: AgreementVersion, organisation_id: int | None, data: Mapping[str, Any], *,
                    by: User) -> Decision:
    """Record the decision by its route. Under delegation or signed, an adoption applies for the party at once:
    there is no justering or anslag, so no appeal period in this flow (flow applies_for_party). A bordläggning
    (outcome tabled) is recorded until the matter is decided at a later meeting: the later decision replaces it (one
    decision a party and round), and the audit keeps each bordläggning with its date and paragraph."""
    for tabled in [d for d in version.current_tablings() if d.organisation_id == organisation_id]:
        version.decisions.remove(tabled)
        db.session.flush()
    decision = Decision(
        organisation_id=organisation_id, body_id=data["body_id"], outcome=data["outcome"],
        route=data.get("route") or DecisionRoute.DECISION_WITH_POSTING, decided_on=date.fromisoformat(data["decided_on"]),
        paragraph=data.get("paragraph") or "", diarienummer=data["diarienummer"], reason=data.get("reason") or "",
        delegate=data.get("delegate") or "", delegation_reference=data.get("delegation_reference") or "",
        signatory=data.get("signatory") or "", report_attachment_id=data.get("report_attachment"),
        extract_attachment_id=data.get("extract_attachment"))
    ops.record_decision(version, decision, by=by)
    if decision.is_adopting and not decision.is_posted_route:
        ops.advance_decision(decision, DecisionStage.FINAL, by=by)
    if decision.extract_attachment_id is not None:
        send_extract(decision, by=by)
    return decision


def record_minutes(decision: Decision, data: Mapping[str, Any], *, by: User) -> list[dict[str, str]]:
    """Justerat; justeringen anslagen: the appeal period starts. KL's limits missed are warnings: shown to the
    secretary, kept on the decision and audited, never a refusal (a late anslag still starts the period)."""
    approved_on, posted_on = date.fromisoformat(data["minutes_approved_on"]), date.fromisoformat(data["posted_on"])
    warnings = deadline_warnings(decision.decided_on, approved_on, posted_on)
    decision.deadline_warnings = warnings
    ops.advance_decision(decision, DecisionStage.POSTED, by=by, minutes_approved_on=approved_on, posted_on=posted_on)
    if warnings:
        audit.record(by, "agreement.decision_deadline_warning", decision.version.agreement,
                     instance_id=decision.version.instance_id, version=decision.version.number,
                     organisation_id=decision.organisation_id, warnings=warnings)
        for warning in warnings:
            _tell(warning_text(warning))
    if data.get("extract_attachment") is not None:
        decision.extract_attachment_id = data["extract_attachment"]
        send_extract(decision, by=by)
    return warnings


def deadline_warnings(decided_on: date, approved_on: date, posted_on: date) -> list[dict[str, str]]:
    """KL 8 kap. 12 §'s limits that the justering or its anslag missed: [{rule, last_day, on}]."""
    warnings = []
    last_justering = last_day_of_period(decided_on, JUSTERING_WITHIN_DAYS)
    if approved_on > last_justering:
        warnings.append({"rule": "justering", "last_day": last_justering.isoformat(), "on": approved_on.isoformat()})
    last_posting = last_day_of_period(approved_on, POSTING_WITHIN_DAYS)
    if posted_on > last_posting:
        warnings.append({"rule": "anslag", "last_day": last_posting.isoformat(), "on": posted_on.isoformat()})
    return warnings


def warning_text(warning: Mapping[str, str]) -> str:
    if warning["rule"] == "justering":
        return _("Varning: protokollet justerades %(on)s, efter sista dagen %(last)s (KL 8 kap. 12 §: senast 14 dagar "
                 "efter sammanträdet).", on=warning["on"], last=warning["last_day"])
    return _("Varning: justeringen anslogs %(on)s, efter sista dagen %(last)s (KL 8 kap. 12 §: senast andra dagen "
             "efter justeringen).", on=warning["on"], last=warning["last_day"])


def _tell(message: str) -> None:
    """Show the secretary a warning on the next page; a job or the API has no such page (the audit keeps it)."""
    if has_request_context():
        flash(message)


def send_extract(decision: Decision, *, by: User) -> int:
    """Send the decision document (the signed protokollsutdrag, the delegation decision or the signed agreement) to
    the other parties and the coordinator, with links they may open; how many were told."""
    version = decision.version
    agreement = version.agreement
    organisations = ({party.organisation_id for party in agreement.parties} | {agreement.coordinator_organisation_id}) \
        - {decision.organisation_id}
    people = db.session.scalars(select(User).join(Membership).where(
        Membership.organisation_id.in_(organisations), Membership.role.in_(INFORMED_ROLES),
        User.is_enabled.is_(True)).order_by(User.id)).unique().all()
    base = str(current_app.config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
    party = db.session.get_one(Organisation, decision.organisation_id)
    notify(people, NotificationKind.OTHER, f"Beslut om samverkansavtal: {party.name} – {agreement.title}",
           f"{party.name} har beslutat om samverkansavtalet {agreement.title} (version {version.number}): "
           f"{decision.outcome_label}, {decision.route_label}, {decision.decided_on.isoformat()}"
           f"{' ' + decision.paragraph if decision.paragraph else ''}.\n\n"
           f"Beslutsdokumentet: {base}/bilagor/{decision.extract_attachment_id}\nAvtalet: {base}/avtal/{agreement.id}",
           instance_id=version.instance_id)
    audit.record(by, "agreement.decision_extract_sent", agreement, instance_id=version.instance_id,
                 version=version.number, organisation_id=decision.organisation_id,
                 attachment_id=decision.extract_attachment_id, recipients=[person.id for person in people])
    return len(people)
