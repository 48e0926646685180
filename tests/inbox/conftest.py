"""Inbox fixtures: a small process (tests/inbox/fixtures/inbox_review.bpmn) whose first task is offered to a
group (Handläggare of one organisation) and whose second goes to another organisation's group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.parties.models import Organisation, Role, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, TaskStatus
from service.processes.operations import start_process
from service.transactions import commit_with_retry
from tests.conftest import csrf_token, login

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class World:
    east: Organisation
    west: Organisation
    alice: User  # Handläggare, east
    adam: User  # Handläggare, east
    bertil: User  # Handläggare, west
    olle: User  # an auditor elsewhere: reads everything, changes nothing
    stranger: User  # Handläggare of an unrelated organisation
    start: Callable[..., HumanTask]


@pytest.fixture
def world(db: Any, make_organisation: Any, make_user: Any) -> World:
    commit_with_retry(lambda: deploy_definition((FIXTURES / "inbox_review.bpmn").read_bytes(), "inbox_review.bpmn",
                                                FIXTURES, by=None))
    east, west, other = (make_organisation(name=n) for n in ("Östra kommun", "Västra kommun", "Annan kommun"))
    alice = make_user([(east, Role.CASE_OFFICER)], username="alice", display_name="Alice Ek")
    adam = make_user([(east, Role.CASE_OFFICER)], username="adam", display_name="Adam Al")
    bertil = make_user([(west, Role.CASE_OFFICER)], username="bertil", display_name="Bertil Björk")
    olle = make_user([(other, Role.AUDITOR)], username="olle", display_name="Olle Granskare")
    stranger = make_user([(other, Role.CASE_OFFICER)], username="stranger", display_name="Sven Främling")

    def start(title: str = "Granskning av underlag", organisation: Organisation = east, days: int | None = 5,
              by: User = alice) -> HumanTask:
        data = {"organisation_id": organisation.id, "next_organisation_id": west.id, "review_days": days}
        instance = commit_with_retry(lambda: start_process("inbox_review", by=by, title=title, data=data))
        return db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == TaskStatus.READY)).one()

    return World(east, west, alice, adam, bertil, olle, stranger, start)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, page: str = "/uppgifter", **kwargs: Any) -> Any:
    """POST with a CSRF token taken from ``page``."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def signed_in(app: Flask, username: str) -> FlaskClient:
    """A new client (its own cookie jar) logged in as ``username``."""
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


VALID = {"summary": "Underlaget är komplett", "reviewed_on": "2026-11-20", "verdict": "ok"}
