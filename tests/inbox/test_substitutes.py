"""Substitutes: during the absent person's leave their substitute sees and completes their personal and
group tasks, and the audit event names both; before and after the period nothing is shared."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import clock
from service.audit.models import AuditEvent
from service.inbox.models import Substitute
from service.parties.models import Role
from tests.inbox.conftest import VALID, World, post, signed_in


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    yield
    clock.reset()


@pytest.fixture
def colleague(world: World, make_user: Any) -> Any:
    """Eva works in the east organisation as a manager: not in the Handläggare group herself."""
    return make_user([(world.east, Role.MANAGER)], username="eva", display_name="Eva Ersättare")


def name_substitute(app: Flask, world: World, colleague: Any, starts_on: str, ends_on: str) -> Any:
    alice = signed_in(app, "alice")
    return post(alice, "/franvaro", {"substitute_id": colleague.id, "starts_on": starts_on, "ends_on": ends_on},
                page="/franvaro")


def listed(client: Any, url: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-task-id="(\d+)"', client.get(url).get_data(as_text=True))]


def test_within_the_period_the_substitute_sees_and_completes_and_the_audit_names_both(
        app: Flask, db: Any, world: World, colleague: Any) -> None:
    group_task = world.start("Gruppens ärende")
    claimed = world.start("Alices ärende")
    post(signed_in(app, "alice"), f"/uppgifter/{claimed.id}/ta")
    assert name_substitute(app, world, colleague, "2026-11-23", "2026-11-27").status_code == 302
    eva = signed_in(app, "eva")

    assert listed(eva, "/uppgifter?lista=mina") == [claimed.id]
    assert listed(eva, "/uppgifter?lista=grupp") == [group_task.id]
    assert "Du ersätter Alice Ek." in eva.get(f"/uppgifter/{claimed.id}").get_data(as_text=True)
    done = post(eva, f"/uppgifter/{claimed.id}", {"_action": "complete", **VALID}, page=f"/uppgifter/{claimed.id}")

    assert done.status_code == 302
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).one()
    assert event.actor_id == colleague.id and event.actor_name == "Eva Ersättare"
    assert event.data["on_behalf_of"] == {"id": world.alice.id, "name": "Alice Ek"}


def test_outside_the_period_the_substitute_sees_nothing(app: Flask, db: Any, world: World, colleague: Any) -> None:
    task = world.start()
    name_substitute(app, world, colleague, "2026-12-01", "2026-12-05")
    eva = signed_in(app, "eva")

    assert listed(eva, "/uppgifter?lista=grupp") == []
    assert eva.get(f"/uppgifter/{task.id}").status_code == 403
    clock.freeze(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    assert listed(eva, "/uppgifter?lista=grupp") == [task.id]
    clock.freeze(datetime(2026, 12, 5, 23, 30, tzinfo=UTC))  # 6 December in Sweden: the leave is over
    assert listed(eva, "/uppgifter?lista=grupp") == []


def test_a_completion_by_the_person_themselves_names_nobody_else(app: Flask, db: Any, world: World, colleague: Any) -> None:
    task = world.start()
    name_substitute(app, world, colleague, "2026-11-23", "2026-11-27")

    post(signed_in(app, "adam"), f"/uppgifter/{task.id}", {"_action": "complete", **VALID}, page=f"/uppgifter/{task.id}")

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).one()
    assert event.actor_id == world.adam.id and event.data["on_behalf_of"] is None


def test_a_substitute_must_be_a_colleague_and_the_dates_in_order(app: Flask, db: Any, world: World, colleague: Any) -> None:
    alice = signed_in(app, "alice")

    outsider = post(alice, "/franvaro", {"substitute_id": world.bertil.id, "starts_on": "2026-11-23",
                                         "ends_on": "2026-11-27"}, page="/franvaro")
    backwards = post(alice, "/franvaro", {"substitute_id": colleague.id, "starts_on": "2026-11-27",
                                          "ends_on": "2026-11-23"}, page="/franvaro")

    assert outsider.status_code == backwards.status_code == 422
    assert 'id="fel-substitute_id"' in outsider.get_data(as_text=True)
    assert 'id="fel-ends_on"' in backwards.get_data(as_text=True)
    assert db.session.scalars(select(Substitute)).all() == []
