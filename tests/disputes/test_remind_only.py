"""Where the agreement says so, a level's expired time only reminds (issue #20 item 3): the dispute stays at the
level, its task stays with the party's manager and is reminded; by default the time escalates, as before."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service import clock
from service.disputes.models import Dispute, DisputeLevel, DisputeLevelSetting
from service.notifications.models import Notification, NotificationKind
from service.processes.models import ProcessTimer, TimerStatus
from service.processes.operations import fire_timer, remind_due_soon
from service.transactions import commit_with_retry
from tests.deviations.world import World, complete, fire_due_timer, post_form, ready_ids, ready_task
from tests.disputes.test_dispute_flow import open_dispute


def remind_only(world: World, level: str, username: str = "handlaggare") -> None:
    """The agreement's coordinator (a case officer of the coordinating municipality) sets its level to remind only."""
    response = post_form(world.browser(username), "/tvister/nivaer", {
        "agreement_id": world.agreement.id, "level": level, "remind_only": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_remind_only_level_keeps_the_dispute_and_reminds_its_managers(world: World) -> None:
    db = world.db
    remind_only(world, "line")
    row = db.session.scalar(select(DisputeLevelSetting).where(DisputeLevelSetting.agreement_id == world.agreement.id))
    assert (row.level, row.escalates) == (DisputeLevel.LINE, False)
    dispute = open_dispute(world)
    complete(world, "chef_vgr", "line_position", {"outcome": "agreed", "solution": "Kommunen beställer."}, world.region.id)
    task = ready_task(db, "line_position")
    assert task.due_at == dispute.level_due_at  # the level's time still stands as the task's deadline
    clock.advance(timedelta(days=14, seconds=1))
    timer = db.session.scalar(select(ProcessTimer).where(ProcessTimer.bpmn_id == "level_1_deadline",
                                                         ProcessTimer.status == TimerStatus.WAITING))
    assert not commit_with_retry(lambda: fire_timer(timer.id))  # its time ran out; nothing escalates
    assert commit_with_retry(lambda: remind_due_soon(timedelta(0))) == 1
    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute.id)
    assert (dispute.level, ready_ids(db)) == (DisputeLevel.LINE, ["line_position"])
    reminders = db.session.scalars(select(Notification.user_id).where(
        Notification.kind == NotificationKind.DEADLINE_SOON)).all()
    assert world.user("chef_alingsas").id in reminders
    page = world.browser("admin").get("/tvister/nivaer", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "reminder only" in page


def test_by_default_the_level_time_escalates(world: World) -> None:
    db = world.db
    open_dispute(world)
    clock.advance(timedelta(days=14, seconds=1))
    fire_due_timer(db, "level_1_deadline")
    assert ready_ids(db) == ["steering_decision"]


def test_the_county_level_cannot_be_remind_only(world: World) -> None:
    response = post_form(world.browser("admin"), "/tvister/nivaer", {
        "agreement_id": world.agreement.id, "level": "county", "remind_only": "1"})
    assert response.status_code == 422 and "Länsnivån eskaleras aldrig vidare." in response.get_data(as_text=True)


def test_the_coordinator_sets_only_the_agreements_it_coordinates(world: World) -> None:
    response = post_form(world.browser("handlaggare"), "/tvister/nivaer", {"agreement_id": "", "level": "line",
                                                                         "remind_only": "1"})
    assert response.status_code == 422 and "samordnar" in response.get_data(as_text=True)
    assert world.db.session.scalar(select(DisputeLevelSetting).where(DisputeLevelSetting.level == "line")) is None
    assert world.browser("chef_lerum").get("/tvister/nivaer").status_code == 403
