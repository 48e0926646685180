"""The annual report as a case a joint body decides on: put on a meeting's agenda, adopted by its decision (§)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import or_, select

from service.extensions import db
from service.parties.models import N_, User
from service.reports import follow_ups
from service.reports.models import AnnualReport, ReportStatus

CASE_TYPE = "annual_report"


def _title(report_id: int) -> str | None:
    report = db.session.get(AnnualReport, report_id)
    return None if report is None else _label(report)


def _label(report: AnnualReport) -> str:
    if report.is_collaboration:
        return f"Samverkans årsrapport {report.year}: {report.body.name}"
    return f"Årsrapport {report.year}: {report.agreement.title}"


def _land(decision: object, by: User) -> None:
    from service.reports.operations import adopt_report

    report = db.session.get_one(AnnualReport, decision.case_id)  # type: ignore[attr-defined]
    adopt_report(report, decision, by=by)


def _url(report_id: int) -> str | None:
    return url_for("reports.report_page", report_id=report_id)


def _candidates(meeting: Any) -> list[tuple[int, str]]:
    """The draft annual reports of the agreements the meeting's body serves, and the body's own collaboration
    report."""
    agreement_ids = [a.id for a in meeting.body.agreements]
    reports = db.session.scalars(select(AnnualReport).where(
        or_(AnnualReport.agreement_id.in_(agreement_ids), AnnualReport.body_id == meeting.body.id),
        AnnualReport.status == ReportStatus.DRAFT).order_by(AnnualReport.year, AnnualReport.id))
    return [(r.id, _label(r)) for r in reports]


def register() -> None:
    """Let meetings put annual reports on the agenda and adopt them."""
    from service.bodies.operations import CaseType, register_case_type

    register_case_type(CASE_TYPE, CaseType(label=N_("Årsrapport"), title=_title, land=_land, url=_url,
                                                  candidates=_candidates))
    follow_ups.register()
