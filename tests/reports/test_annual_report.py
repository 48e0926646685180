"""The annual report (issue #20 item 7): drafted by the coordinator with the figures from the data, adopted by
the joint steering group at a meeting (a decision with §), then frozen; its PDF identifies itself as PDF/A with
embedded fonts, and the figures read back from it equal the statistics page's."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from service import clock
from service.audit.package import build_package
from service.bodies.models import BodyKind
from service.bodies.operations import (
    NewMember,
    add_agenda_item,
    add_member,
    create_body,
    record_attendance,
    record_meeting_decision,
    schedule_meeting,
)
from service.deviations.models import CATEGORY_LABELS
from service.deviations.operations import report_deviation
from service.disputes.models import LEVELS
from service.errors import InvalidTransition, NotPermitted
from service.reports import operations as ops
from service.reports.models import AnnualReport
from service.transactions import commit_with_retry
from tests.deviations.world import World

YEAR = 2026
ECONOMY = [{"post": "Statsbidrag", "kind": "grant", "budget_tkr": "470", "outcome_tkr": "470"},
           {"post": "Två uppdrag", "kind": "income", "budget_tkr": "131", "outcome_tkr": "120"},
           {"post": "Tjänster 2 x 20 %", "kind": "cost", "budget_tkr": "320", "outcome_tkr": "300"},
           {"post": "Material, resor", "kind": "cost", "budget_tkr": "100", "outcome_tkr": ""}]


def _report(world: World, moment: datetime, category: str) -> None:
    clock.freeze(moment)
    fields = {"reporting_organisation_id": world.alingsas.id, "reporting_unit": "Hemtjänst Norr",
              "receiving_organisation_ids": [world.region.id], "agreement_id": world.agreement.id,
              "event_date": moment.date().isoformat(), "category": category,
              "description": "Informationen om insatserna kom inte fram.", "consequence": "minor"}
    commit_with_retry(lambda: report_deviation(fields, by=world.user("rapportor")))


def _steering_group(world: World) -> Any:
    """A steering group of one member per party; the Alingsås member chairs and keeps the minutes."""
    def build() -> Any:
        body = create_body("Styrgruppen för psykisk hälsa", BodyKind.STYRGRUPP, [world.agreement], by=None)
        for username, organisation in (("styrgrupp", world.alingsas), ("chef_vgr", world.region), ("chef_lerum", world.lerum)):
            add_member(body, NewMember(organisation_id=organisation.id, user_id=world.user(username).id,
                                       mandate="Beslutar för sin huvudman", term_from=date(2026, 1, 1),
                                       is_chair=username == "styrgrupp", is_secretary=username == "styrgrupp"), by=None)
        return body
    return commit_with_retry(build)


def _adopt_at_meeting(world: World, body: Any, report: AnnualReport) -> Any:
    secretary = world.user("styrgrupp")

    def meet() -> Any:
        meeting = schedule_meeting(body, date(2027, 2, 10), by=secretary)
        add_agenda_item(meeting, by=secretary, case_type="annual_report", case_id=report.id)
        record_attendance(meeting, [m.id for m in body.members], by=secretary)
        return record_meeting_decision(meeting, "annual_report", report.id, "Årsrapporten fastställs.", by=secretary)
    return commit_with_retry(meet)


@pytest.fixture
def drafted(world: World) -> tuple[World, Any, AnnualReport]:
    for moment, category in ((datetime(2025, 12, 1, 9, tzinfo=UTC), "sip"),
                             (datetime(2026, 1, 12, 9, tzinfo=UTC), "information_transfer"),
                             (datetime(2026, 3, 3, 9, tzinfo=UTC), "information_transfer"),
                             (datetime(2026, 5, 20, 9, tzinfo=UTC), "medication")):
        _report(world, moment, category)
    clock.freeze(datetime(2027, 2, 1, 9, tzinfo=UTC))
    body = _steering_group(world)
    report = commit_with_retry(lambda: ops.create_report(world.agreement, YEAR, by=world.user("handlaggare")))
    commit_with_retry(lambda: ops.update_report(report, {"summary": "Året då analysgruppen kom igång.",
                                                         "plans": "Socialmedicinsk mottagning i Lerum."},
                                                ECONOMY, by=world.user("handlaggare")))
    return world, body, report


def test_adopted_report_is_pdf_a_with_the_statistics_pages_figures(drafted: tuple[World, Any, AnnualReport]) -> None:
    world, body, report = drafted
    decision = _adopt_at_meeting(world, body, report)
    world.db.session.expire_all()
    report = world.db.session.get(AnnualReport, report.id)
    assert report.is_adopted and report.adoption_reference == f"{body.name} 2027-02-10 § {decision.paragraph}"

    pdf = world.browser("handlaggare").get(f"/arsrapporter/{report.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == report.pdf  # the stored one, from adoption
    _assert_pdf_a_with_embedded_fonts(pdf.data)

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = re.sub(r"\s+", " ", text)
    page = world.browser("handlaggare").get(f"/statistik/avtal/{world.agreement.id}?ar={YEAR}").get_data(as_text=True)
    figures = {name: re.search(rf'id="{name}">([^<]+)<', page)[1].strip() for name in ("total", "answered", "median-days")}
    assert figures["total"] == "3"  # 2026 only: the December 2025 deviation is not counted
    assert f"Antal avvikelser {figures['total']}" in text
    assert f"Besvarade {figures['answered']}" in text
    assert f"Median, dagar till svar {figures['median-days']}" in text
    # Every row of the page's tables by category, party and month (quarters and open disputes by level are not
    # in the report: it lists the year's disputes one by one).
    rows = re.findall(r'<tr data-key="([a-z0-9_-]+)"><td>([^<]+)</td><td class="figure">(\d+)</td>', page)
    shown = [(label, count) for key, label, count in rows if "Q" not in key and key not in LEVELS]
    assert len(shown) >= 7 + 12 + 2
    for label, count in shown:
        assert f"{label} {count}" in text, (label, count)
    assert "Resultat 181 290" in text  # (470 + 131) − (320 + 100) budget, (470 + 120) − 300 outcome, in tkr
    assert "Styrgruppen för psykisk hälsa" in text and "2027-02-10" in text
    # Attached to the agreement's archive package, as stored, and listed in its METS.xml.
    _, package = build_package(world.agreement.id)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        [path] = [name for name in archive.namelist() if name.endswith("annual-report-2026.pdf")]
        assert archive.read(path) == report.pdf
        [mets] = [name for name in archive.namelist() if name.endswith("METS.xml")]
        assert b"representations/rep1/data/annual-report-2026.pdf" in archive.read(mets)


def _assert_pdf_a_with_embedded_fonts(data: bytes) -> None:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"
        assert "/OutputIntents" in pdf.Root
        fonts = [font for page in pdf.pages for font in page.Resources.Font.values()]
        assert fonts
        for font in fonts:
            descriptor = (font.DescendantFonts[0] if "/DescendantFonts" in font else font).FontDescriptor
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font.BaseFont


def test_adopted_report_is_frozen(drafted: tuple[World, Any, AnnualReport]) -> None:
    world, body, report = drafted
    _adopt_at_meeting(world, body, report)
    world.db.session.expire_all()
    report = world.db.session.get(AnnualReport, report.id)
    stored = dict(report.figures)
    _report(world, datetime(2026, 6, 1, 9, tzinfo=UTC), "sip")  # a late report of a 2026 deviation
    world.db.session.expire_all()
    report = world.db.session.get(AnnualReport, report.id)
    assert ops.figures_of(report) == stored and stored["deviations"]["total"] == 3
    with pytest.raises(InvalidTransition):
        ops.update_report(report, {"plans": "Nya planer."}, [], by=world.user("handlaggare"))
    response = world.browser("handlaggare").get(f"/arsrapporter/{report.id}")
    assert "Fastställd" in response.get_data(as_text=True) and 'id="report-form"' not in response.get_data(as_text=True)


def test_draft_figures_follow_the_data_and_only_the_coordinator_edits(drafted: tuple[World, Any, AnnualReport]) -> None:
    world, _, report = drafted
    assert ops.figures_of(report)["deviations"]["total"] == 3
    _report(world, datetime(2026, 6, 1, 9, tzinfo=UTC), "sip")
    assert ops.figures_of(world.db.session.get(AnnualReport, report.id))["deviations"]["total"] == 4
    with pytest.raises(NotPermitted):
        ops.update_report(report, {}, [], by=world.user("kontakt_vgr"))
    page = world.browser("handlaggare").get(f"/arsrapporter/{report.id}").get_data(as_text=True)
    assert 'id="report-form"' in page and "Socialmedicinsk mottagning i Lerum." in page
    assert world.browser("utomstaende").get(f"/arsrapporter/{report.id}").status_code == 404
    listing = world.browser("kontakt_vgr").get(f"/avtal/{world.agreement.id}/arsrapporter").get_data(as_text=True)
    assert "Årsrapport 2026" in listing and "Påbörja årsrapport" not in listing


def test_bad_economy_names_the_row_and_changes_nothing(drafted: tuple[World, Any, AnnualReport]) -> None:
    world, _, report = drafted
    client = world.browser("handlaggare")
    from tests.conftest import csrf_token

    token = csrf_token(client.get(f"/arsrapporter/{report.id}").get_data(as_text=True))
    response = client.post(f"/arsrapporter/{report.id}", data={
        "csrf_token": token, "plans": "Ändrat", "economy_rows": "1", "post_0": "Statsbidrag", "kind_0": "grant",
        "budget_tkr_0": "fyrahundra", "outcome_tkr_0": ""})
    assert response.status_code == 422 and "tkr" in response.get_data(as_text=True)
    world.db.session.expire_all()
    assert world.db.session.get(AnnualReport, report.id).plans == "Socialmedicinsk mottagning i Lerum."


def test_pages_read_in_english(drafted: tuple[World, Any, AnnualReport]) -> None:
    """The report (draft and adopted), the improvement actions and routine health pages have no Swedish left
    but the stored data (names, free text, month abbreviations of the charts)."""
    from tests.crawl.untranslated import untranslated_texts

    world, body, report = drafted
    english = {"Accept-Language": "en"}
    client = world.browser("handlaggare")
    stored = [world.agreement.title, body.name, "Socialmedicinsk mottagning i Lerum.", "Året då analysgruppen kom igång.",
              "Hemtjänst Norr", "Statsbidrag", "Två uppdrag", "Tjänster 2 x 20 %", "Material, resor", "maj", "okt",
              "Styrgrupp", "Beslutar för sin huvudman", "Styrgruppen för psykisk hälsa", "Handlaggare",
              "Chef Vgr", "Chef Lerum", "Styrgrupp", "Lerums kommun", "Västra Götalandsregionen", "Alingsås kommun"]
    # The category names are the statistics page's (their English is checked with it, tests/crawl).
    stored += [label for text in CATEGORY_LABELS.values() for label in (text, f"{text[:35]}…")]
    pages = [f"/arsrapporter/{report.id}", f"/avtal/{world.agreement.id}/arsrapporter", "/forbattringsatgarder", "/rutiner"]
    _adopt_at_meeting(world, body, report)
    pages.append(f"/arsrapporter/{report.id}")
    for url in pages:
        response = client.get(url, headers=english)
        assert response.status_code == 200, url
        left = untranslated_texts(response.get_data(as_text=True), stored)
        assert left == [], (url, left)


def test_a_meeting_of_the_agreements_body_is_offered_the_draft(drafted: tuple[World, Any, AnnualReport]) -> None:
    from service.bodies.operations import get_case_type

    world, body, report = drafted
    meeting = commit_with_retry(lambda: schedule_meeting(body, date(2027, 2, 10), by=world.user("styrgrupp")))
    offered = get_case_type("annual_report").candidates(meeting)
    assert offered == [(report.id, f"Årsrapport 2026: {world.agreement.title}")]
    _adopt_at_meeting(world, body, report)
    assert get_case_type("annual_report").candidates(meeting) == []  # adopted: nothing left to decide
