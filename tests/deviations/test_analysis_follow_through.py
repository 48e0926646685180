"""Issue #20 items 4 and 5: the analysis group is reminded after 14 days and the steering side told after 30
(seed 004: "Analysgruppens arbete har inte kommit igång"); improvement actions are followed to done, and
overdue ones remind their owner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from service import clock
from service.audit.models import AuditEvent
from service.deviations.improvements import remind_overdue_improvements, update_improvement
from service.deviations.models import Deviation, ImprovementAction, ImprovementStatus
from service.errors import NotPermitted, ValidationFailed
from service.notifications.models import Notification
from service.transactions import commit_with_retry
from tests.conftest import csrf_token
from tests.deviations.test_deviation_flow import ANALYSIS, ANSWER, report
from tests.deviations.world import World, complete, fire_due_timer, ready_ids


def _to_analysis(world: World) -> Deviation:
    deviation = report(world, world.region)
    complete(world, "kontakt_vgr", "acknowledge", {"handler": "Enhetschef"})
    complete(world, "kontakt_vgr", "investigate", ANSWER)
    complete(world, "rapportor", "review_answer", {"verdict": "accept"})
    assert ready_ids(world.db) == ["analyse"]
    return deviation


def _notified(world: World, username: str) -> list[str]:
    world.db.session.expire_all()
    return list(world.db.session.scalars(select(Notification.subject).where(
        Notification.user_id == world.user(username).id).order_by(Notification.id)))


def _actions(world: World, deviation: Deviation) -> list[str]:
    return list(world.db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("deviation.analysis_%")).order_by(AuditEvent.seq)))


def test_analysis_reminded_after_14_days_escalated_after_30(world: World) -> None:
    deviation = _to_analysis(world)
    clock.advance(timedelta(days=14, minutes=1))
    fire_due_timer(world.db, "analysis_reminder", deviation.instance_id)
    assert any("väntar på analys" in s for s in _notified(world, "analys"))
    assert not any("har inte analyserats" in s for s in _notified(world, "chef_alingsas"))
    clock.advance(timedelta(days=16))
    fire_due_timer(world.db, "analysis_overdue", deviation.instance_id)
    # The coordinator (Alingsås) hears of it; the task stays with the analysis group.
    assert any("har inte analyserats" in s for s in _notified(world, "chef_alingsas"))
    assert ready_ids(world.db) == ["analyse"]
    assert _actions(world, deviation) == ["deviation.analysis_started", "deviation.analysis_reminded",
                                          "deviation.analysis_escalated"]
    complete(world, "analys", "analyse", ANALYSIS)
    world.db.session.expire_all()
    assert world.db.session.get(Deviation, deviation.id).analysed_at is not None


def test_analysis_in_time_reminds_nobody(world: World) -> None:
    deviation = _to_analysis(world)
    complete(world, "analys", "analyse", ANALYSIS)
    clock.advance(timedelta(days=40))
    world.db.session.expire_all()
    assert _actions(world, deviation) == ["deviation.analysis_started"]
    assert not any("analys" in s for s in _notified(world, "analys"))


@pytest.fixture
def action(world: World) -> ImprovementAction:
    _to_analysis(world)
    complete(world, "analys", "analyse", {**ANALYSIS, "improvement": "on", "improvement_description": "Revidera checklistan.",
                                          "improvement_owner": "MAS Alingsås", "improvement_due_on": "2026-04-30"})
    world.db.session.expire_all()
    return world.db.session.scalars(select(ImprovementAction)).one()


def test_an_action_is_followed_to_done(world: World, action: ImprovementAction) -> None:
    assert (action.status, action.completed_at) == (ImprovementStatus.PLANNED, None)
    with pytest.raises(ValidationFailed):
        update_improvement(action, ImprovementStatus.DONE, " ", by=world.user("analys"))
    with pytest.raises(NotPermitted):
        update_improvement(action, ImprovementStatus.IN_PROGRESS, "", by=world.user("kontakt_vgr"))
    client = world.browser("analys")
    page = client.get("/forbattringsatgarder").get_data(as_text=True)
    assert "Revidera checklistan." in page and "Planerad" in page
    assert "Revidera checklistan." not in world.browser("utomstaende").get("/forbattringsatgarder").get_data(as_text=True)
    token = csrf_token(page)
    response = client.post(f"/forbattringsatgarder/{action.id}",
                           data={"csrf_token": token, "status": "done", "result": "Checklistan är reviderad."})
    assert response.status_code == 302
    world.db.session.expire_all()
    done = world.db.session.get(ImprovementAction, action.id)
    assert (done.status, done.completed_at, done.completed_by_id) == (ImprovementStatus.DONE, clock.now(),
                                                                       world.user("analys").id)
    assert "Genomförd" in client.get("/forbattringsatgarder").get_data(as_text=True)
    assert "Genomförd" in client.get(f"/avvikelser/{done.deviation_id}").get_data(as_text=True)


def test_overdue_actions_remind_their_owner_weekly_until_done(world: World, action: ImprovementAction) -> None:
    owner = world.user("chef_alingsas")
    commit_with_retry(lambda: setattr(world.db.session.get(ImprovementAction, action.id), "owner_id", owner.id))
    today = date(2026, 4, 30)
    assert commit_with_retry(lambda: remind_overdue_improvements(today)) == 0  # due today: not overdue yet
    clock.advance(timedelta(days=60))
    assert commit_with_retry(lambda: remind_overdue_improvements(today + timedelta(days=1))) == 1
    assert commit_with_retry(lambda: remind_overdue_improvements(today + timedelta(days=2))) == 0  # once a week
    assert [s for s in _notified(world, "chef_alingsas") if "Förbättringsåtgärd" in s] == [
        f"Förbättringsåtgärd försenad: {action.deviation.case_number}"]
    clock.advance(timedelta(days=7))
    commit_with_retry(lambda: update_improvement(world.db.session.get(ImprovementAction, action.id),
                                                 ImprovementStatus.DONE, "Klart.", by=owner))
    assert commit_with_retry(lambda: remind_overdue_improvements(today + timedelta(days=9))) == 0


def test_the_joint_analysis_group_analyses_and_is_the_one_reminded(world: World) -> None:
    """With a joint analysis group for the agreement (members from every party), its members hold the task
    and get the reminder, whatever their role at home."""
    from datetime import date as day

    from service.bodies.models import BodyKind
    from service.bodies.operations import NewMember, add_member, create_body

    def group() -> None:
        body = create_body("Analysgruppen Alingsås–Lerum", BodyKind.ANALYSGRUPP, [world.agreement], by=None)
        for username, organisation in (("chef_vgr", world.region), ("chef_lerum", world.lerum)):
            add_member(body, NewMember(organisation_id=organisation.id, user_id=world.user(username).id,
                                       term_from=day(2026, 1, 1)), by=None)
    commit_with_retry(group)
    deviation = _to_analysis(world)
    assert "Analysera avvikelsen" in world.browser("chef_lerum").get("/uppgifter?lista=grupp").get_data(as_text=True)
    clock.advance(timedelta(days=14, minutes=1))
    fire_due_timer(world.db, "analysis_reminder", deviation.instance_id)
    assert any("väntar på analys" in s for s in _notified(world, "chef_lerum"))
    assert not any("väntar på analys" in s for s in _notified(world, "analys"))
    complete(world, "chef_lerum", "analyse", ANALYSIS)
    world.db.session.expire_all()
    assert world.db.session.get(Deviation, deviation.id).analysed_by_id == world.user("chef_lerum").id
