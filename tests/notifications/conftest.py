"""Fixtures for the notification outbox: tasks to notify about, a real SMTP server, a controllable clock."""

from __future__ import annotations

import email
import socket
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from service import clock
from service.parties.models import Organisation
from service.processes.models import HumanTask, ProcessDefinition, ProcessInstance


def free_port() -> int:
    """A port nobody listens on (aiosmtpd cannot bind port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """Collects what the SMTP server receives."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [cast(EmailMessage, email.message_from_bytes(envelope.original_content or b"", policy=default_policy))
                for envelope in self.envelopes]

    def recipients(self) -> list[str]:
        return sorted(address for envelope in self.envelopes for address in envelope.rcpt_tos)


class SmtpServer:
    """A real aiosmtpd server on a fixed free port that a test can start late (to simulate an outage)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    @property
    def config(self) -> dict[str, Any]:
        return {"MAIL_HOST": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_FROM": "Samverkan <samverkan@test.se>",
                "MAIL_TIMEOUT": 5}

    def start(self, **options: Any) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """A mail server that is not running yet; ``start()`` it to end the outage."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down: SmtpServer) -> SmtpServer:
    smtp_down.start()
    return smtp_down


@pytest.fixture
def controlled_clock() -> Iterator[Any]:
    yield clock
    clock.reset()


@pytest.fixture
def make_task(db: Any) -> Callable[..., HumanTask]:
    """A READY task in a minimal process instance (no engine involved)."""
    definition = ProcessDefinition(process_id="test_process", version=1, name="Testprocess", filename="test.bpmn",
                                   bpmn_xml="<definitions/>", forms={}, sha256="0" * 64)
    instance = ProcessInstance(definition=definition, title="Samverkan kring psykisk hälsa", state="{}")
    db.session.add(instance)
    db.session.commit()

    def make(organisation: Organisation | None = None, role: str = "case_officer", **overrides: Any) -> HumanTask:
        overrides.setdefault("name", "Besluta om avtalet")
        task = HumanTask(instance=instance, task_id=str(uuid.uuid4()), bpmn_id="decide", form="decision", role=role,
                         case_title=instance.title,
                         organisation_id=organisation.id if organisation is not None else None, **overrides)
        db.session.add(task)
        db.session.commit()
        return task

    return make
