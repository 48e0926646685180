"""The demo's agreement with a history: integrated work for people with mental illness and addiction
(the regional guidance in seed 000), adopted by Västra Götalandsregionen and three municipalities.

It is driven through the real process with the clock set in the past, so its decisions, laga kraft and
audit trail are what the service itself would have recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service import clock
from service.agreements import operations as ops
from service.agreements.models import Agreement
from service.extensions import db
from service.parties.models import Organisation, User
from service.processes.models import HumanTask, ProcessTimer, TaskStatus, TimerStatus
from service.processes.operations import complete_task, fire_timer

TITLE = "Organiserat integrerat arbete – psykisk ohälsa, missbruk och beroende"
PARTIES = {"Västra Götalandsregionen": "rita", "Göteborgs Stad": "goran", "Alingsås kommun": "alma", "Lerums kommun": "leo"}
# One party per route the demo's parties can take (issue #19): Lerum's socialnämnd has delegated the decision
# to its socialchef; Alingsås prepares the matter in its arbetsutskott first; the others decide at a meeting.
ROUTES = {"Lerums kommun": "delegation"}
DELEGATIONS = {"Lerums kommun": {"delegate": "Socialchef", "delegation_reference": "Delegationsordning punkt 3.2"}}
PREPARED = {"Alingsås kommun"}
TEXT = {
    "responsibilities": "Varje huvudman ansvarar för de insatser som ligger inom det egna ansvarsområdet och lagrummet. "
                        "Samordnad individuell plan (SIP) upprättas med den enskildes samtycke.",
    "steering_group": "Styrgrupp med en representant med mandat från respektive huvudman; sammanträder fyra gånger per år.",
    "mission": "Målgrupp: personer i alla åldrar med sammansatta behov inom psykisk ohälsa, missbruk och beroende som "
               "behöver insatser från båda huvudmännen. Syfte: samordnade, integrerade insatser (mobilt team, ACT).",
    "goals": "Minst 80 % av deltagarna har en SIP inom 30 dagar.\nAndelen avbrutna insatser minskar med en tredjedel.",
    "staffing": "Varje huvudman äger sin personal: två sjuksköterskor och en psykiater (regionen), fyra socialsekreterare "
                "(kommunerna).",
    "user_influence": "Brukarråd vid uppbyggnad och uppföljning; brukarrevision vartannat år.",
    "costs": "Varje huvudman bär sina personalkostnader. Gemensamma kostnader (lokaler, handledning, utvärdering) delas "
             "50 % region, 50 % kommunerna efter invånarantal.",
    "deviations_and_disputes": "Avvikelser i samverkan rapporteras enligt länets rutin. Tvister löses i linjen, därefter i "
                               "styrgruppen och vid behov på länsnivå.",
    "amendments": "Ändringar i uppdraget görs alltid gemensamt och antas av behörig instans hos varje part.",
    "follow_up": "Årlig uppföljning av process och resultat i styrgruppen; utvärdering efter tre år.",
}


def seed_demo_agreement() -> str:
    """Create the agreement unless it exists; returns a line for the CLI."""
    if db.session.scalar(select(Agreement.id).where(Agreement.title == TITLE)) is not None:
        return ""
    try:
        _adopt_in_the_past()
    finally:
        clock.reset()
    return f"Demoavtal: ”{TITLE}” (antaget hösten 2025, med beslut och laga kraft)."


def _adopt_in_the_past() -> None:
    organisations = {o.name: o for o in db.session.scalars(select(Organisation).where(Organisation.name.in_(PARTIES)))}
    users = {u.username: u for u in db.session.scalars(select(User))}
    coordinator = users["anna"]
    clock.freeze(datetime(2025, 8, 25, 8, 0, tzinfo=UTC))
    agreement = ops.start_drafting(by=coordinator, organisation=organisations["Göteborgs Stad"], title=TITLE)
    fields = {"title": TITLE, "party_ids": [o.id for o in organisations.values()], "valid_from": "2025-11-01",
              "with_consultation": False, **TEXT, "follow_up_responsible": "Styrgruppens ordförande",
              "follow_up_due": "2026-10-31", "goals_responsible": "Verksamhetschef", "goals_due": "2026-06-30"}
    _complete(agreement, "draft", None, fields, coordinator)
    clock.freeze(datetime(2025, 10, 1, 8, 0, tzinfo=UTC))
    for number, (name, secretary) in enumerate(PARTIES.items(), start=1):
        organisation, route = organisations[name], ROUTES.get(name, "decision_with_posting")
        _complete(agreement, "receive_proposal", organisation.id, {
            "received_on": "2025-08-27", "diarienummer": f"{number:04d}/25", "with_preparation": name in PREPARED},
            users[secretary])
        if name in PREPARED:
            _complete(agreement, "prepare", organisation.id, {
                "prepared_by": "Kommunstyrelsens arbetsutskott", "prepared_on": "2025-09-03", "prepared_paragraph": "§ 41"},
                users[secretary])
        _complete(agreement, "decide", organisation.id, {
            "outcome": "adopted", "route": route, "body_id": organisation.bodies[0].id,
            "decided_on": f"2025-09-{10 + number:02d}", "paragraph": f"§ {100 + number * 7}" if route != "delegation" else "",
            "diarienummer": f"{number:04d}/25", **DELEGATIONS.get(name, {})}, users[secretary])
        if route == "decision_with_posting":
            _complete(agreement, "record_minutes", organisation.id, {
                "minutes_approved_on": f"2025-09-{16 + number:02d}", "posted_on": f"2025-09-{18 + number:02d}"},
                users[secretary])
    clock.freeze(datetime(2025, 10, 20, 8, 0, tzinfo=UTC))
    _fire_due_timers()


def _complete(agreement: Agreement, bpmn_id: str, organisation_id: int | None, data: dict[str, object], user: User) -> None:
    version = agreement.latest_version
    assert version is not None
    db.session.flush()  # version.instance_id is only filled in by a flush
    query = select(HumanTask.id).where(HumanTask.instance_id == version.instance_id,
                                       HumanTask.bpmn_id == bpmn_id, HumanTask.status == TaskStatus.READY)
    if organisation_id is not None:
        query = query.where(HumanTask.organisation_id == organisation_id)
    complete_task(db.session.scalars(query).one(), data, by=user)
    clock.advance(timedelta(hours=2))


def _fire_due_timers() -> None:
    for timer_id in db.session.scalars(select(ProcessTimer.id).where(
            ProcessTimer.status == TimerStatus.WAITING, ProcessTimer.due_at <= clock.now())).all():
        fire_timer(timer_id)
