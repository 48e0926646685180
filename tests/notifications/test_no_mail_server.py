"""Without a mail server (the README's default) mail waits in the outbox, quietly; configured, it is sent
(issue #18, item 10)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.notifications.models import Notification, NotificationKind
from service.notifications.operations import notify
from service.notifications.sender import DeliveryReport, deliver_pending, send_digests
from service.parties.models import Role
from service.transactions import commit_with_retry
from tests.conftest import login
from tests.notifications.conftest import SmtpServer


def test_unconfigured_mail_waits_quietly_and_is_sent_once_configured(
        app: Flask, db: Any, smtp: SmtpServer, make_organisation: Callable[..., Any], make_user: Callable[..., Any],
        caplog: pytest.LogCaptureFixture) -> None:
    region = make_organisation(name="Västra Götalandsregionen")
    make_user([(region, Role.ADMIN)], username="admin_mail")
    people = [make_user(email=f"person{n}@vgregion.se") for n in range(2)]
    commit_with_retry(lambda: notify(people, NotificationKind.OTHER, "Avvikelse rapporterad", "Läs mer i Samverkan."))
    assert not app.config["MAIL_HOST"]  # the default: no mail server

    with caplog.at_level(logging.INFO):
        for _ in range(3):  # the scheduler's runs, every MAIL_SEND_SECONDS
            assert commit_with_retry(lambda: deliver_pending(app.config)) == DeliveryReport()
        assert commit_with_retry(lambda: send_digests(app.config)) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("service")]
    db.session.expire_all()
    rows = list(db.session.scalars(select(Notification)))
    assert [(r.sent_at, r.attempts, r.last_error, r.next_attempt_at) for r in rows] == [(None, 0, "", None)] * 2

    client = app.test_client()
    login(client, "admin_mail")
    page = client.get("/admin/schemalaggning").get_data(as_text=True)
    assert page.count("inte skickat: ingen e-postserver konfigurerad") == 2 and "Error" not in page

    configured = {**app.config, **smtp.config}
    assert commit_with_retry(lambda: deliver_pending(configured)) == DeliveryReport(sent=2)
    assert smtp.mailbox.recipients() == sorted(person.email for person in people)
