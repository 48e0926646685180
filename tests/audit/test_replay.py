"""Deterministic re-execution: every instance of representative scenarios (the other issues' own flow tests,
run here as they are) is rebuilt from its definition version and recorded inputs and found identical."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import clock
from service.audit.replay import engine_events, recorded_history, replay_all, replay_instance
from service.engine import replay as engine_replay
from service.engine import runner
from service.processes.definitions import parsed
from service.processes.models import ProcessInstance
from tests.audit import scenarios
from tests.conftest import Parties
from tests.deviations import test_deviation_flow as deviation_flow
from tests.deviations.world import World
from tests.inbox import test_adoption_flow as adoption_flow


@pytest.fixture
def adoption_clock() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # as tests/inbox/test_adoption_flow.py's autouse fixture
    yield
    clock.reset()


def assert_every_instance_identical(db: Any, at_least: int) -> None:
    db.session.expire_all()
    results = replay_all()
    assert len(results) == db.session.scalar(select(func.count()).select_from(ProcessInstance)) >= at_least
    assert [r.summary() for r in results if not r.is_identical] == []
    assert all(r.steps >= 1 for r in results)


def test_adoption_with_return_and_readoption(client: FlaskClient, db: Any, parties: Parties, adoption_clock: None) -> None:
    adoption_flow.test_three_parties_one_returns_it_then_all_adopt(client, db, parties)
    assert_every_instance_identical(db, at_least=2)


def test_lifecycle_follow_up_by_timer(client: FlaskClient, db: Any, parties: Parties, make_user: Any,
                                     adoption_clock: None) -> None:
    adoption_flow.test_yearly_follow_up_starts_when_the_clock_passes_the_anniversary(client, db, parties, make_user)
    assert_every_instance_identical(db, at_least=2)


def test_deviation_with_escalation(world: World) -> None:
    scenarios.deviation_escalated(world)
    assert_every_instance_identical(world.db, at_least=1)


def test_deviation_contested_then_dispute(world: World) -> None:
    deviation_flow.test_contested_answer_goes_back_once_then_to_analysis_and_a_dispute(world)
    assert_every_instance_identical(world.db, at_least=2)


def test_dispute_escalated_to_level_three(world: World) -> None:
    scenarios.dispute_to_county(world)
    assert_every_instance_identical(world.db, at_least=1)


def test_a_changed_input_is_found_at_its_step(world: World) -> None:
    scenarios.dispute_to_county(world)
    instance = world.db.session.scalars(select(ProcessInstance)).one()
    events = engine_events(instance.id)
    history = recorded_history(events)
    position = next(i for i, step in enumerate(history) if isinstance(step.operation, engine_replay.Completion))
    changed = replace(history[position].operation, input={**history[position].operation.input, "outcome": "disagreed"})
    history[position] = replace(history[position], operation=changed)
    definition = parsed(instance.definition)
    stored = runner.load(definition, instance.state)
    try:
        rebuilt = engine_replay.replay(definition, history, reference=stored)
    except engine_replay.Divergence as exc:
        assert exc.index >= position
    else:
        assert engine_replay.compare(stored, rebuilt) is not None


@pytest.mark.no_reexecution  # tampers on purpose
def test_a_tampered_state_is_reported(world: World, app: Flask) -> None:
    scenarios.dispute_to_county(world)
    db = world.db
    instance = db.session.scalars(select(ProcessInstance)).one()
    assert "bekostar" in instance.state
    instance.state = instance.state.replace("Regionen bekostar", "Kommunen bekostar")
    db.session.commit()
    result = replay_instance(instance)
    assert not result.is_identical and result.differing_step == result.steps and "sluttillståndet" in result.reason
    output = app.test_cli_runner().invoke(args=["audit", "replay", str(instance.id)])
    assert output.exit_code == 1 and "skiljer sig vid steg" in output.output

