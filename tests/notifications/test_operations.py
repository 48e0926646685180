"""Who is notified about a task, what the notification says, and that it lives in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.errors import NotPermitted
from service.notifications.models import Notification, NotificationKind
from service.notifications.operations import (
    _body_around_organisation,
    count_unread,
    list_notifications_for,
    list_outbox,
    mark_read,
    notify,
    notify_deadline_soon,
    notify_task_offered,
    set_wants_digest,
)
from service.parties.models import Role


def _told(db: Any, task: Any, kind: str = "task_offered") -> list[int]:
    return list(db.session.scalars(select(Notification.user_id).where(
        Notification.task_row_id == task.id, Notification.kind == kind).order_by(Notification.user_id)))


def test_named_task_goes_to_the_named_person_only(db: Any, make_organisation: Callable[..., Any],
                                                   make_user: Callable[..., Any], make_task: Callable[..., Any]) -> None:
    kommun = make_organisation()
    named = make_user([(kommun, Role.MANAGER)])
    make_user([(kommun, Role.CASE_OFFICER)])
    task = make_task(kommun, Role.CASE_OFFICER, user_id=named.id)
    assert notify_task_offered(task) == 1 and notify_deadline_soon(task) == 1
    assert _told(db, task) == _told(db, task, "deadline_soon") == [named.id]


def test_group_task_goes_to_enabled_members_of_that_organisation_and_role(
        db: Any, make_organisation: Callable[..., Any], make_user: Callable[..., Any],
        make_task: Callable[..., Any]) -> None:
    goteborg, alingsas = make_organisation(name="Göteborgs Stad"), make_organisation(name="Alingsås kommun")
    officer = make_user([(goteborg, Role.CASE_OFFICER)])
    both = make_user([(alingsas, Role.CASE_OFFICER), (goteborg, Role.CASE_OFFICER)])
    make_user([(goteborg, Role.MANAGER)])
    make_user([(alingsas, Role.CASE_OFFICER)])
    make_user([(goteborg, Role.CASE_OFFICER)], is_enabled=False)
    task = make_task(goteborg, Role.CASE_OFFICER)
    assert notify_task_offered(task) == 2 and notify_deadline_soon(task) == 2
    assert _told(db, task) == _told(db, task, "deadline_soon") == [officer.id, both.id]


def test_task_without_organisation_or_person_has_no_recipients(db: Any, make_user: Callable[..., Any],
                                                              make_task: Callable[..., Any]) -> None:
    make_user()
    task = make_task(None)
    assert notify_task_offered(task) == notify_deadline_soon(task) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_notify_writes_one_row_per_person_with_or_without_email(db: Any, make_user: Callable[..., Any]) -> None:
    with_mail, without_mail = make_user(email="anna@goteborg.se"), make_user()
    rows = notify([with_mail, without_mail, with_mail], NotificationKind.OTHER, "Hej", "Text")
    assert sorted(row.user_id for row in rows) == sorted([with_mail.id, without_mail.id])
    assert all(row.sent_at is None and row.attempts == 0 and not row.is_digest for row in rows)
    assert [row.user_id for row in list_outbox()] == [with_mail.id]  # the other is listed in the app only


def test_digest_choice_holds_only_new_task_notifications(db: Any, make_user: Callable[..., Any]) -> None:
    user = make_user(email="anna@goteborg.se")
    set_wants_digest(user, True)
    offered = notify([user], NotificationKind.TASK_OFFERED, "Ny uppgift: x", "Text")
    reminder = notify([user], NotificationKind.DEADLINE_SOON, "Påminnelse: x", "Text")
    assert offered[0].is_digest and not reminder[0].is_digest


def test_task_offered_text_is_swedish_and_links_to_the_task(app: Flask, db: Any, make_organisation: Callable[..., Any],
                                                            make_user: Callable[..., Any],
                                                            make_task: Callable[..., Any]) -> None:
    kommun = make_organisation(name="Göteborgs Stad")
    member = make_user([(kommun, Role.CASE_OFFICER)], email="anna@goteborg.se")
    task = make_task(kommun, Role.CASE_OFFICER, due_at=datetime(2026, 12, 1, 22, 30, tzinfo=UTC))
    app.config["PUBLIC_URL"] = "https://samverkan.example.se/"
    try:
        assert notify_task_offered(task) == 1
        head, tail = _body_around_organisation(task, "Påminnelse")
    finally:
        app.config.pop("PUBLIC_URL")
    row = db.session.scalars(select(Notification).where(Notification.task_row_id == task.id)).one()
    assert (row.user_id, row.kind, row.subject) == (member.id, "task_offered", "Ny uppgift: Besluta om avtalet")
    assert f"https://samverkan.example.se/uppgifter/{task.id}" in row.body
    assert "Ärende: Samverkan kring psykisk hälsa" in row.body
    assert "Handläggare, Göteborgs Stad\n" in row.body  # the group's name, joined in by the INSERT ... SELECT
    # The same text as the one composed in Python around the organisation's name, but for the first line.
    assert row.body.split("\n")[1:] == f"{head}Göteborgs Stad{tail}".split("\n")[1:]
    assert "Senast: 2026-12-01" in row.body  # 23:30 in Stockholm, still the 1st
    assert (row.instance_id, row.task_row_id) == (task.instance_id, task.id)


def test_escalation_and_deadline_reminder(db: Any, make_organisation: Callable[..., Any], make_user: Callable[..., Any],
                                          make_task: Callable[..., Any]) -> None:
    kommun = make_organisation()
    user = make_user([(kommun, Role.MANAGER)])
    set_wants_digest(user, True)
    task = make_task(kommun, Role.MANAGER, due_at=datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert notify_task_offered(task, escalated=True) == 1
    escalated = db.session.scalars(select(Notification).where(Notification.task_row_id == task.id)).one()
    assert notify_deadline_soon(task) == 1
    reminder = db.session.scalars(select(Notification).where(Notification.kind == "deadline_soon")).one()
    assert (escalated.kind, escalated.is_digest) == ("escalated", False)
    assert escalated.subject == "Eskalerad uppgift: Besluta om avtalet"
    assert (reminder.kind, reminder.subject) == ("deadline_soon", "Påminnelse: Besluta om avtalet – senast 2026-12-01")
    assert f"http://127.0.0.1:5000/uppgifter/{task.id}" in reminder.body
    assert not reminder.is_digest  # the digest holds new tasks only


def test_notification_is_rolled_back_with_the_change_that_caused_it(db: Any, make_user: Callable[..., Any]) -> None:
    user = make_user()
    notify([user], NotificationKind.OTHER, "Hej", "Text")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_list_newest_first_and_mark_read_only_own(db: Any, make_user: Callable[..., Any],
                                                 controlled_clock: Any) -> None:
    owner, other = make_user(), make_user()
    controlled_clock.freeze(datetime(2026, 11, 24, 8, tzinfo=UTC))
    first = notify([owner], NotificationKind.OTHER, "Första", "Text")[0]
    controlled_clock.advance(datetime(2026, 11, 24, 9, tzinfo=UTC) - datetime(2026, 11, 24, 8, tzinfo=UTC))
    second = notify([owner], NotificationKind.OTHER, "Andra", "Text")[0]
    notify([other], NotificationKind.OTHER, "Annans", "Text")
    assert list_notifications_for(owner) == [second, first]
    with pytest.raises(NotPermitted):
        mark_read(first, other)
    assert count_unread(owner) == 2
    mark_read(first, owner)
    assert first.read_at == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert count_unread(owner) == 1
