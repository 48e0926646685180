"""Running cases get the corrected appeal period: ``samverkan timers recompute appeal_period_over`` moves the
timers that already wait (computed before the lag 1930:173 fix) to the law's last day, under the instance's
lock, with the timer rows and an audit event in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service import clock
from service.agreements.models import DecisionStage
from service.audit.models import AuditEvent
from service.engine import scripting
from service.processes.models import ProcessTimer, TimerStatus
from tests.conftest import Parties, decision_data, draft_data
from tests.inbox.test_adoption_flow import agreement, complete, fire_due_timers, start_agreement

POSTED = {"minutes_approved_on": "2026-12-10", "posted_on": "2026-12-11"}
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _as_deployed_before_the_fix(posted_on: str) -> str:
    """The expression of versions deployed before December 2026: 21 calendar days, never moved."""
    day = datetime.fromisoformat(posted_on) + timedelta(days=21)
    return day.replace(hour=23, minute=59, second=59, tzinfo=STOCKHOLM).isoformat()


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 11, 12, 0, tzinfo=UTC))
    yield
    clock.reset()


def waiting_appeal_timers(db: Any) -> list[ProcessTimer]:
    db.session.expire_all()
    return list(db.session.scalars(select(ProcessTimer).where(
        ProcessTimer.bpmn_id == "appeal_period_over", ProcessTimer.status == TimerStatus.WAITING)))


def test_waiting_appeal_timers_move_to_the_law_s_last_day(app: Flask, client: FlaskClient, db: Any, parties: Parties,
                                                          frozen: None, monkeypatch: pytest.MonkeyPatch) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties))
    monkeypatch.setitem(scripting.HELPERS, "appeal_period_end", _as_deployed_before_the_fix)
    for organisation in parties.all:
        user = parties.secretaries[organisation.id].username
        complete(client, db, user, "decide", decision_data(organisation), organisation.id)
        complete(client, db, user, "record_minutes", POSTED, organisation.id)
    monkeypatch.undo()
    wrong = datetime(2027, 1, 1, 23, 59, 59, tzinfo=STOCKHOLM)  # nyårsdagen
    assert [row.due_at for row in waiting_appeal_timers(db)] == [wrong] * 3

    result = app.test_cli_runner().invoke(args=["timers", "recompute", "appeal_period_over"])

    assert result.exit_code == 0 and "3 väntande" in result.output, result.output
    right = datetime(2027, 1, 4, 23, 59, 59, tzinfo=STOCKHOLM)  # Monday after nyårsdagen and the weekend
    assert [row.due_at for row in waiting_appeal_timers(db)] == [right] * 3
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "timer.recomputed")).all()
    assert len(events) == 3 and {e.data["new_due"][:10] for e in events} == {"2027-01-04"}
    assert app.test_cli_runner().invoke(args=["timers", "recompute", "appeal_period_over"]).output.startswith("0 ")

    clock.freeze(datetime(2027, 1, 2, 12, 0, tzinfo=UTC))  # the old date has passed: nothing becomes final
    assert fire_due_timers(db) == 0
    assert {d.stage for d in agreement(db, agreement_id).latest_version.decisions} == {DecisionStage.POSTED}
    clock.freeze(datetime(2027, 1, 5, 0, 0, tzinfo=UTC))
    assert fire_due_timers(db) == 3
    assert {d.stage for d in agreement(db, agreement_id).latest_version.decisions} == {DecisionStage.FINAL}


def test_the_agreement_page_shows_each_decision_s_last_appeal_day(client: FlaskClient, db: Any, parties: Parties,
                                                                  frozen: None) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties))
    region = parties.region
    complete(client, db, parties.secretaries[region.id].username, "decide", decision_data(region), region.id)
    complete(client, db, parties.secretaries[region.id].username, "record_minutes", POSTED, region.id)

    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)

    assert "sista dag för överklagande 2027-01-04" in page
    assert agreement(db, agreement_id).latest_version.decisions[0].last_appeal_day.isoformat() == "2027-01-04"
