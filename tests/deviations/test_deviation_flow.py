"""Deviations through the web pages: reported, routed to each receiving party's deviation contact, answered
in time or late (reminder, escalation to the manager), accepted or contested, analysed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_login import login_user
from sqlalchemy import func, select

from service import clock
from service.audit import verify
from service.audit.models import AuditEvent
from service.deviations.context import task_context
from service.deviations.models import Deviation, DeviationStatus, ReceiverStatus
from service.disputes.models import Dispute, DisputeLevel
from service.engine import calendar
from service.notifications.models import Notification, NotificationKind
from service.processes.models import HumanTask
from tests.deviations.world import START, World, complete, fire_due_timer, post_form, ready_ids, ready_task

ANSWER = {"action": "answer", "findings": "Läkemedelslistan skickades inte med vid utskrivningen.",
          "measures": "Checklistan för utskrivning kompletteras; avdelningen utbildas."}
ANALYSIS = {"final_category": "medication", "root_cause": "routine_not_followed",
            "root_cause_description": "Rutinen för utskrivning följdes inte."}


def report_data(world: World, *receivers: Any, **overrides: Any) -> dict[str, Any]:
    data = {"reporting_organisation_id": world.alingsas.id, "reporting_unit": "Hemtjänst Centrum",
            "receiving_organisation_ids": [org.id for org in receivers], "receiving_unit": "Avdelning 12",
            "agreement_id": world.agreement.id, "event_date": "2026-02-26",
            "description": "Vid utskrivningen saknades läkemedelslista och hemtjänsten fick ingen information.",
            "immediate_action": "Avdelningen kontaktades per telefon.", "category": "discharge",
            "consequence": "moderate", "consequence_description": "Kvällens läkemedel gavs en timme för sent."}
    data.update(overrides)
    return data


def report(world: World, *receivers: Any, **overrides: Any) -> Deviation:
    response = post_form(world.browser("rapportor"), "/avvikelser/ny", report_data(world, *receivers, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    deviation_id = int(re.search(r"/avvikelser/(\d+)$", response.headers["Location"]).group(1))
    return world.db.session.get(Deviation, deviation_id)


def context_of(world: World, task: HumanTask, username: str) -> str:
    """What the task page shows above the form (service.deviations.context, called from inbox/views.py)."""
    with world.app.test_request_context():
        login_user(world.user(username))
        return str(task_context(task) or "")


def actions(db: Any) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def audit_data(db: Any, action: str) -> list[dict[str, Any]]:
    return [e.data for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


def page(world: World, username: str, url: str) -> str:
    response = world.browser(username).get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_reported_answered_in_time_and_accepted(world: World) -> None:
    db = world.db
    deviation = report(world, world.region)
    # One number for the case, which every party uses (issue #18).
    assert (deviation.case_number, deviation.receivers[0].case_number) == ("AV-2026-0001", "AV-2026-0001")
    assert ready_ids(db) == ["acknowledge"]
    assert ready_task(db, "acknowledge").organisation_id == world.region.id
    assert ready_task(db, "acknowledge").due_at == START + timedelta(days=60)
    assert "Avvikelse AV-2026-0001" in page(world, "kontakt_vgr", "/uppgifter")
    complete(world, "kontakt_vgr", "acknowledge", {"handler": "Enhetschef avdelning 12"})
    clock.advance(timedelta(days=10))
    complete(world, "kontakt_vgr", "investigate", ANSWER)
    # The reporter sees the answer and accepts it.
    shown = page(world, "rapportor", f"/avvikelser/{deviation.id}")
    assert "Läkemedelslistan skickades inte med" in shown and "Checklistan för utskrivning" in shown
    assert "Ta ställning till svaret" in page(world, "rapportor", "/uppgifter")
    assert "Läkemedelslistan skickades inte med" in context_of(world, ready_task(db, "review_answer"), "rapportor")
    complete(world, "rapportor", "review_answer", {"verdict": "accept"})
    complete(world, "analys", "analyse", {**ANALYSIS, "improvement": "on", "improvement_description": "Revidera checklistan.",
                                          "improvement_owner": "MAS Alingsås", "improvement_due_on": "2026-06-30"})
    db.session.expire_all()
    deviation = db.session.get(Deviation, deviation.id)
    [receiver] = deviation.receivers
    assert deviation.status == DeviationStatus.CLOSED and deviation.final_category == "medication"
    assert (receiver.status, receiver.is_answered_late, receiver.first_answered_at) == (
        ReceiverStatus.ACCEPTED, False, START + timedelta(days=10))
    assert [(a.owner, str(a.due_on)) for a in deviation.improvements] == [("MAS Alingsås", "2026-06-30")]
    steps = [a for a in actions(db) if a.startswith("deviation.")]
    assert steps == ["deviation.reported", "deviation.acknowledged", "deviation.answered", "deviation.answer_accepted",
                     "deviation.analysis_started", "deviation.analysed", "deviation.closed"]
    assert verify().is_intact
    # Visible to the parties involved only.
    assert "AV-2026-0001" in page(world, "samordnare_vgr", "/avvikelser")
    assert world.browser("utomstaende").get(f"/avvikelser/{deviation.id}").status_code == 404
    assert "AV-2026-0001" not in world.browser("utomstaende").get("/avvikelser").get_data(as_text=True)


def test_answered_late_after_a_reminder_and_escalation_to_the_manager(world: World) -> None:
    db = world.db
    # Lerum has two months to answer deviations about this agreement.
    response = post_form(world.browser("chef_lerum"), "/avvikelser/svarstider", {
        "organisation_id": world.lerum.id, "agreement_id": world.agreement.id, "count": 2, "unit": "M", "reminder_days": 7})
    assert response.status_code == 302
    deviation = report(world, world.region, world.lerum)
    lerum = deviation.receiver_for(world.lerum.id)
    due = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)  # two months after 2 March
    assert (lerum.due_at, lerum.remind_at) == (due, due - timedelta(days=7))
    assert deviation.receiver_for(world.region.id).due_at == START + timedelta(days=60)
    # The region asks a question, gets the reply and answers in time.
    complete(world, "kontakt_vgr", "acknowledge", {"handler": "Avdelningschef"}, world.region.id)
    complete(world, "kontakt_vgr", "investigate", {"action": "question", "question": "Vilken tid skedde utskrivningen?"})
    complete(world, "rapportor", "answer_question", {"reply": "Klockan 15 på fredagen."})
    complete(world, "kontakt_vgr", "investigate", ANSWER, world.region.id)
    # Lerum does nothing: a reminder a week before its deadline, then the manager gets the deviation.
    clock.freeze(lerum.remind_at + timedelta(seconds=1))
    fire_due_timer(db, "answer_reminder")
    reminders = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.DEADLINE_SOON)).all()
    assert [(n.user.username, n.subject) for n in reminders] == [
        ("kontakt_lerum", f"Påminnelse: avvikelse {lerum.case_number} ska besvaras")]
    clock.freeze(due + timedelta(seconds=1))
    fire_due_timer(db, "answer_deadline")
    overdue = ready_task(db, "answer_overdue")
    assert overdue.organisation_id == world.lerum.id and "Besvara försenad avvikelse" in page(world, "chef_lerum", "/uppgifter")
    # bpmn/avvikelse-routning.dmn: a moderate consequence at a discharge gives the manager 7 working days.
    assert overdue.due_at == calendar.working_days_deadline(due + timedelta(seconds=1), 7)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == NotificationKind.ESCALATED, Notification.task_row_id == overdue.id)) == 1
    complete(world, "chef_lerum", "answer_overdue", {"findings": "Ärendet blev liggande under semester.",
                                                     "measures": "Ersättare utses för avvikelsekontakten."})
    db.session.expire_all()
    lerum = db.session.get(Deviation, deviation.id).receiver_for(world.lerum.id)
    assert (lerum.is_answered_late, lerum.escalated_at, lerum.answered_by.username) == (True, due + timedelta(seconds=1),
                                                                                       "chef_lerum")
    assert [d["by_timer"] for d in audit_data(db, "deviation.escalated")] == [True]
    assert [d["organisation_id"] for d in audit_data(db, "deviation.reminded")] == [world.lerum.id]
    assert "deviation.question_asked" in actions(db) and "task.escalated" in actions(db)
    for _ in (world.region, world.lerum):
        complete(world, "rapportor", "review_answer", {"verdict": "accept"})
    assert ready_ids(db) == ["analyse"]
    history = page(world, "rapportor", f"/avvikelser/{deviation.id}")
    assert "Påminnelse om svarstiden" in history and "Eskalerad till chef" in history and "(efter sista svarsdag)" in history


def test_contested_answer_goes_back_once_then_to_analysis_and_a_dispute(world: World) -> None:
    db = world.db
    deviation = report(world, world.region)
    complete(world, "kontakt_vgr", "acknowledge", {"handler": "Enhetschef"})
    complete(world, "kontakt_vgr", "investigate", ANSWER)
    clock.advance(timedelta(days=20))
    complete(world, "rapportor", "review_answer", {"verdict": "contest", "motivation": "Svaret förklarar inte varför."})
    # Back to the receiving party with a new answer time from now.
    assert ready_ids(db) == ["acknowledge"]
    assert ready_task(db, "acknowledge").due_at == START + timedelta(days=80)
    assert "Svaret förklarar inte varför." in context_of(world, ready_task(db, "acknowledge"), "kontakt_vgr")
    complete(world, "kontakt_vgr", "acknowledge", {"handler": "Verksamhetschef"})
    complete(world, "kontakt_vgr", "investigate", ANSWER)
    refused = post_form(world.browser("rapportor"), f"/uppgifter/{ready_task(db, 'review_answer').id}", {"verdict": "contest"})
    assert refused.status_code == 422 and 'id="fel-motivation"' in refused.get_data(as_text=True)
    complete(world, "rapportor", "review_answer", {"verdict": "contest", "motivation": "Fortfarande oklart ansvar."})
    receiver = db.session.get(Deviation, deviation.id).receivers[0]
    assert (receiver.status, receiver.contest_count, receiver.answer_round) == (ReceiverStatus.CONTESTED, 2, 2)
    assert ready_ids(db) == ["analyse"]
    complete(world, "analys", "analyse", {**ANALYSIS, "root_cause": "responsibility", "start_dispute": "on",
                                          "dispute_question": "Vem ansvarar för läkemedelslistan vid utskrivning?"})
    complete(world, "chef_alingsas", "decide_dispute", {"open_dispute": "open"})
    [dispute] = db.session.scalars(select(Dispute)).all()
    assert (dispute.deviation_id, dispute.level, sorted(dispute.party_ids())) == (
        deviation.id, DisputeLevel.LINE, sorted([world.alingsas.id, world.region.id]))
    assert dispute.question == "Vem ansvarar för läkemedelslistan vid utskrivning?"
    assert db.session.get(Deviation, deviation.id).status == DeviationStatus.CLOSED
    assert [d["is_reopened"] for d in audit_data(db, "deviation.answer_contested")] == [True, False]
    assert sorted(t.organisation_id for t in db.session.scalars(select(HumanTask).where(
        HumanTask.bpmn_id == "line_position"))) == sorted([world.alingsas.id, world.region.id])
