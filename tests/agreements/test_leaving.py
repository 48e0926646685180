"""#19 item 7: leaving (uppsägning) is one party's decision by its behörig instans, registered only by that party's
secretary, with the notice period the agreement states; the party leaves when the notice period has ended, the others
stay bound, and the agreement ends when fewer than two parties remain or when every party decides to end it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import clock
from service.agreements.leaving import add_months, process_leavings
from service.agreements.models import AgreementStatus
from service.audit.models import AuditEvent
from service.parties.models import Role
from service.processes.models import ProcessTimer, TimerStatus
from service.transactions import commit_with_retry
from tests.conftest import Parties
from tests.inbox.test_adoption_flow import adopted_agreement, agreement, as_user, post_form


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # after the decisions' dates (conftest.MINUTES)
    yield
    clock.reset()


def stockholm(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Stockholm wall-clock moment (the tz database, not the app's calendar)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Stockholm"))


def leaving_form(organisation: Any, **overrides: Any) -> dict[str, Any]:
    data = {"organisation_id": organisation.id, "body_id": organisation.bodies[0].id, "decided_on": "2027-03-09",
            "paragraph": "§ 41", "diarienummer": "KS 2027/112", "notified_on": "2027-03-15",
            "reason": "Verksamheten läggs ned."}
    data.update(overrides)
    return data


def run_job() -> list[int]:
    return commit_with_retry(process_leavings)


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2027, 3, 15), 6, date(2027, 9, 15)), (date(2027, 8, 31), 6, date(2028, 2, 29)),
    (date(2027, 11, 30), 3, date(2028, 2, 29)), (date(2028, 12, 31), 2, date(2029, 2, 28)),
    (date(2027, 1, 31), 12, date(2028, 1, 31)), (date(2027, 5, 5), 0, date(2027, 5, 5))])
def test_the_notice_period_ends_the_same_day_months_later_or_at_the_end_of_a_shorter_month(
        start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end


def test_only_the_partys_secretary_registers_its_leaving(client: FlaskClient, db: Any, parties: Parties, make_user: Any,
                                                         frozen: None) -> None:
    make_user([(parties.alingsas, Role.MANAGER)], username="chef_alingsas")
    outsider = parties.region.__class__(name="Borås Stad", kind="kommun")
    db.session.add(outsider)
    db.session.commit()
    make_user([(outsider, Role.BODY_SECRETARY)], username="sekr_boras")
    agreement_id = adopted_agreement(client, db, parties)
    url = f"/avtal/{agreement_id}/uppsagning"

    as_user(client, "sekr_boras")
    assert client.get(url).status_code == 404
    for username in ("chef_alingsas", parties.officers[parties.alingsas.id].username, "anna"):
        as_user(client, username)
        assert client.get(url).status_code == 403
        assert "Säg upp avtalet" not in client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    as_user(client, parties.secretaries[parties.alingsas.id].username)
    assert "Säg upp avtalet" in client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    empty = post_form(client, url, {"organisation_id": parties.alingsas.id, "body_id": "", "decided_on": "",
                                    "paragraph": "", "diarienummer": "", "notified_on": ""})
    page = empty.get_data(as_text=True)
    assert empty.status_code == 422
    assert all(f'id="{name}-error"' in page for name in ("body_id", "decided_on", "paragraph", "diarienummer",
                                                          "notified_on"))
    other_body = post_form(client, url, leaving_form(parties.alingsas, body_id=parties.region.bodies[0].id))
    assert other_body.status_code == 422 and 'id="body_id-error"' in other_body.get_data(as_text=True)
    someone_else = post_form(client, url, leaving_form(parties.region))
    assert someone_else.status_code == 403
    assert agreement(db, agreement_id).parties[0].leaving is None
    assert all(p.leaving is None for p in agreement(db, agreement_id).parties)


def test_a_party_leaves_after_its_notice_period_and_the_others_stay_bound(
        client: FlaskClient, db: Any, parties: Parties, frozen: None) -> None:
    agreement_id = adopted_agreement(client, db, parties)  # the draft's default notice period: 6 months
    url = f"/avtal/{agreement_id}/uppsagning"
    as_user(client, parties.secretaries[parties.alingsas.id].username)
    clock.freeze(stockholm(2027, 3, 16, 10))
    done = post_form(client, url, leaving_form(parties.alingsas))
    assert done.status_code == 302

    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.ACTIVE  # not ended for everyone, not at once
    leaving = next(p for p in record.parties if p.organisation_id == parties.alingsas.id).leaving
    assert leaving.bound_until == date(2027, 9, 15) and leaving.notice_months == 6
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert "Alingsås kommun:" in page and "har sagt upp avtalet; bunden till och med 2027-09-15" in page
    assert "Uppsägningstid: 6 månader" in page
    assert post_form(client, url, leaving_form(parties.alingsas)).status_code == 409  # registered once

    clock.freeze(stockholm(2027, 9, 15, 23, 30))  # the last day bound
    assert run_job() == []
    assert not next(p for p in agreement(db, agreement_id).parties if p.organisation_id == parties.alingsas.id).has_left
    clock.freeze(stockholm(2027, 9, 16, 0, 30))
    assert run_job() == []
    record = agreement(db, agreement_id)
    assert next(p for p in record.parties if p.organisation_id == parties.alingsas.id).has_left
    assert record.status == AgreementStatus.ACTIVE and len(record.bound_parties) == 2
    assert record.lifecycle_instance.status == "running"
    assert "har lämnat avtalet (bunden till och med 2027-09-15)" in client.get(f"/avtal/{agreement_id}").get_data(as_text=True)

    # The region leaves too: one party is left, and an agreement needs two.
    as_user(client, parties.secretaries[parties.region.id].username)
    clock.freeze(stockholm(2027, 10, 1, 10))
    assert post_form(client, url, leaving_form(parties.region, decided_on="2027-09-28",
                                               notified_on="2027-09-30")).status_code == 302
    clock.freeze(stockholm(2028, 3, 30, 23, 0))
    assert run_job() == []
    clock.freeze(stockholm(2028, 3, 31, 0, 5))
    assert run_job() == [agreement_id]
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.TERMINATED and record.status_label == "Uppsagt"
    assert record.lifecycle_instance.status == "cancelled"
    assert db.session.scalar(select(func.count()).select_from(ProcessTimer).where(
        ProcessTimer.instance_id == record.lifecycle_instance_id, ProcessTimer.status == TimerStatus.WAITING)) == 0
    ended = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "agreement.terminated")).one()
    assert ended.data["remaining"] == [parties.goteborg.id] and ended.data["jointly"] is False


def test_the_agreement_ends_when_every_party_decides_so(client: FlaskClient, db: Any, parties: Parties,
                                                        frozen: None) -> None:
    agreement_id = adopted_agreement(client, db, parties)
    url = f"/avtal/{agreement_id}/uppsagning"
    clock.freeze(stockholm(2027, 4, 1, 10))
    ends = {parties.region.id: "2027-06-30", parties.goteborg.id: "2027-06-30", parties.alingsas.id: "2027-05-31"}
    for organisation in parties.all:
        assert run_job() == []  # not all have decided yet
        as_user(client, parties.secretaries[organisation.id].username)
        response = post_form(client, url, leaving_form(organisation, is_joint="on", ends_on=ends[organisation.id]))
        assert response.status_code == 302
    assert agreement(db, agreement_id).status == AgreementStatus.ACTIVE
    clock.freeze(stockholm(2027, 6, 30, 22))
    assert run_job() == []  # the latest day the parties named has not ended
    clock.freeze(stockholm(2027, 7, 1, 0, 10))
    assert run_job() == [agreement_id]
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.TERMINATED and all(p.has_left for p in record.parties)


def test_a_joint_decision_needs_its_end_date(client: FlaskClient, db: Any, parties: Parties, frozen: None) -> None:
    agreement_id = adopted_agreement(client, db, parties)
    as_user(client, parties.secretaries[parties.region.id].username)
    response = post_form(client, f"/avtal/{agreement_id}/uppsagning", leaving_form(parties.region, is_joint="on"))
    assert response.status_code == 422 and 'id="ends_on-error"' in response.get_data(as_text=True)
