"""#3 lifecycle details: follow-ups on the exact anniversaries, a follow-up that starts an amendment, the
consultation's due date, and terminating an agreement in force. Driven through HTTP with the controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import clock
from service.agreements.models import AgreementStatus, FollowUp, VersionStatus
from service.audit.models import AuditEvent
from service.parties.models import Role
from service.processes.models import HumanTask, ProcessTimer, TaskStatus, TimerStatus
from tests.conftest import Parties, draft_data
from tests.inbox.test_adoption_flow import (
    adopted_agreement,
    agreement,
    complete,
    fire_due_timers,
    start_agreement,
)


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # after the decisions' dates (conftest.MINUTES)
    yield
    clock.reset()


FOLLOW_UP = {"process_indicators": "Teamet har träffats varje vecka.", "result_indicators": "Två av tre mål nådda.",
             "action_plan": "Gemensam utbildning i SIP under våren."}


def waiting_follow_up(db: Any) -> ProcessTimer:
    return db.session.scalars(select(ProcessTimer).where(ProcessTimer.bpmn_id == "follow_up_due",
                                                         ProcessTimer.status == TimerStatus.WAITING)).one()


def test_follow_ups_fall_on_the_anniversaries_however_late_the_last_one_was_done(
        client: FlaskClient, db: Any, parties: Parties, make_user: Any, frozen: None) -> None:
    steering = make_user([(parties.goteborg, Role.STEERING_GROUP_MEMBER)], username="styrgrupp")
    agreement_id = adopted_agreement(client, db, parties)
    activated = agreement(db, agreement_id).activated_at
    assert waiting_follow_up(db).due_at == activated.replace(year=activated.year + 1)

    clock.freeze(activated.replace(year=activated.year + 1) + timedelta(days=45))  # done six weeks late
    fire_due_timers(db)
    complete(client, db, steering.username, "follow_up", FOLLOW_UP)

    assert waiting_follow_up(db).due_at == activated.replace(year=activated.year + 2)


def test_a_follow_up_can_start_an_amendment(client: FlaskClient, db: Any, parties: Parties, make_user: Any,
                                            frozen: None) -> None:
    steering = make_user([(parties.goteborg, Role.STEERING_GROUP_MEMBER)], username="styrgrupp")
    agreement_id = adopted_agreement(client, db, parties)
    clock.advance(timedelta(days=366))
    fire_due_timers(db)

    complete(client, db, steering.username, "follow_up", {
        **FOLLOW_UP, "start_amendment": "on", "amendment_motivation": "Målen behöver skärpas efter uppföljningen."})

    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.UNDER_AMENDMENT
    assert [v.status for v in record.versions] == [VersionStatus.ADOPTED, VersionStatus.DRAFT]
    follow_up = db.session.scalars(select(FollowUp).where(FollowUp.agreement_id == agreement_id)).one()
    assert follow_up.amendment_version_id == record.versions[1].id
    [draft] = db.session.scalars(select(HumanTask).where(HumanTask.bpmn_id == "draft", HumanTask.status == TaskStatus.READY))
    assert draft.instance_id == record.versions[1].instance_id and draft.organisation_id == parties.goteborg.id


def test_consultation_tasks_are_due_at_the_end_of_the_last_consultation_day(
        client: FlaskClient, db: Any, parties: Parties, frozen: None) -> None:
    start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, with_consultation="on", consultation_until="2026-12-15"))

    consults = db.session.scalars(select(HumanTask).where(HumanTask.bpmn_id == "consult")).all()
    assert len(consults) == 3
    # 23:59:59 Stockholm (UTC+1 in December)
    assert {task.due_at for task in consults} == {datetime(2026, 12, 15, 22, 59, 59, tzinfo=UTC)}


def test_the_parties_are_told_before_the_end_date(client: FlaskClient, db: Any, parties: Parties, make_user: Any,
                                                  frozen: None) -> None:
    from service.notifications.models import Notification

    manager = make_user([(parties.alingsas, Role.MANAGER)], username="chef_alingsas")
    agreement_id = adopted_agreement(client, db, parties, valid_until="2027-12-31")
    clock.freeze(datetime(2027, 10, 3, 12, 0, tzinfo=UTC))  # 90 days before the end of 31 December
    fire_due_timers(db)
    fire_due_timers(db)  # a second pass changes nothing: the notice goes out once

    notices = db.session.scalars(select(Notification).where(Notification.subject.like("Avtalet upphör%"))).all()
    told = {notice.user_id for notice in notices}
    assert manager.id in told and all(parties.officers[org.id].id in told for org in parties.all)
    assert len(notices) == len(told)
    assert all("2027-12-31" in notice.subject for notice in notices)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "agreement.expiry_notice_sent")) == 1
    assert agreement(db, agreement_id).status == AgreementStatus.ACTIVE
