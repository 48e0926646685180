"""Demo cases: a year of deviations between the demo parties and two disputes, placed in the past with the
controllable clock so the statistics pages and the dispute ladder show something meaningful at once."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from service import clock
from service.agreements.models import Agreement, AgreementParty
from service.bodies.models import BodyKind
from service.bodies.operations import (
    NewMember,
    add_agenda_item,
    add_member,
    bodies_of,
    choose_adjusters,
    create_body,
    justera,
    record_attendance,
    record_meeting_decision,
    schedule_meeting,
)
from service.deviations import demo_texts as texts
from service.deviations.deadlines import set_answer_deadline
from service.deviations.demo_simulation import FATE_WEIGHTS, PartyPeople, Simulation
from service.deviations.models import Deviation
from service.deviations.queries import list_agreements_of
from service.disputes.models import Dispute, DisputeLevel
from service.disputes.operations import NewDispute, open_dispute, set_level_setting
from service.extensions import db
from service.notifications.models import Notification
from service.parties.models import ROLE_LABELS, Membership, Organisation, OrganisationKind, Role, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, TaskStatus

REGION, GOTEBORG, ALINGSAS, LERUM = "Västra Götalandsregionen", "Göteborgs Stad", "Alingsås kommun", "Lerums kommun"
GR, COUNTY = "Göteborgsregionen (GR)", "Vårdsamverkan Västra Götaland"
# Roles the demo's people get on top of parties/demo.py's: (username, organisation, role).
ROLES = [
    ("rita", REGION, Role.DEVIATION_CONTACT), ("ingrid", REGION, Role.DEVIATION_COORDINATOR),
    ("anna", GOTEBORG, Role.DEVIATION_CONTACT), ("anna", GOTEBORG, Role.DEVIATION_COORDINATOR),
    ("alma", ALINGSAS, Role.DEVIATION_CONTACT), ("alma", ALINGSAS, Role.MANAGER),
    ("leo", LERUM, Role.MANAGER), ("olof", ALINGSAS, Role.ANALYSIS_GROUP_MEMBER),
    ("olof", GOTEBORG, Role.ANALYSIS_GROUP_MEMBER),
]
PEOPLE = {REGION: ("rolf", "rita", "rolf"), GOTEBORG: ("anna", "anna", "goran"), ALINGSAS: ("alma", "alma", "alma"),
          LERUM: ("leo", "leo", "leo")}  # party: (reporter, deviation contact, manager)
AGREEMENTS = {
    "Samverkan kring psykisk hälsa och missbruk i Alingsås och Lerum": (ALINGSAS, [REGION, ALINGSAS, LERUM]),
    "Trygg och effektiv utskrivning i Göteborg": (GOTEBORG, [REGION, GOTEBORG]),
}
REPORTS_PER_MONTH = 6


def seed_demo_cases() -> str:
    """Create the demo cases; returns a one-line summary for the CLI."""
    if db.session.scalar(select(func.count()).select_from(Deviation)):
        return "Avvikelser och tvister: demoärendena finns redan."
    organisations = _organisations()
    _deploy()
    users = _grant_roles(organisations)
    agreements = [_agreement(title, organisations, users) for title in AGREEMENTS]
    _configure(organisations, agreements, users)
    end, last_notice = clock.now(), db.session.scalar(select(func.max(Notification.id))) or 0
    try:
        simulation = _simulation(organisations, users, agreements, end)
        _plan_reports(simulation, organisations, agreements, end)
        _plan_disputes(simulation, organisations, agreements, users, end)
        simulation.run()
    finally:
        clock.reset()
    _mark_past_notifications(last_notice, end)
    return _summary(users)


def _organisations() -> dict[str, Organisation]:
    names = [REGION, GOTEBORG, ALINGSAS, LERUM, GR]
    found = {o.name: o for o in db.session.scalars(select(Organisation).where(Organisation.name.in_([*names, COUNTY])))}
    if COUNTY not in found:
        found[COUNTY] = Organisation(name=COUNTY, kind=OrganisationKind.OTHER)
        db.session.add(found[COUNTY])
        db.session.flush()
    return found


def _deploy() -> None:
    """The two processes, in case the demo is seeded before `samverkan deploy` (identical files are no-ops)."""
    bpmn_dir, forms_dir = Path(current_app.config["BPMN_DIR"]), Path(current_app.config["FORMS_DIR"])
    for name in ("deviation.bpmn", "dispute.bpmn"):
        deploy_definition((bpmn_dir / name).read_bytes(), name, forms_dir, by=None, comment="seed-demo")


def _grant_roles(organisations: Mapping[str, Organisation]) -> dict[str, User]:
    usernames = {username for username, _, _ in ROLES} | {name for trio in PEOPLE.values() for name in trio} | {
        "goran", "greta"}
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(usernames)))}
    for username, organisation, role in ROLES:
        user, organisation_id = users[username], organisations[organisation].id
        if not user.has_role(organisation_id, role):
            user.memberships.append(Membership(organisation_id=organisation_id, role=role))
    db.session.flush()
    return users


def _agreement(title: str, organisations: Mapping[str, Organisation], users: Mapping[str, User]) -> Agreement:
    """The demo agreement with this title, or (without agreements in the demo) a minimal active one."""
    coordinator, parties = AGREEMENTS[title]
    existing = next((a for a in list_agreements_of([organisations[coordinator].id]) if a.title == title), None)
    if existing is not None:
        return existing
    agreement = Agreement(title=title, coordinator_organisation_id=organisations[coordinator].id, status="active",
                          created_by_id=users["anna"].id, activated_at=clock.now() - timedelta(days=500))
    agreement.parties = [AgreementParty(organisation_id=organisations[name].id) for name in parties]
    db.session.add(agreement)
    db.session.flush()
    return agreement


def _configure(organisations: Mapping[str, Organisation], agreements: list[Agreement], users: Mapping[str, User]) -> None:
    # Lerum answers within two months in the Alingsås–Lerum agreement (areas differ); others keep 60 days.
    set_answer_deadline(organisations[LERUM].id, agreements[0].id, "P2M", 10, by=users["leo"])
    set_level_setting(None, DisputeLevel.COUNTY, organisations[COUNTY].id, None)
    for agreement in agreements:  # the sub-regional level: GR's steering group for its member municipalities
        set_level_setting(agreement.id, DisputeLevel.STEERING_GROUP, organisations[GR].id, None)
    _steering_group(organisations, agreements[0], users)


def _steering_group(organisations: Mapping[str, Organisation], agreement: Agreement, users: Mapping[str, User]) -> None:
    """The Alingsås–Lerum agreement's joint steering group (issue #20): it decides level 2 of its disputes."""
    if bodies_of(agreement.id, BodyKind.STYRGRUPP):
        return
    body = create_body(STEERING_GROUP, BodyKind.STYRGRUPP, [agreement], by=None,
                       description="Representanter från respektive huvudman med mandat att fatta beslut.")
    term_from = (clock.now() - timedelta(days=400)).date()
    for username, organisation, chair, secretary in STEERING_MEMBERS:
        mandate = "" if secretary else "Beslutar för sin huvudman i frågor om samverkan enligt avtalet."
        add_member(body, NewMember(organisations[organisation].id, users[username].id, term_from, mandate=mandate,
                                   is_chair=chair, is_secretary=secretary), by=None)

