"""Issue #18, item 6: migration d4a7e2c92320 gives every case a number of its own (one series per prefix and
year), renumbers the repeats made by the old per-party series, keeps the old numbers in the audit chain, and from
then on the database refuses a repeat."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from service import audit
from service.app import create_app
from service.deviations.case_numbers import next_case_number
from service.extensions import db
from tests.conftest import TEST_DATABASE, TEST_SECRET_KEY, database_url
from tests.test_migrations import _empty

BEFORE = "c5d2e8f12245"
T = "2026-03-02 08:00:00"
REPEAT = "AV-2026-0001"


def insert(connection: Any, table: str, **values: Any) -> None:
    columns = ", ".join(values)
    connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in values)})"), values)


def deviation(connection: Any, id: int, number: str, reporter: int, receivers: dict[int, str]) -> None:
    insert(connection, "process_instances", id=id, definition_id=1, title=f"Avvikelse {number}: Läkemedel",
           status="running", state="{}", lock_version=1, started_at=T, updated_at=T)
    insert(connection, "human_tasks", instance_id=id, task_id=f"t{id}", bpmn_id="acknowledge", name="Kvittera",
           form="", role="deviation_contact", status="ready", created_at=T, case_title=f"Avvikelse {number}: Läkemedel")
    insert(connection, "deviations", id=id, case_number=number, reporting_organisation_id=reporter, reporting_unit="",
           receiving_unit="", event_date="2026-03-01", description="", immediate_action="", category="medication",
           consequence="minor", consequence_description="", reported_by_id=1, reported_at=T, status="open",
           analysis_organisation_id=reporter, analysis_comment="", is_dispute_proposed=False, dispute_question="",
           instance_id=id)
    for organisation, own in receivers.items():
        insert(connection, "deviation_receivers", deviation_id=id, organisation_id=organisation, case_number=own,
               status="sent", answer_round=1, sent_at=T, first_due_at=T, due_at=T, remind_at=T, handler="",
               is_answered_late=False, findings="", measures="", contest_count=0)


def dispute(connection: Any, id: int, number: str, opener: int, other: int) -> None:
    insert(connection, "disputes", id=id, case_number=number, agreement_id=1, opening_organisation_id=opener,
           opened_by_id=1, opened_at=T, question="", background="", status="open", level="line", level_started_at=T,
           level_due_at=T, steering_organisation_id=1, county_organisation_id=1, instruction_organisation_id=1,
           decision="", needs_instruction=False, instruction_title="", instruction="")
    for organisation in (opener, other):
        insert(connection, "dispute_parties", dispute_id=id, organisation_id=organisation, case_number=number,
               is_opener=organisation == opener)


def world_of_the_old_series(connection: Any) -> None:
    """Two parties, each numbering in its own series: AV-2026-0001 names two deviations, TV-2026-0001 two disputes."""
    for id, name in ((1, "Västra Götalandsregionen"), (2, "Alingsås kommun")):
        insert(connection, "organisations", id=id, name=name, kind="kommun")
    insert(connection, "users", id=1, username="u", display_name="U", password_hash="x", is_enabled=True, created_at=T)
    insert(connection, "agreements", id=1, title="Avtal", status="active", coordinator_organisation_id=1,
           created_by_id=1, created_at=T, follow_up_interval="P1Y", expiry_notice_days=90)
    insert(connection, "process_definitions", id=1, process_id="deviation", version=1, name="Avvikelse",
           filename="deviation.bpmn", bpmn_xml="", forms="{}", sha256="x", comment="", deployed_at=T)
    deviation(connection, 1, REPEAT, 1, {2: REPEAT})  # the region's first; Alingsås's first
    deviation(connection, 2, REPEAT, 2, {1: "AV-2026-0002"})  # Alingsås's second, the region's second
    deviation(connection, 3, "AV-2026-0002", 1, {2: "AV-2026-0002"})
    dispute(connection, 1, "TV-2026-0001", 1, 2)
    dispute(connection, 2, "TV-2026-0001", 2, 1)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_repeated_numbers_are_renumbered_with_the_old_ones_in_the_audit_chain(backend: str, tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(backend, tmp_path, f"{TEST_DATABASE}_migrations_case_numbers"),
                      "SECRET_KEY": TEST_SECRET_KEY, "AUDIT_ANCHOR_DIR": str(tmp_path / "anchors")})
    with app.app_context():
        _empty(backend)
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            world_of_the_old_series(connection)
        audit.record(None, "test.before", SimpleNamespace(__tablename__="deviations", id=1))  # a chain to extend
        db.session.commit()

        upgrade()

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in db.session.execute(text(sql))]

        assert rows("SELECT id, case_number FROM deviations ORDER BY id") == [
            (1, REPEAT), (2, "AV-2026-0003"), (3, "AV-2026-0002")]
        assert rows("SELECT deviation_id, case_number FROM deviation_receivers ORDER BY deviation_id") == [
            (1, REPEAT), (2, "AV-2026-0003"), (3, "AV-2026-0002")]
        assert rows("SELECT title FROM process_instances WHERE id = 2") == [("Avvikelse AV-2026-0003: Läkemedel",)]
        assert rows("SELECT case_title FROM human_tasks WHERE instance_id = 2") == [("Avvikelse AV-2026-0003: Läkemedel",)]
        assert rows("SELECT DISTINCT dispute_id, case_number FROM dispute_parties ORDER BY dispute_id") == [
            (1, "TV-2026-0001"), (2, "TV-2026-0002")]
        events = rows("SELECT seq, action, subject_id, data FROM audit_events ORDER BY seq")
        assert [(seq, action, subject) for seq, action, subject, _ in events] == [
            (1, "test.before", "1"), (2, "deviation.renumbered", "2"), (3, "dispute.renumbered", "2")]
        assert [_json(e[3]) for e in events[1:]] == [
            {"case_number": "AV-2026-0003", "old_case_number": REPEAT, "old_party_case_numbers": {"1": "AV-2026-0002"}},
            {"case_number": "TV-2026-0002", "old_case_number": "TV-2026-0001",
             "old_party_case_numbers": {"1": "TV-2026-0001", "2": "TV-2026-0001"}}]
        result = audit.verify()
        assert result.is_intact and result.checked == 3

        assert next_case_number("AV", 2026) == "AV-2026-0004" and next_case_number("TV", 2026) == "TV-2026-0003"
        assert next_case_number("AV", 2027) == "AV-2027-0001"
        db.session.rollback()
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text("UPDATE deviations SET case_number = :n WHERE id = 3"), {"n": REPEAT})
        db.session.remove()
        db.engine.dispose()


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value
