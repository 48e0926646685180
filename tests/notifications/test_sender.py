"""Delivery through a real SMTP server: recipients, retries after an outage, digests, parallel senders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select, text, update

from service.notifications.models import Notification, NotificationKind
from service.notifications.operations import notify, notify_task_offered, set_wants_digest
from service.notifications.sender import DeliveryReport, deliver_pending, flag, send_digests
from service.parties.models import Role
from service.transactions import commit_with_retry
from tests.notifications.conftest import SmtpServer

START = datetime(2026, 11, 24, 8, tzinfo=UTC)


def all_rows(db: Any) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def test_group_task_is_mailed_to_each_member_with_an_address(
        db: Any, smtp: SmtpServer, make_organisation: Callable[..., Any], make_user: Callable[..., Any],
        make_task: Callable[..., Any]) -> None:
    kommun, region = make_organisation(name="Göteborgs Stad"), make_organisation(name="Västra Götalandsregionen")
    make_user([(kommun, Role.CASE_OFFICER)], email="anna@goteborg.se", display_name="Anna Åström")
    make_user([(kommun, Role.CASE_OFFICER)], email="bo@goteborg.se")
    make_user([(kommun, Role.CASE_OFFICER)])  # no address: listed in the app only
    make_user([(region, Role.CASE_OFFICER)], email="cecilia@vgregion.se")
    task = make_task(kommun, Role.CASE_OFFICER, name="Granska förslaget")
    commit_with_retry(lambda: notify_task_offered(task))

    report = commit_with_retry(lambda: deliver_pending(smtp.config))

    assert report == DeliveryReport(sent=2, failed=0)
    assert smtp.mailbox.recipients() == ["anna@goteborg.se", "bo@goteborg.se"]
    message = next(m for m in smtp.mailbox.messages if "anna@" in str(m["To"]))
    assert message["Subject"] == "Ny uppgift: Granska förslaget"
    assert message["To"] == "Anna Åström <anna@goteborg.se>"
    assert f"/uppgifter/{task.id}" in message.get_content()
    rows = all_rows(db)
    assert [row.sent_at is not None for row in rows] == [True, True, False]
    assert commit_with_retry(lambda: deliver_pending(smtp.config)) == DeliveryReport()
    assert len(smtp.mailbox.envelopes) == 2


def test_outage_postpones_and_a_later_run_delivers_each_row_once(
        db: Any, smtp_down: SmtpServer, make_user: Callable[..., Any], controlled_clock: Any) -> None:
    controlled_clock.freeze(START)
    users = [make_user(email=f"person{n}@alingsas.se") for n in range(3)]
    commit_with_retry(lambda: notify(users, NotificationKind.OTHER, "Avvikelse rapporterad", "Läs mer i Samverkan."))

    report = commit_with_retry(lambda: deliver_pending(smtp_down.config))

    assert report == DeliveryReport(sent=0, failed=3)
    for row in all_rows(db):
        assert (row.sent_at, row.attempts) == (None, 1)
        assert row.next_attempt_at is not None and row.next_attempt_at > START
        assert "Connection" in row.last_error or "Errno" in row.last_error

    smtp_down.start()
    assert commit_with_retry(lambda: deliver_pending(smtp_down.config)) == DeliveryReport()  # not due yet
    controlled_clock.advance(timedelta(minutes=2))
    assert commit_with_retry(lambda: deliver_pending(smtp_down.config)) == DeliveryReport(sent=3)
    assert commit_with_retry(lambda: deliver_pending(smtp_down.config)) == DeliveryReport()
    assert smtp_down.mailbox.recipients() == sorted(user.email for user in users)
    assert all(row.sent_at == START + timedelta(minutes=2) for row in all_rows(db))


def test_backoff_grows_and_is_capped(db: Any, smtp_down: SmtpServer, make_user: Callable[..., Any],
                                     controlled_clock: Any) -> None:
    controlled_clock.freeze(START)
    user = make_user(email="anna@goteborg.se")
    commit_with_retry(lambda: notify([user], NotificationKind.OTHER, "Hej", "Text"))
    waits = []
    for _ in range(8):
        commit_with_retry(lambda: deliver_pending(smtp_down.config))
        [row] = all_rows(db)
        waits.append(row.next_attempt_at - controlled_clock.now())
        controlled_clock.advance(waits[-1])
    assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert waits[-1] == timedelta(hours=1) and row.attempts == 8


def test_a_refused_recipient_does_not_stop_the_batch(db: Any, smtp: SmtpServer, make_user: Callable[..., Any],
                                                     controlled_clock: Any) -> None:
    controlled_clock.freeze(START)
    refused, accepted = make_user(email="finns.inte@goteborg.se"), make_user(email="anna@goteborg.se")

    async def handle_RCPT(server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address.startswith("finns.inte"):
            return "550 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp.mailbox.handle_RCPT = handle_RCPT  # type: ignore[attr-defined]
    commit_with_retry(lambda: notify([refused, accepted], NotificationKind.OTHER, "Hej", "Text"))

    assert commit_with_retry(lambda: deliver_pending(smtp.config)) == DeliveryReport(sent=1, failed=1)
    by_user = {row.user_id: row for row in all_rows(db)}
    assert by_user[accepted.id].sent_at is not None
    assert by_user[refused.id].sent_at is None and by_user[refused.id].attempts == 1
    assert "550" in by_user[refused.id].last_error


def test_digest_users_get_one_email_with_all_held_rows(
        db: Any, smtp: SmtpServer, make_organisation: Callable[..., Any], make_user: Callable[..., Any],
        make_task: Callable[..., Any]) -> None:
    kommun = make_organisation()
    digest = make_user([(kommun, Role.CASE_OFFICER)], email="digest@goteborg.se")
    direct = make_user([(kommun, Role.CASE_OFFICER)], email="direkt@goteborg.se")
    commit_with_retry(lambda: set_wants_digest(digest, True))
    tasks = [make_task(kommun, Role.CASE_OFFICER, name=f"Uppgift {n}") for n in range(1, 4)]
    for task in tasks:
        commit_with_retry(partial(notify_task_offered, task))
    commit_with_retry(lambda: notify([digest], NotificationKind.DEADLINE_SOON, "Påminnelse: Uppgift 1", "Snart."))

    assert commit_with_retry(lambda: deliver_pending(smtp.config)) == DeliveryReport(sent=4)
    assert smtp.mailbox.recipients().count("digest@goteborg.se") == 1  # the reminder is not held
    assert commit_with_retry(lambda: send_digests(smtp.config)) == 1
    assert commit_with_retry(lambda: send_digests(smtp.config)) == 0

    message = smtp.mailbox.messages[-1]
    assert smtp.mailbox.envelopes[-1].rcpt_tos == ["digest@goteborg.se"]
    assert message["Subject"] == "Samverkan: 3 nya aviseringar"
    assert all(f"Ny uppgift: Uppgift {n}" in message.get_content() for n in range(1, 4))
    assert all(row.sent_at is not None for row in all_rows(db) if row.user_id in (digest.id, direct.id))


def test_digest_outage_keeps_rows_for_the_next_run(db: Any, smtp_down: SmtpServer, make_user: Callable[..., Any]) -> None:
    user = make_user(email="digest@goteborg.se")
    commit_with_retry(lambda: set_wants_digest(user, True))
    commit_with_retry(lambda: notify([user], NotificationKind.TASK_OFFERED, "Ny uppgift: x", "Text"))
    assert commit_with_retry(lambda: send_digests(smtp_down.config)) == 0
    assert [(row.sent_at, row.attempts) for row in all_rows(db)] == [(None, 1)]
    smtp_down.start()
    assert commit_with_retry(lambda: send_digests(smtp_down.config)) == 1
    assert smtp_down.mailbox.messages[0]["Subject"] == "Samverkan: 1 ny avisering"


def test_a_second_sender_never_sends_a_row_twice(app: Any, db: Any, backend: str, smtp: SmtpServer,
                                                 make_user: Callable[..., Any]) -> None:
    """PostgreSQL: a sender skips rows another sender has locked (SKIP LOCKED). SQLite locks the whole
    database, so senders run one after the other: the second finds nothing left to send."""
    users = [make_user(email=f"person{n}@goteborg.se") for n in range(2)]
    rows = commit_with_retry(lambda: notify(users, NotificationKind.OTHER, "Hej", "Text"))
    if backend == "postgresql":
        with db.engine.connect() as other_sender:
            other_sender.execute(text("SELECT id FROM notifications WHERE id = :id FOR UPDATE"), {"id": rows[0].id})
            assert commit_with_retry(lambda: deliver_pending(smtp.config)) == DeliveryReport(sent=1)
            other_sender.rollback()
        assert smtp.mailbox.recipients() == ["person1@goteborg.se"]
    else:
        assert commit_with_retry(lambda: deliver_pending(smtp.config)) == DeliveryReport(sent=2)
        assert commit_with_retry(lambda: deliver_pending(smtp.config)) == DeliveryReport()
        assert sorted(smtp.mailbox.recipients()) == ["person0@goteborg.se", "person1@goteborg.se"]


def accept_only(username: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (username.encode(), password.encode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535 itself
    return authenticate


def test_credentials_from_configuration(db: Any, smtp_down: SmtpServer, make_user: Callable[..., Any]) -> None:
    smtp_down.start(authenticator=accept_only("samverkan", "hemligt"), auth_require_tls=False)
    user = make_user(email="anna@goteborg.se")
    commit_with_retry(lambda: notify([user], NotificationKind.OTHER, "Hej", "Text"))
    wrong = {**smtp_down.config, "MAIL_USERNAME": "samverkan", "MAIL_PASSWORD": "fel"}
    assert commit_with_retry(lambda: deliver_pending(wrong)) == DeliveryReport(failed=1)
    assert "SMTPAuthenticationError" in all_rows(db)[0].last_error
    right = {**smtp_down.config, "MAIL_USERNAME": "samverkan", "MAIL_PASSWORD": "hemligt"}
    db.session.execute(update(Notification).values(next_attempt_at=None))
    db.session.commit()
    assert commit_with_retry(lambda: deliver_pending(right)) == DeliveryReport(sent=1)


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), ("1", True), ("Ja", True),
                                                 (False, False), ("False", False), ("0", False), ("", False), (None, False)])
def test_yes_no_settings_from_the_environment(value: Any, expected: bool) -> None:
    assert flag({"MAIL_USE_TLS": value}, "MAIL_USE_TLS") is expected
