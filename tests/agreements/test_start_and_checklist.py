"""#19 items 5 and 8: an agreement adopted before its start date reads "Antaget, gäller från …" until the lifecycle's
timer makes it active; the checklist of Bilaga 1 is whole, each item with a Tid is offered to its responsible party on
that day and shown as open on the agreement page until followed up; the follow-up's frequency and owner, and a
review date, come from the agreement."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service import clock
from service.agreements.checklist import SECTIONS
from service.agreements.models import STATUS_LABELS, AgreementStatus, VersionStatus
from service.api.tokens import create_token
from service.audit.models import AuditEvent
from service.notifications.models import Notification
from service.parties.models import Role
from service.processes.models import HumanTask, ProcessTimer, TaskStatus, TimerStatus
from service.transactions import commit_with_retry
from tests.conftest import ROOT, Parties, draft_data
from tests.inbox.test_adoption_flow import (
    adopt_by,
    agreement,
    as_user,
    complete,
    fire_due_timers,
    post_form,
    start_agreement,
)


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # after the decisions' dates (conftest.MINUTES)
    yield
    clock.reset()


def stockholm(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Stockholm wall-clock moment (the tz database, not the app's calendar)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Stockholm"))


def adopt(client: FlaskClient, db: Any, parties: Parties, **text: Any) -> int:
    """Adopted by every party; the last appeal period (anslag 2026-12-01) ends 2026-12-22, so final on the 23rd."""
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, **text))
    adopt_by(client, db, parties, parties.all)
    clock.freeze(stockholm(2027, 1, 1, 12))
    fire_due_timers(db)
    return agreement_id


def waiting(db: Any, bpmn_id: str) -> list[ProcessTimer]:
    db.session.expire_all()
    return list(db.session.scalars(select(ProcessTimer).where(ProcessTimer.bpmn_id == bpmn_id,
                                                              ProcessTimer.status == TimerStatus.WAITING)))


def test_adopted_before_the_start_date_reads_adopted_until_the_timer_makes_it_active(
        client: FlaskClient, db: Any, parties: Parties, app: Any, frozen: None) -> None:
    agreement_id = adopt(client, db, parties, valid_from="2027-07-01")

    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.ADOPTED and record.activated_at is None
    assert record.status_label == "Antaget, gäller från 2027-07-01"
    [timer] = waiting(db, "in_force_from")
    assert timer.due_at == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)  # 00:00 in Stockholm, summer time
    assert waiting(db, "follow_up_due") == []  # follow-ups count from the start
    as_user(client, "anna")
    assert "Antaget, gäller från 2027-07-01" in client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    listing = client.get("/avtal").get_data(as_text=True)
    assert '<span class="status status-adopted">Antaget, gäller från 2027-07-01</span>' in listing
    assert client.get("/avtal?status=adopted").status_code == 200
    token = commit_with_retry(lambda: create_token(parties.coordinator, "test", {"read"}, 30)).secret
    api = client.get(f"/api/v1/agreements/{agreement_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert api["status"] == "adopted" and api["status_label"] == "Antaget, gäller från 2027-07-01"

    clock.freeze(datetime(2027, 6, 30, 21, 59, tzinfo=UTC))
    fire_due_timers(db)
    assert agreement(db, agreement_id).status == AgreementStatus.ADOPTED
    clock.freeze(datetime(2027, 6, 30, 22, 0, 30, tzinfo=UTC))
    fire_due_timers(db)
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.ACTIVE and record.status_label == "Gäller"
    assert record.activated_at == datetime(2027, 6, 30, 22, 0, 30, tzinfo=UTC)
    [follow_up] = waiting(db, "follow_up_due")
    assert follow_up.due_at == datetime(2028, 6, 30, 22, 0, tzinfo=UTC)  # a year after the start, not the adoption


def test_an_agreement_whose_start_date_has_come_is_active_at_once(client: FlaskClient, db: Any, parties: Parties,
                                                                  frozen: None) -> None:
    agreement_id = adopt(client, db, parties, valid_from="2027-01-01")
    assert agreement(db, agreement_id).status == AgreementStatus.ACTIVE
    assert waiting(db, "in_force_from") == []
    assert STATUS_LABELS[AgreementStatus.TERMINATED] == "Uppsagt"


SEED_ITEMS = ("Ansvarsgränser och rutiner", "SIP – samtycke", "Teambaserat arbete",
              "Bästa tillgängliga kunskap, val av insatser", "Delat beslutsfattande – rutiner för arbetssätt",
              "Anpassning av insatser", "Kunskapsspridning", "Gemensam utbildning/metodstöd/handledning")


def test_the_checklist_has_every_item_of_bilaga_1_each_with_ansvar_and_tid() -> None:
    titles = {section.title: section for section in SECTIONS}
    assert all(item in titles for item in SEED_ITEMS)
    assert "content" not in {section.key for section in SECTIONS}
    assert [s.title for s in SECTIONS if s.group == "Verksamhetens innehåll"] == list(SEED_ITEMS[3:])
    draft = json.loads((ROOT / "forms" / "agreement-draft.schema.json").read_text())["properties"]
    consultation = json.loads((ROOT / "forms" / "agreement-consultation.schema.json").read_text())["properties"]
    for section in SECTIONS:
        assert {section.key, f"{section.key}_responsible", f"{section.key}_due"} <= set(draft)
        assert draft[section.key]["title"] == section.title and section.key in consultation


def test_a_checklist_item_is_offered_to_its_party_at_its_tid_and_open_until_followed_up(
        client: FlaskClient, db: Any, parties: Parties, frozen: None) -> None:
    agreement_id = adopt(client, db, parties, boundaries="Rutin för gränsdragning mellan huvudmännen.",
                         boundaries_responsible="Alingsås kommun", boundaries_due="2027-03-01",
                         sip_consent="Samtycke inhämtas vid första besöket.", sip_consent_due="2027-02-01")
    as_user(client, "anna")
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert 'id="open-checklist-items"' in page and "Ansvarsgränser och rutiner" in page and "Bevakas" in page
    # 09:00 in Stockholm on each Tid (draft_data's follow-up section has one too)
    assert {t.due_at for t in waiting(db, "item_due")} == {datetime(2027, 2, 1, 8, 0, tzinfo=UTC),
                                                           datetime(2027, 3, 1, 8, 0, tzinfo=UTC),
                                                           datetime(2027, 12, 31, 8, 0, tzinfo=UTC)}

    clock.freeze(datetime(2027, 3, 1, 8, 0, 30, tzinfo=UTC))
    fire_due_timers(db)
    tasks = {t.organisation_id: t for t in db.session.scalars(select(HumanTask).where(
        HumanTask.bpmn_id == "checklist_item", HumanTask.status == TaskStatus.READY))}
    # Ansvar names Alingsås; SIP names no party, so the follow-up's owner (the coordinator) has it.
    assert set(tasks) == {parties.alingsas.id, parties.goteborg.id}
    assert tasks[parties.alingsas.id].case_title.endswith("Ansvarsgränser och rutiner")
    officer = parties.officers[parties.alingsas.id]
    assert db.session.scalars(select(Notification).where(Notification.user_id == officer.id)).first() is not None
    assert "Påmind, väntar på den ansvariga parten" in client.get(f"/avtal/{agreement_id}").get_data(as_text=True)

    complete(client, db, officer.username, "checklist_item", {"item_report": "Rutinen är beslutad i ledningsgruppen."},
             parties.alingsas.id)
    as_user(client, "anna")
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    table = page.split('id="open-checklist-items"')[1].split("</table>")[0]
    assert "SIP – samtycke" in table and "Ansvarsgränser och rutiner" not in table


def test_follow_up_frequency_owner_and_review_date_come_from_the_agreement(
        client: FlaskClient, db: Any, parties: Parties, make_user: Any, frozen: None) -> None:
    steering = make_user([(parties.alingsas, Role.STEERING_GROUP_MEMBER)], username="styrgrupp_alingsas")
    agreement_id = adopt(client, db, parties, follow_up_interval="P6M", follow_up_organisation_id=parties.alingsas.id,
                         review_by="2027-12-31")
    record = agreement(db, agreement_id)
    start = record.activated_at
    [follow_up] = waiting(db, "follow_up_due")
    assert follow_up.due_at == start.replace(month=start.month + 6)
    [review] = waiting(db, "review_due")
    assert review.due_at == datetime(2027, 10, 2, 21, 59, 59, tzinfo=UTC)  # 90 days before: 23:59:59 summer time
    as_user(client, "anna")
    assert "Varje halvår" in client.get(f"/avtal/{agreement_id}").get_data(as_text=True)

    clock.freeze(datetime(2027, 10, 3, 9, 0, tzinfo=UTC))
    fire_due_timers(db)
    tasks = {t.bpmn_id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.status == TaskStatus.READY))}
    assert tasks["follow_up"].organisation_id == parties.alingsas.id  # not the coordinator
    assert tasks["review"].organisation_id == parties.alingsas.id
    assert tasks["review"].due_at == datetime(2027, 12, 31, 22, 59, 59, tzinfo=UTC)
    complete(client, db, steering.username, "review", {"review_outcome": "amend",
                                                       "review_motivation": "Målen behöver ses över."})
    assert agreement(db, agreement_id).status == AgreementStatus.UNDER_AMENDMENT


def test_a_follow_up_owner_must_be_a_party(client: FlaskClient, db: Any, parties: Parties, frozen: None) -> None:
    outsider = parties.region.__class__(name="Borås Stad", kind="kommun")
    db.session.add(outsider)
    db.session.commit()
    start_agreement(client, parties)
    from tests.inbox.test_adoption_flow import post_form, task_url

    response = post_form(client, task_url(db, "draft"), draft_data(parties, follow_up_organisation_id=outsider.id))
    assert response.status_code == 422 and 'id="fel-follow_up_organisation_id"' in response.get_data(as_text=True)


def test_running_lifecycles_move_to_the_latest_diagram_once(client: FlaskClient, db: Any, parties: Parties,
                                                            frozen: None) -> None:
    from service.agreements.lifecycle import restart_lifecycles
    from service.processes.definitions import deploy_definition

    agreement_id = adopt(client, db, parties, valid_from="2027-01-01")
    old = agreement(db, agreement_id).lifecycle_instance
    assert commit_with_retry(restart_lifecycles) == []  # already on the latest version
    xml = (ROOT / "bpmn" / "agreement_lifecycle.bpmn").read_bytes().replace(
        "Avtal i kraft: uppföljning och giltighet".encode(), b"Avtal i kraft")
    commit_with_retry(lambda: deploy_definition(xml, "agreement_lifecycle.bpmn", ROOT / "forms", by=None))

    assert commit_with_retry(restart_lifecycles) == [agreement_id]
    record = agreement(db, agreement_id)
    assert record.lifecycle_instance_id != old.id and old.status == "cancelled"
    assert record.status == AgreementStatus.ACTIVE and len(waiting(db, "follow_up_due")) == 1
    assert commit_with_retry(restart_lifecycles) == []


def test_an_amendment_adopted_before_its_start_date_waits_and_the_version_in_force_stays(
        client: FlaskClient, db: Any, parties: Parties, frozen: None) -> None:
    agreement_id = adopt(client, db, parties, valid_from="2027-01-01")
    officer = parties.officers[parties.region.id].username
    as_user(client, officer)
    assert post_form(client, f"/avtal/{agreement_id}/andring", {"motivation": "Ny kostnadsfördelning."}).status_code == 302
    complete(client, db, officer, "draft", draft_data(parties, valid_from="2027-09-01", costs="Delas lika."))
    adopt_by(client, db, parties, parties.all)
    clock.freeze(stockholm(2027, 2, 15, 12))  # every decision final: the amendment is adopted, its start ahead
    fire_due_timers(db)

    record = agreement(db, agreement_id)
    assert [v.status for v in record.versions] == [VersionStatus.ADOPTED, VersionStatus.ADOPTED]
    assert record.status == AgreementStatus.ACTIVE and record.current_version.number == 1
    assert record.status_label == "Gäller; version 2 är antagen och gäller från 2027-09-01"
    as_user(client, "anna")
    assert "version 2 är antagen och gäller från 2027-09-01" in client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    [timer] = waiting(db, "in_force_from")
    assert timer.due_at == datetime(2027, 8, 31, 22, 0, tzinfo=UTC)  # 00:00 in Stockholm, summer time

    clock.freeze(datetime(2027, 8, 31, 22, 0, 5, tzinfo=UTC))
    fire_due_timers(db)
    record = agreement(db, agreement_id)
    assert record.current_version.number == 2 and record.status_label == "Gäller"
    assert [v.status for v in record.versions] == [VersionStatus.SUPERSEDED, VersionStatus.ADOPTED]
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.subject_type == "agreements", AuditEvent.subject_id == str(agreement_id)).order_by(AuditEvent.id))]
    assert actions.count("agreement.version_adopted") == 2 and actions[-1] == "agreement.version_in_force"