def _simulation(organisations: Mapping[str, Organisation], users: Mapping[str, User], agreements: list[Agreement],
                end: datetime) -> Simulation:
    people = {organisations[party].id: PartyPeople(*(users[name] for name in names)) for party, names in PEOPLE.items()}
    analysts = {a.coordinator_organisation_id: users["olof"] for a in agreements}
    return Simulation(random.Random(2026), end, people, analysts)


def _plan_reports(simulation: Simulation, organisations: Mapping[str, Organisation], agreements: list[Agreement],
                  end: datetime) -> None:
    rng, start = simulation.rng, end - timedelta(days=365)
    for _ in range(REPORTS_PER_MONTH * 12):
        moment = start + timedelta(minutes=rng.randrange(int((end - start).total_seconds() // 60) - 3 * 1440))
        moment = moment.replace(hour=rng.randint(7, 16))
        agreement = rng.choices(agreements, weights=[3, 2])[0]
        fields, reporter, fates = _report(rng, agreement, organisations, simulation, moment)
        simulation.at(moment, partial(simulation.report, fields, reporter, fates))


def _report(rng: random.Random, agreement: Agreement, organisations: Mapping[str, Organisation], simulation: Simulation,
            moment: datetime) -> tuple[dict[str, Any], User, dict[int, str]]:
    names = {o.id: o.name for o in organisations.values()}
    parties = [p.organisation_id for p in agreement.parties]
    region = organisations[REGION].id
    # Most deviations cross the line between the region and a municipality, in both directions.
    reporting = rng.choice([p for p in parties if p != region]) if rng.random() < 0.6 else region
    others = [p for p in parties if p != reporting]
    receivers = [region] if reporting != region else rng.sample(others, 1 if rng.random() < 0.8 or len(others) < 2 else 2)
    category = rng.choices(list(texts.CATEGORY_WEIGHTS), weights=list(texts.CATEGORY_WEIGHTS.values()))[0]
    fields = {
        "reporting_organisation_id": reporting, "reporting_unit": rng.choice(texts.UNITS[names[reporting]]),
        "receiving_organisation_ids": receivers, "receiving_unit": rng.choice(texts.UNITS[names[receivers[0]]]),
        "agreement_id": agreement.id, "event_date": (moment - timedelta(days=rng.randint(0, 6))).date().isoformat(),
        "description": rng.choice(texts.DESCRIPTIONS[category]), "immediate_action": rng.choice(texts.IMMEDIATE_ACTIONS),
        "category": str(category), "consequence": rng.choices(["none", "minor", "moderate", "serious"], [30, 45, 20, 5])[0],
    }
    fates = {r: rng.choices(list(FATE_WEIGHTS), weights=list(FATE_WEIGHTS.values()))[0] for r in receivers}
    return fields, simulation.people[reporting].reporter, fates


@dataclass(frozen=True)
class ScriptedStep:
    """A dispute task someone completes ``days`` after the dispute was opened."""

    days: float
    username: str
    bpmn_id: str
    organisation: str | None
    data: dict[str, Any]


AGREED = {"outcome": "agreed", "solution": "Regionen förskriver och bekostar hjälpmedlet före utskrivningen; "
          "kommunen tar emot det i hemmet."}
INSTRUCTION = {"instruction_title": "Hjälpmedel vid utskrivning till eget boende",
               "instruction": "Regionens förskrivare beställer hjälpmedlet senast dagen före utskrivningen. "
                              "Hemtjänsten kontrollerar att det finns på plats vid hemkomsten."}
# 1. Göteborg and the region agree in the line organisation and write a common instruction.
FIRST_DISPUTE = [ScriptedStep(5, "goran", "line_position", GOTEBORG, AGREED),
                 ScriptedStep(9, "rolf", "line_position", REGION, {**AGREED, "needs_instruction": True}),
                 ScriptedStep(20, "anna", "write_instruction", None, INSTRUCTION)]
# 2. Lerum and the region: no answer in the line organisation (it escalates by itself); the joint steering group
#    escalates the principled question at its meeting (greta, its secretary, records § 1; alma and leo justerar),
#    and the county level's officials wait to prepare it.
SECOND_DISPUTE = [ScriptedStep(21, "greta", "steering_decision", None, {
    "outcome": "escalate", "motivation": "Frågan är principiell och berör alla kommuner i länet."})]
STEERING_GROUP = "Styrgruppen för psykisk hälsa och missbruk Alingsås–Lerum"
# (username, organisation, chair, secretary): one member per party, GR's officer keeps the minutes.
STEERING_MEMBERS = [("rolf", REGION, True, False), ("alma", ALINGSAS, False, False), ("leo", LERUM, False, False),
                    ("greta", GR, False, True)]


def _plan_disputes(simulation: Simulation, organisations: Mapping[str, Organisation], agreements: list[Agreement],
                   users: Mapping[str, User], end: datetime) -> None:
    region, goteborg, lerum = (organisations[n].id for n in (REGION, GOTEBORG, LERUM))
    first = NewDispute(agreements[1].id, goteborg, [region], "Vem ansvarar för och bekostar hjälpmedel när en person "
                       "skrivs ut till eget boende?", "Tre utskrivningar under våren där hjälpmedlet saknades vid hemkomsten.")
    second = NewDispute(agreements[0].id, lerum, [region], "Vem kallar till och samordnar SIP när den enskilde vårdas "
                        "inom psykiatrin men bor i kommunen?")
    script = _Script(simulation, organisations, users)
    simulation.at(end - timedelta(days=150), partial(script.open, first, users["goran"], FIRST_DISPUTE))
    simulation.at(end - timedelta(days=70), partial(script.open, second, users["leo"], SECOND_DISPUTE))


class _Script:
    """Opens a demo dispute and schedules its scripted steps."""

    def __init__(self, simulation: Simulation, organisations: Mapping[str, Organisation], users: Mapping[str, User]) -> None:
        self.simulation, self.organisations, self.users = simulation, organisations, users

    def open(self, new: NewDispute, opener: User, steps: list[ScriptedStep]) -> None:
        dispute = open_dispute(new, by=opener)
        for step in steps:
            self.simulation.at(dispute.opened_at + timedelta(days=step.days), partial(self.do, dispute.instance_id or 0, step))

    def do(self, instance_id: int, step: ScriptedStep) -> None:
        if step.bpmn_id == "steering_decision":
            self.meet(instance_id, step)
            return
        query = select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == step.bpmn_id,
                                        HumanTask.status == TaskStatus.READY)
        if step.organisation is not None:
            query = query.where(HumanTask.organisation_id == self.organisations[step.organisation].id)
        task = db.session.scalars(query).first()
        if task is not None:
            self.simulation.complete(task.id, self.users[step.username], step.data)


    def meet(self, instance_id: int, step: ScriptedStep) -> None:
        """The steering group meets: every member present, the dispute on the agenda, its decision as § 1."""
        dispute = db.session.scalar(select(Dispute).where(Dispute.instance_id == instance_id))
        body = dispute.steering_body if dispute is not None else None
        if dispute is None or body is None or not dispute.is_open:
            return
        secretary = self.users[step.username]
        meeting = schedule_meeting(body, clock.now().date(), by=secretary, place="Alingsås stadshus")
        add_agenda_item(meeting, by=secretary, case_type="dispute", case_id=dispute.id)
        record_attendance(meeting, [m.id for m in body.members], by=secretary)
        record_meeting_decision(meeting, "dispute", dispute.id, step.data["motivation"], by=secretary,
                                outcome=step.data["outcome"])
        choose_adjusters(meeting, [m.id for m in body.members if m.user.username in ("alma", "leo")], by=secretary)
        for username in ("alma", "leo"):
            justera(meeting, by=self.users[username])
        self.simulation.follow(instance_id)


def _mark_past_notifications(after_id: int, end: datetime) -> None:
    """The simulated year's notices count as delivered (no e-mail flood at start-up); older ones as read."""
    simulated = Notification.id > after_id
    db.session.execute(update(Notification).where(simulated, Notification.sent_at.is_(None))
                       .values(sent_at=Notification.created_at).execution_options(synchronize_session=False))
    db.session.execute(update(Notification).where(simulated, Notification.read_at.is_(None),
                                                  Notification.created_at < end - timedelta(days=14))
                       .values(read_at=Notification.created_at).execution_options(synchronize_session=False))


def _summary(users: Mapping[str, User]) -> str:
    deviations = db.session.scalar(select(func.count()).select_from(Deviation))
    roles = ", ".join(f"{u} {ROLE_LABELS[r].lower()} ({o})" for u, o, r in ROLES)
    return (f"Avvikelser och tvister: {deviations} avvikelser under det senaste året och 2 tvister "
            f"(statistik under /statistik). Tillagda roller: {roles}; {STEERING_GROUP} (ordförande rolf, "
            f"sekreterare greta) beslutar på nivå 2 och {COUNTY} (karin) är nivå 3 i tvister.")
