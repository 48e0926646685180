"""The annual report of a collaboration (issue #20 item 7): a samordningsgrupp serving two agreements has one
report per year whose figures cover both agreements (and not a third it does not serve), drafted by a coordinator
of either agreement, adopted at that body's meeting (a decision with §), then frozen as PDF/A, shown on both
agreements' pages and filed in both agreements' archive packages."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from service import clock
from service.agreements.models import Agreement, AgreementParty, AgreementStatus, AgreementVersion, FollowUp
from service.audit.models import AuditEvent
from service.audit.package import build_package
from service.bodies.models import BodyKind, JointBody, MeetingDecision
from service.bodies.operations import (
    NewMember,
    add_agenda_item,
    add_member,
    create_body,
    get_case_type,
    record_attendance,
    record_meeting_decision,
    schedule_meeting,
)
from service.deviations.operations import report_deviation
from service.disputes.models import Dispute
from service.errors import InvalidTransition, NotPermitted, ValidationFailed
from service.parties.models import OrganisationKind, Role
from service.reports import operations as ops
from service.reports.models import AnnualReport
from service.transactions import commit_with_retry
from tests.conftest import csrf_token
from tests.deviations.world import World, _organisation, _user, make_agreement
from tests.reports.test_annual_report import _assert_pdf_a_with_embedded_fonts

YEAR = 2026
BODY_NAME = "Samordningsgruppen Alingsås–Lerum"
B_TITLE = "Barn och unga med psykisk ohälsa i Lerum"
C_TITLE = "Hemsjukvård i Alingsås"


@dataclass
class Collaboration:
    world: World
    b: Agreement  # coordinated by Lerum: chef_lerum coordinates it
    c: Agreement  # not served by the body
    body: JointBody
    report: AnnualReport
    dispute_numbers: dict[str, str]


def _deviation(world: World, agreement: Agreement, moment: datetime, category: str, username: str, org: Any) -> None:
    clock.freeze(moment)
    fields = {"reporting_organisation_id": org.id, "reporting_unit": "Enhet 1",
              "receiving_organisation_ids": [world.region.id], "agreement_id": agreement.id,
              "event_date": moment.date().isoformat(), "category": category,
              "description": "Informationen kom inte fram.", "consequence": "minor"}
    commit_with_retry(lambda: report_deviation(fields, by=world.user(username)))


# (agreement key, moment, category, reporter): 2026 in A and B counts; December 2025 and agreement C do not.
DEVIATIONS = [("a", datetime(2025, 12, 1, 9, tzinfo=UTC), "sip", "rapportor"),
              ("a", datetime(2026, 1, 12, 9, tzinfo=UTC), "information_transfer", "rapportor"),
              ("a", datetime(2026, 3, 3, 9, tzinfo=UTC), "medication", "rapportor"),
              ("b", datetime(2026, 2, 10, 9, tzinfo=UTC), "sip", "kontakt_lerum"),
              ("b", datetime(2026, 3, 20, 9, tzinfo=UTC), "information_transfer", "kontakt_lerum"),
              ("c", datetime(2026, 4, 1, 9, tzinfo=UTC), "medication", "rapportor")]


def _dispute(world: World, agreement: Agreement, number: str, question: str) -> str:
    dispute = Dispute(case_number=number, agreement_id=agreement.id, opening_organisation_id=world.alingsas.id,
                      opened_by_id=world.user("chef_alingsas").id, opened_at=datetime(2026, 5, 4, 9, tzinfo=UTC),
                      question=question, level_due_at=datetime(2026, 6, 4, 9, tzinfo=UTC),
                      steering_organisation_id=world.alingsas.id, county_organisation_id=world.county.id,
                      instruction_organisation_id=world.alingsas.id)
    world.db.session.add(dispute)
    world.db.session.commit()
    return number


def _follow_up(world: World, agreement: Agreement, plan: str) -> None:
    db = world.db
    version = AgreementVersion(agreement_id=agreement.id, number=1, title=agreement.title, status="adopted",
                               created_by_id=world.user("handlaggare").id)
    db.session.add(version)
    db.session.flush()
    agreement.status, agreement.current_version_id = AgreementStatus.ACTIVE, version.id
    db.session.add(FollowUp(agreement_id=agreement.id, version_id=version.id,
                            period_start=datetime(2026, 1, 1, tzinfo=UTC), period_end=datetime(2026, 12, 31, tzinfo=UTC),
                            deviations_count=2, disputes_count=1, process_indicators="SIP inom 14 dagar",
                            result_indicators="Färre akuta inläggningar", action_plan=plan,
                            recorded_by_id=world.user("handlaggare").id))
    db.session.commit()


def _samordningsgrupp(world: World, agreements: list[Agreement]) -> JointBody:
    def build() -> JointBody:
        body = create_body(BODY_NAME, BodyKind.SAMORDNINGSGRUPP, agreements, by=None)
        for username, organisation in (("styrgrupp", world.alingsas), ("chef_vgr", world.region),
                                       ("chef_lerum", world.lerum)):
            add_member(body, NewMember(organisation_id=organisation.id, user_id=world.user(username).id,
                                       mandate="Företräder sin huvudman", term_from=date(2026, 1, 1),
                                       is_chair=username == "styrgrupp", is_secretary=username == "styrgrupp"), by=None)
        return body
    return commit_with_retry(build)


@pytest.fixture
def collab(world: World) -> Collaboration:
    db = world.db
    b = make_agreement(db, B_TITLE, world.lerum, [world.region, world.lerum], world.user("chef_lerum"))
    c = make_agreement(db, C_TITLE, world.alingsas, [world.region, world.alingsas], world.user("handlaggare"))
    agreements = {"a": world.agreement, "b": b, "c": c}
    reporters = {"rapportor": world.alingsas, "kontakt_lerum": world.lerum}
    for key, moment, category, username in DEVIATIONS:
        _deviation(world, agreements[key], moment, category, username, reporters[username])
    clock.freeze(datetime(2026, 12, 1, 9, tzinfo=UTC))
    numbers = {"a": _dispute(world, world.agreement, "TV-2026-0901", "Vem ansvarar för läkemedelsgenomgången?"),
               "b": _dispute(world, b, "TV-2026-0902", "Vem bekostar skolans elevhälsoinsatser?"),
               "c": _dispute(world, c, "TV-2026-0903", "Vem kör hjälpmedlen?")}
    for agreement, plan in ((world.agreement, "Utbildning i SIP."), (b, "Gemensam elevhälsa."), (c, "Bilar.")):
        _follow_up(world, agreement, plan)
    body = _samordningsgrupp(world, [world.agreement, b])
    secretary = world.user("styrgrupp")

    def meet() -> None:  # a meeting of the body during the year, chef_lerum away
        meeting = schedule_meeting(body, date(2026, 9, 14), by=secretary)
        record_attendance(meeting, [m.id for m in body.members if m.user_id != world.user("chef_lerum").id], by=secretary)
    commit_with_retry(meet)
    clock.freeze(datetime(2027, 2, 1, 9, tzinfo=UTC))
    report = commit_with_retry(lambda: ops.create_collaboration_report(body, YEAR, by=world.user("handlaggare")))
    commit_with_retry(lambda: ops.update_report(report, {"plans": "Gemensam mottagning 2027."},
                                                [{"post": "Statsbidrag", "kind": "grant", "budget_tkr": "300",
                                                  "outcome_tkr": "300"}], by=world.user("chef_lerum")))
    return Collaboration(world, b, c, body, report, numbers)


def _adopt(collab: Collaboration, body: JointBody | None = None) -> MeetingDecision:
    body = body or collab.body
    secretary = collab.world.user("styrgrupp")
    report_id = collab.report.id

    def meet() -> MeetingDecision:
        meeting = schedule_meeting(body, date(2027, 2, 10), by=secretary)
        add_agenda_item(meeting, by=secretary, case_type="annual_report", case_id=report_id)
        record_attendance(meeting, [m.id for m in body.members], by=secretary)
        return record_meeting_decision(meeting, "annual_report", report_id, "Rapporten fastställs.", by=secretary)
    return commit_with_retry(meet)


def _fresh(collab: Collaboration) -> AnnualReport:
    collab.world.db.session.expire_all()
    return collab.world.db.session.get_one(AnnualReport, collab.report.id)


def _expected(collab: Collaboration) -> dict[str, Any]:
    """The figures worked out from DEVIATIONS by hand: 2026, agreements A and B only."""
    counted = [(key, moment, category, username) for key, moment, category, username in DEVIATIONS
               if key in ("a", "b") and moment.year == YEAR]
    return {
        "total": len(counted),
        "by_agreement": {collab.world.agreement.title: sum(1 for row in counted if row[0] == "a"),
                         B_TITLE: sum(1 for row in counted if row[0] == "b")},
        "by_category": {category: sum(1 for row in counted if row[2] == category)
                        for category in {row[2] for row in counted}},
        "by_reporting": {"Alingsås kommun": sum(1 for row in counted if row[3] == "rapportor"),
                         "Lerums kommun": sum(1 for row in counted if row[3] == "kontakt_lerum")},
        "by_month": {f"{YEAR}-{month:02d}": sum(1 for row in counted if row[1].month == month) for month in range(1, 13)},
    }


def test_the_figures_cover_every_agreement_the_body_serves_and_no_other(collab: Collaboration) -> None:
    world, expected = collab.world, _expected(collab)
    assert expected["total"] == 4 and expected["by_agreement"] == {world.agreement.title: 2, B_TITLE: 2}
    f = ops.figures_of(_fresh(collab))
    d = f["deviations"]
    assert d["total"] == expected["total"]
    assert {row["label"]: row["count"] for row in d["by_agreement"]} == expected["by_agreement"]
    assert {row["key"]: row["count"] for row in d["by_category"] if row["count"]} == expected["by_category"]
    assert {row["label"]: row["count"] for row in d["by_reporting"]} == expected["by_reporting"]
    assert {row["key"]: row["count"] for row in d["by_month"]} == expected["by_month"]
    assert f["agreements"] == [world.agreement.title, B_TITLE] and f["body"] == BODY_NAME
    assert sorted(t["case_number"] for t in f["disputes"]) == [collab.dispute_numbers["a"], collab.dispute_numbers["b"]]
    assert sorted(u["action_plan"] for u in f["follow_ups"]) == ["Gemensam elevhälsa.", "Utbildning i SIP."]
    assert [m["held_on"] for m in f["meetings"]] == ["2026-09-14"]
    assert f["meetings"][0]["absent"] == ["Chef Lerum (Lerums kommun)"]
    assert [b["name"] for b in f["bodies"]] == [BODY_NAME] and len(f["bodies"][0]["members"]) == 3
    assert set(f["parties"]) == {"Västra Götalandsregionen", "Alingsås kommun", "Lerums kommun"}

    page = world.browser("handlaggare").get(f"/arsrapporter/{collab.report.id}").get_data(as_text=True)
    assert re.search(r'id="report-total">(\d+)<', page)[1] == str(expected["total"])
    assert 'id="report-form"' in page and BODY_NAME in page and B_TITLE in page and C_TITLE not in page
    assert "Vem kör hjälpmedlen?" not in page and "Vem bekostar skolans elevhälsoinsatser?" in page


def test_drafted_and_edited_on_the_body_with_one_audit_event_each(collab: Collaboration) -> None:
    db = collab.world.db
    events = db.session.execute(select(AuditEvent.action, AuditEvent.data).where(
        AuditEvent.subject_type == "joint_bodies", AuditEvent.subject_id == str(collab.body.id),
        AuditEvent.action.like("annual_report.%")).order_by(AuditEvent.seq)).all()
    assert [action for action, _ in events] == ["annual_report.drafted", "annual_report.edited"]
    assert events[0][1]["agreement_ids"] == [collab.world.agreement.id, collab.b.id]


def test_adopted_at_the_bodys_meeting_it_is_frozen_pdf_a_and_filed_with_both_agreements(collab: Collaboration) -> None:
    world = collab.world
    decision = _adopt(collab)
    report = _fresh(collab)
    assert report.is_adopted and report.adoption_reference == f"{BODY_NAME} 2027-02-10 § {decision.paragraph}"
    assert report.figures["agreement_ids"] == [world.agreement.id, collab.b.id]
    stored = dict(report.figures)

    _deviation(world, collab.b, datetime(2026, 6, 1, 9, tzinfo=UTC), "sip", "kontakt_lerum", world.lerum)  # late
    report = _fresh(collab)
    assert ops.figures_of(report) == stored and stored["deviations"]["total"] == 4
    with pytest.raises(InvalidTransition):
        ops.update_report(report, {"plans": "Nya planer."}, [], by=world.user("handlaggare"))
    world.db.session.rollback()

    pdf = world.browser("chef_lerum").get(f"/arsrapporter/{report.id}.pdf")
    assert pdf.status_code == 200 and pdf.data == report.pdf
    assert f"arsrapport-{YEAR}-organ-{collab.body.id}.pdf" in pdf.headers["Content-Disposition"]
    _assert_pdf_a_with_embedded_fonts(pdf.data)
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages))
    assert "Samverkans årsrapport 2026" in text and BODY_NAME in text and B_TITLE in text
    assert "Antal avvikelser 4" in text and C_TITLE not in text

    for agreement in (world.agreement, collab.b):
        _, package = build_package(agreement.id)
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            name = f"representations/rep1/data/collaboration-report-{YEAR}-body-{collab.body.id}.pdf"
            [path] = [p for p in archive.namelist() if p.endswith(name)]
            assert archive.read(path) == report.pdf
            [mets] = [p for p in archive.namelist() if p.endswith("METS.xml")]
            assert name.encode() in archive.read(mets)
    _, package = build_package(collab.c.id)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert not [p for p in archive.namelist() if "collaboration-report" in p]
    [adopted] = world.db.session.scalars(select(AuditEvent).where(AuditEvent.action == "annual_report.adopted")).all()
    assert (adopted.subject_type, adopted.subject_id) == ("joint_bodies", str(collab.body.id))
    assert adopted.data["pdf_sha256"] == report.pdf_sha256


def test_shown_on_both_agreements_pages_and_the_bodys(collab: Collaboration) -> None:
    world, report_id = collab.world, collab.report.id
    _adopt(collab)
    link = f'href="/arsrapporter/{report_id}"'
    for username, agreement in (("kontakt_vgr", world.agreement), ("chef_lerum", collab.b)):
        client = world.browser(username)
        page = client.get(f"/avtal/{agreement.id}").get_data(as_text=True)
        assert 'id="agreement-collaboration-reports"' in page and link in page, agreement.title
        listing = client.get(f"/avtal/{agreement.id}/arsrapporter").get_data(as_text=True)
        assert 'id="collaboration-reports"' in listing and link in listing
        assert client.get(f"/arsrapporter/{report_id}").status_code == 200
    page = world.browser("handlaggare").get(f"/avtal/{collab.c.id}").get_data(as_text=True)
    assert link not in page and 'id="agreement-collaboration-reports"' not in page
    body_page = world.browser("kontakt_vgr").get(f"/organ/{collab.body.id}").get_data(as_text=True)
    assert f'href="/organ/{collab.body.id}/arsrapporter"' in body_page
    listing = world.browser("kontakt_vgr").get(f"/organ/{collab.body.id}/arsrapporter").get_data(as_text=True)
    assert link in listing and "Påbörja samverkans årsrapport" not in listing  # kontakt_vgr coordinates nothing


def test_started_on_the_bodys_page_by_a_coordinator(collab: Collaboration) -> None:
    world = collab.world
    client = world.browser("chef_lerum")  # coordinates agreement B only
    url = f"/organ/{collab.body.id}/arsrapporter"
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "year": "2027"})
    assert response.status_code == 302
    report = ops.get_collaboration_report(collab.body.id, 2027)
    assert report is not None and response.headers["Location"].endswith(f"/arsrapporter/{report.id}")


def _report_count(db: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(AnnualReport)))


@pytest.mark.parametrize("year", ["tjugo", "", "1999", "2026"])
def test_a_bad_year_is_refused_naming_the_field_and_nothing_is_made(collab: Collaboration, year: str) -> None:
    world = collab.world
    before = _report_count(world.db)
    client = world.browser("handlaggare")
    url = f"/organ/{collab.body.id}/arsrapporter"
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "year": year})
    assert response.status_code == 422
    assert "Året är ogiltigt." in response.get_data(as_text=True) or "redan en årsrapport" in response.get_data(as_text=True)
    assert _report_count(world.db) == before
    with pytest.raises(ValidationFailed) as refused:
        ops.create_collaboration_report(collab.body, int(year) if year.isdigit() else 0, by=world.user("handlaggare"))
    assert "year" in refused.value.fields
    world.db.session.rollback()


def test_someone_who_coordinates_none_of_the_agreements_may_not_start_or_edit(collab: Collaboration) -> None:
    world = collab.world
    before = _report_count(world.db)
    client = world.browser("kontakt_vgr")
    url = f"/organ/{collab.body.id}/arsrapporter"
    token = csrf_token(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, "year": "2027"}).status_code == 403
    response = client.post(f"/arsrapporter/{collab.report.id}", data={"csrf_token": token, "plans": "Mina planer",
                                                                       "economy_rows": "0"})
    assert response.status_code == 403
    assert _report_count(world.db) == before and _fresh(collab).plans == "Gemensam mottagning 2027."
    with pytest.raises(NotPermitted):
        ops.create_collaboration_report(collab.body, 2027, by=world.user("kontakt_vgr"))
    world.db.session.rollback()


def test_bad_economy_names_the_row_and_changes_nothing(collab: Collaboration) -> None:
    client = collab.world.browser("handlaggare")
    url = f"/arsrapporter/{collab.report.id}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "plans": "Ändrat", "economy_rows": "1", "post_0": "Lön",
                                      "kind_0": "cost", "budget_tkr_0": "tvåhundra", "outcome_tkr_0": ""})
    assert response.status_code == 422 and "tkr" in response.get_data(as_text=True)
    report = _fresh(collab)
    assert report.plans == "Gemensam mottagning 2027." and report.economy[0]["post"] == "Statsbidrag"


def test_another_bodys_meeting_may_not_adopt_it_and_nothing_changes(collab: Collaboration) -> None:
    world = collab.world
    other = commit_with_retry(lambda: _other_body(world))
    meeting = commit_with_retry(lambda: schedule_meeting(other, date(2027, 2, 3), by=world.user("styrgrupp")))
    assert collab.report.id not in [case_id for case_id, _ in get_case_type("annual_report").candidates(meeting)]
    assert collab.report.id in [case_id for case_id, _ in get_case_type("annual_report").candidates(
        commit_with_retry(lambda: schedule_meeting(collab.body, date(2027, 2, 4), by=world.user("styrgrupp"))))]
    decisions_before = world.db.session.scalar(select(func.count()).select_from(MeetingDecision))
    with pytest.raises(ValidationFailed) as refused:
        _adopt(collab, other)
    assert "case_id" in refused.value.fields
    world.db.session.rollback()
    assert not _fresh(collab).is_adopted
    assert world.db.session.scalar(select(func.count()).select_from(MeetingDecision)) == decisions_before


def _other_body(world: World) -> JointBody:
    body = create_body("Styrgruppen för psykisk hälsa", BodyKind.STYRGRUPP, [world.agreement], by=None)
    for username, organisation in (("styrgrupp", world.alingsas), ("chef_vgr", world.region), ("chef_lerum", world.lerum)):
        add_member(body, NewMember(organisation_id=organisation.id, user_id=world.user(username).id,
                                   term_from=date(2026, 1, 1), is_chair=username == "styrgrupp",
                                   is_secretary=username == "styrgrupp"), by=None)
    return body


@pytest.mark.parametrize("owners", ["both", "neither"])
def test_the_database_holds_a_report_to_one_agreement_or_one_body(collab: Collaboration, owners: str) -> None:
    db = collab.world.db
    ids = {"agreement_id": collab.c.id, "body_id": collab.body.id} if owners == "both" else {}
    db.session.add(AnnualReport(year=2030, created_by_id=collab.world.user("handlaggare").id, economy=[], figures={},
                                **ids))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_one_report_per_body_and_year_in_the_database(collab: Collaboration) -> None:
    db = collab.world.db
    db.session.add(AnnualReport(body_id=collab.body.id, year=YEAR, created_by_id=collab.world.user("handlaggare").id,
                                economy=[], figures={}))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_who_may_not_see_it_gets_404_and_no_link(collab: Collaboration) -> None:
    world = collab.world
    report_id, body_id = collab.report.id, collab.body.id
    # An administrator in an organisation outside the collaboration sees the body (bodies are set up by admins)
    # but not its reports; an outsider sees neither.
    _user(world.db, "admin_gbg", world.outsider_org, [Role.ADMIN])
    for username in ("utomstaende", "admin_gbg"):
        client = world.browser(username)
        for url in (f"/arsrapporter/{report_id}", f"/arsrapporter/{report_id}.pdf", f"/organ/{body_id}/arsrapporter"):
            assert client.get(url).status_code == 404, (username, url)
        assert client.post(f"/organ/{body_id}/arsrapporter", data={"year": "2027"}).status_code in (400, 403, 404)
    body_page = world.browser("admin_gbg").get(f"/organ/{body_id}")
    assert body_page.status_code == 200
    assert "/arsrapporter" not in body_page.get_data(as_text=True)
    # A party only to agreement C sees C's page, where no collaboration report is shown.
    boras = _organisation(world.db, "Borås Stad", OrganisationKind.KOMMUN)
    collab.c.parties.append(AgreementParty(organisation_id=boras.id))
    world.db.session.commit()
    _user(world.db, "boras", boras, [Role.MANAGER])
    client = world.browser("boras")
    assert client.get(f"/avtal/{collab.c.id}").status_code == 200
    assert f"/arsrapporter/{report_id}" not in client.get(f"/avtal/{collab.c.id}/arsrapporter").get_data(as_text=True)
    assert client.get(f"/arsrapporter/{report_id}").status_code == 404
    assert _report_count(world.db) == 1  # the collaboration's draft only: the refusals made nothing


def test_the_pages_read_in_english(collab: Collaboration) -> None:
    from tests.crawl.untranslated import untranslated_texts

    world = collab.world
    english = {"Accept-Language": "en"}
    client = world.browser("handlaggare")
    stored = [world.agreement.title, B_TITLE, BODY_NAME, "Gemensam mottagning 2027.", "Statsbidrag", "Enhet 1",
              "Företräder sin huvudman", "Styrgrupp", "Chef Vgr", "Chef Lerum", "Lerums kommun",
              "Västra Götalandsregionen", "Alingsås kommun", "Utbildning i SIP.", "Gemensam elevhälsa.",
              "SIP inom 14 dagar", "Färre akuta inläggningar", "Vem ansvarar för läkemedelsgenomgången?",
              "Vem bekostar skolans elevhälsoinsatser?", "maj", "okt"]
    from service.deviations.models import CATEGORY_LABELS

    stored += [label for text in CATEGORY_LABELS.values() for label in (text, f"{text[:35]}…")]
    pages = [f"/arsrapporter/{collab.report.id}", f"/organ/{collab.body.id}/arsrapporter"]
    _adopt(collab)
    pages += [f"/arsrapporter/{collab.report.id}", f"/avtal/{world.agreement.id}/arsrapporter"]
    for url in pages:
        response = client.get(url, headers=english)
        assert response.status_code == 200, url
        left = untranslated_texts(response.get_data(as_text=True), stored)
        assert left == [], (url, left)


def test_the_per_agreement_report_is_unchanged_by_the_collaboration(collab: Collaboration) -> None:
    """An agreement's own report still counts only its own deviations, beside the collaboration's."""
    world = collab.world
    report = commit_with_retry(lambda: ops.create_report(collab.b, YEAR, by=world.user("chef_lerum")))
    f = ops.figures_of(report)
    assert f["deviations"]["total"] == _expected(collab)["by_agreement"][B_TITLE]
    assert "by_agreement" not in f["deviations"] and "body" not in f
    assert [t["case_number"] for t in f["disputes"]] == [collab.dispute_numbers["b"]]
