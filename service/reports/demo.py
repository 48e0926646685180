"""The demo's adopted annual report: the Alingsås–Lerum collaboration's 2026 report (after seed 004, SAML A's
"Årsrapport 2018"), drafted by Alingsås as coordinator and adopted at a meeting of the agreement's joint
coordination group, with a member of every party present. Uses the group the bodies demo made, if any."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from service.agreements.models import Agreement
from service.bodies.models import BodyKind, JointBody, Meeting
from service.bodies.operations import (
    NewMember,
    add_agenda_item,
    add_member,
    bodies_of,
    create_body,
    record_attendance,
    record_meeting_decision,
    schedule_meeting,
)
from service.columns import now
from service.extensions import db
from service.parties.models import Organisation, User
from service.reports.hooks import CASE_TYPE
from service.reports.operations import create_report, get_report, update_report

TITLE = "Samverkan kring psykisk hälsa och missbruk i Alingsås och Lerum"
YEAR = 2026
COORDINATOR = "alma"
# party: (username, mandate); the first chairs and keeps the minutes
MEMBERS = {"Alingsås kommun": ("alma", "Socialchef, mandat från socialnämnden"),
           "Västra Götalandsregionen": ("rolf", "Verksamhetschef, mandat från hälso- och sjukvårdsnämnden"),
           "Lerums kommun": ("leo", "Sektorchef, mandat från socialnämnden")}
TEXTS = {
    "summary": "Samordningsgruppen har mötts fyra gånger. Analysgruppen kom igång under våren och har analyserat "
               "årets avvikelser; tre förbättringsåtgärder beslutades.",
    "activities": "Mobilt team och SIP-samordnare i båda kommunerna. Gemensam utbildning i SIP för 60 medarbetare. "
                  "Förberedelser för en socialmedicinsk mottagning i Alingsås.",
    "plans": "Starta den socialmedicinska mottagningen i Alingsås, utreda motsvarande i Lerum och följa upp "
             "andelen SIP inom 30 dagar varje kvartal.",
}
ECONOMY = [{"post": "Statsbidrag", "kind": "grant", "budget_tkr": "470", "outcome_tkr": "470"},
           {"post": "Bidrag från parterna", "kind": "income", "budget_tkr": "1034", "outcome_tkr": "1034"},
           {"post": "Processledare 50 %", "kind": "cost", "budget_tkr": "420", "outcome_tkr": "398"},
           {"post": "Utbildning och handledning", "kind": "cost", "budget_tkr": "300", "outcome_tkr": "245"},
           {"post": "Material, resor med mera", "kind": "cost", "budget_tkr": "180", "outcome_tkr": "150"}]


def seed_demo_report() -> str:
    """Draft and adopt the demo's annual report unless it exists; returns a line for the CLI."""
    agreement = db.session.scalar(select(Agreement).where(Agreement.title == TITLE))
    if agreement is None or get_report(agreement.id, YEAR) is not None:
        return ""
    users = {u.username: u for u in db.session.scalars(select(User).where(
        User.username.in_([COORDINATOR, *(name for name, _ in MEMBERS.values())])))}
    body = _body(agreement, users)
    report = create_report(agreement, YEAR, by=users[COORDINATOR])
    update_report(report, TEXTS, ECONOMY, by=users[COORDINATOR])
    recorder = next(m.user for m in body.members_on(now().date()) if m.is_secretary or m.is_chair)
    meeting = _meeting(body, recorder)
    add_agenda_item(meeting, by=recorder, case_type=CASE_TYPE, case_id=report.id)
    if not meeting.attendances:
        record_attendance(meeting, [m.id for m in body.members_on(meeting.held_on)], by=recorder)
    record_meeting_decision(meeting, CASE_TYPE, report.id, f"Årsrapporten för {YEAR} fastställs.", by=recorder)
    return f"Årsrapport {YEAR}: ”{TITLE}”, fastställd av {body.name} ({report.adoption_reference})."


def _body(agreement: Agreement, users: dict[str, User]) -> JointBody:
    existing = [b for b in bodies_of(agreement.id) if b.kind in (BodyKind.SAMORDNINGSGRUPP, BodyKind.STYRGRUPP)]
    if existing:
        return existing[0]
    body = create_body("Samordningsgruppen Alingsås–Lerum", BodyKind.SAMORDNINGSGRUPP, [agreement], by=None,
                       description="Samordnar huvudmännens gemensamma arbete; fastställer årsrapporten.")
    organisations = {o.name: o for o in db.session.scalars(select(Organisation).where(Organisation.name.in_(MEMBERS)))}
    for index, (party, (username, mandate)) in enumerate(MEMBERS.items()):
        add_member(body, NewMember(organisation_id=organisations[party].id, user_id=users[username].id,
                                   term_from=date(YEAR, 1, 1), mandate=mandate, is_chair=index == 0,
                                   is_secretary=index == 0), by=None)
    return body


def _meeting(body: JointBody, recorder: User) -> Meeting:
    today = now().date()
    open_meeting = next((m for m in body.meetings if m.held_on <= today and m.justerad_at is None
                         and not (m.attendances and m.absent_organisation_ids())), None)
    return open_meeting or schedule_meeting(body, today, by=recorder, place="Alingsås")
