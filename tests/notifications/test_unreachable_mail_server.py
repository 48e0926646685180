"""A mail server configured but not answering (issue #18, item 10): the outbox says so in the reader's language,
naming the server, and the exception stays in the log (it once showed a raw ``ConnectionRefusedError``)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.notifications.models import Notification, NotificationKind
from service.notifications.operations import notify
from service.notifications.sender import ADDRESS_REFUSED, FAILED, LOGIN_REFUSED, UNREACHABLE, deliver_pending, problem_kind
from service.parties.models import Role
from service.transactions import commit_with_retry
from tests.conftest import login


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_mail_server_is_named_on_the_outbox_and_the_error_is_logged(
        app: Flask, db: Any, make_organisation: Callable[..., Any], make_user: Callable[..., Any],
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    region = make_organisation(name="Västra Götalandsregionen")
    make_user([(region, Role.ADMIN)], username="admin_unreachable")
    commit_with_retry(lambda: notify([make_user(email="person@vgregion.se")], NotificationKind.OTHER,
                                     "Avvikelse rapporterad", "Läs mer i Samverkan."))
    port = closed_port()
    monkeypatch.setitem(app.config, "MAIL_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)

    with caplog.at_level(logging.WARNING):
        assert commit_with_retry(lambda: deliver_pending(app.config)).failed == 1
    assert any("mail server" in r.getMessage() and "refused" in r.getMessage().lower() for r in caplog.records)
    db.session.expire_all()
    assert db.session.scalars(select(Notification)).one().last_error.startswith("ConnectionRefusedError")

    client = app.test_client()
    login(client, "admin_unreachable")
    swedish = client.get("/admin/schemalaggning", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    english = client.get("/admin/schemalaggning", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"e-postservern svarar inte (127.0.0.1:{port})" in swedish
    assert f"the mail server does not answer (127.0.0.1:{port})" in english
    assert "ConnectionRefusedError" not in swedish + english and "Errno" not in swedish + english


def test_each_kind_of_delivery_error_has_its_message() -> None:
    assert problem_kind("ConnectionRefusedError: [Errno 111] Connection refused") == UNREACHABLE
    assert problem_kind("TimeoutError: timed out") == UNREACHABLE
    assert problem_kind("gaierror: [Errno -2] Name or service not known") == UNREACHABLE
    assert problem_kind("SMTPAuthenticationError: (535, b'5.7.8 Error')") == LOGIN_REFUSED
    assert problem_kind("SMTPRecipientsRefused: {'x@y': (550, b'no')}") == ADDRESS_REFUSED
    assert problem_kind("SMTPDataError: (554, b'rejected')") == FAILED
