"""The auditors' case list (/granskning): type, number or title, parties, started, last event and status per
case; searched, filtered and paged by the database in one statement per page; reading it logs no case read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from service import audit, clock
from service.agreements.models import Agreement, AgreementParty, AgreementStatus
from service.audit.case_list import CaseListFilters, list_case_page
from service.audit.models import AccessLogEntry
from service.deviations.models import Deviation, DeviationReceiver, DeviationStatus
from service.disputes.models import Dispute
from service.parties.models import Role
from tests.conftest import login

JANUARY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def cases(db: Any, make_organisation: Any, make_user: Any) -> dict[str, Any]:
    """Two agreements, 30 deviations (reported a day apart, every third closed), a dispute, and one event
    on deviation 0007 long after the others started."""
    alingsas, lerum, region = (make_organisation(name=name) for name in
                               ("Alingsås kommun", "Lerums kommun", "Västra Götalandsregionen"))
    officer = make_user([(alingsas, Role.CASE_OFFICER)])
    psykiatri = _agreement(db, "Psykisk hälsa i Alingsås", [alingsas, region], officer, JANUARY)
    hemsjukvard = _agreement(db, "Hemsjukvård i Lerum", [lerum, region], officer, JANUARY + timedelta(days=1))
    deviations = [_deviation(db, n, alingsas, lerum, officer, psykiatri) for n in range(1, 31)]
    dispute = Dispute(case_number="TV-2026-0001", agreement_id=hemsjukvard.id, opening_organisation_id=lerum.id,
                      opened_by_id=officer.id, opened_at=JANUARY + timedelta(days=40), question="Vem betalar?",
                      level_due_at=LATER, steering_organisation_id=region.id, county_organisation_id=region.id,
                      instruction_organisation_id=region.id)
    db.session.add(dispute)
    db.session.commit()
    clock.freeze(LATER)
    try:
        audit.record(officer, "deviation.updated", deviations[6])
        db.session.commit()
    finally:
        clock.reset()
    auditor = make_user([(region, Role.AUDITOR)], username="granskare")
    return {"alingsas": alingsas, "lerum": lerum, "region": region, "deviations": deviations, "dispute": dispute,
            "psykiatri": psykiatri, "auditor": auditor}


def _agreement(db: Any, title: str, parties: list[Any], by: Any, at: datetime) -> Agreement:
    agreement = Agreement(title=title, coordinator_organisation_id=parties[0].id, created_by_id=by.id, created_at=at,
                          status=AgreementStatus.ACTIVE)
    agreement.parties = [AgreementParty(organisation_id=party.id) for party in parties]
    db.session.add(agreement)
    db.session.commit()
    return agreement


def _deviation(db: Any, number: int, reporter: Any, receiver: Any, by: Any, agreement: Agreement) -> Deviation:
    reported = JANUARY + timedelta(days=number)
    case_number = f"AV-2026-{number:04d}"
    deviation = Deviation(case_number=case_number, reporting_organisation_id=reporter.id, reporting_unit="Hemtjänst",
                          agreement_id=agreement.id, event_date=reported.date(), description="Ingen överrapportering.",
                          category="information", consequence="minor", reported_by_id=by.id, reported_at=reported,
                          analysis_organisation_id=reporter.id,
                          status=DeviationStatus.CLOSED if number % 3 == 0 else DeviationStatus.OPEN)
    due = reported + timedelta(days=14)
    deviation.receivers = [DeviationReceiver(organisation_id=receiver.id, case_number=case_number, sent_at=reported,
                                             first_due_at=due, due_at=due, remind_at=due - timedelta(days=3))]
    db.session.add(deviation)
    db.session.commit()
    return deviation


def _auditor(app: Any) -> FlaskClient:
    client = app.test_client()
    assert login(client, "granskare").status_code == 302
    return client


def _rows(html: str) -> list[list[str]]:
    """The table's cells, tags removed, one list per case."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr data-case=.*?</tr>", body, re.S)]


def test_each_case_shows_its_parties_dates_and_status_last_event_first_and_is_not_a_logged_read(
        app: Any, db: Any, cases: dict[str, Any]) -> None:
    logged = db.session.scalar(select(func.count()).select_from(AccessLogEntry))
    page = _auditor(app).get("/granskning")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 25 and "Ärenden: 33" in html and "sida 1 av 2" in html
    # Deviation 0007 has the latest event; then the newest starts: the dispute, deviations 30, 29, ...
    assert rows[0] == ["Avvikelse", "AV-2026-0007", "Alingsås kommun, Lerums kommun", "2026-01-12",
                       "2026-06-01 12:00", "Under utredning"]
    assert rows[1] == ["Tvist", "TV-2026-0001", "Lerums kommun, Västra Götalandsregionen", "2026-02-14",
                       "2026-02-14 10:00", "Pågår"]
    assert [row[1] for row in rows[2:5]] == ["AV-2026-0030", "AV-2026-0029", "AV-2026-0028"]
    assert rows[2][5] == "Avslutad"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry)) == logged


def test_a_page_of_cases_is_one_statement(app: Any, db: Any, cases: dict[str, Any]) -> None:
    statements: list[str] = []

    def count(_connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
        statements.append(sql)

    lerum = cases["lerum"].id
    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = list_case_page(CaseListFilters(part=lerum, sida=2))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # Lerum: the 30 deviations it received, its agreement and the dispute under it.
    assert len(page.rows) == 7 and page.total == 32 and len(statements) == 1
    assert all("Lerums kommun" in row.parties for row in page.rows)


def test_search_filters_and_pages_keep_the_filters(app: Any, db: Any, cases: dict[str, Any]) -> None:
    reader = _auditor(app)

    def titles(query: str) -> list[str]:
        return [row[1] for row in _rows(reader.get(f"/granskning?{query}").get_data(as_text=True))]

    assert titles("q=0007") == ["AV-2026-0007"]
    assert titles("q=psykisk") == ["Psykisk hälsa i Alingsås"]
    assert titles("typ=dispute") == ["TV-2026-0001"]
    assert titles(f"part={cases['region'].id}") == ["TV-2026-0001", "Hemsjukvård i Lerum", "Psykisk hälsa i Alingsås"]
    assert titles("status=deviation:closed") == [f"AV-2026-{n:04d}" for n in range(30, 0, -3)]
    assert titles("status=dispute:resolved") == []
    assert titles("typ=deviation&fran=2026-01-09&till=2026-01-11") == ["AV-2026-0006", "AV-2026-0005", "AV-2026-0004"]
    first = reader.get("/granskning?typ=deviation&q=AV-2026").get_data(as_text=True)
    assert "Ärenden: 30" in first and 'value="deviation" selected' in first
    following = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert following and "typ=deviation" in following.group(1) and "q=AV-2026" in following.group(1)
    second = reader.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert [row[1] for row in _rows(second)] == [f"AV-2026-{n:04d}" for n in (5, 4, 3, 2, 1)]
    assert "sida 2 av 2" in second and 'rel="prev"' in second
