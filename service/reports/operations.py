"""Draft, edit and adopt an annual report. The coordinator (a case officer, manager or deviation coordinator of
the agreement's coordinating organisation) drafts it; the joint body adopts it at a meeting with a decision
(§) in its protocol; from then on it is frozen: figures and PDF stored, no edits."""

from __future__ import annotations

import hashlib
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select

from service import audit
from service.agreements.models import Agreement
from service.columns import now
from service.errors import InvalidTransition, NotPermitted, ValidationFailed
from service.extensions import db
from service.parties.models import Role, User
from service.reports.figures import ECONOMY_KINDS, compute_figures, localised
from service.reports.models import AnnualReport, ReportStatus
from service.reports.render import render_pdf

COORDINATOR_ROLES = (Role.CASE_OFFICER, Role.MANAGER, Role.DEVIATION_COORDINATOR)
TEXT_FIELDS = ("summary", "activities", "plans")
MAX_ECONOMY_ROWS = 30


def is_coordinator(user: User, agreement: Agreement) -> bool:
    return any(m.organisation_id == agreement.coordinator_organisation_id and m.role in COORDINATOR_ROLES
               for m in user.memberships)


def create_report(agreement: Agreement, year: int, *, by: User) -> AnnualReport:
    """Start the agreement's annual report for ``year`` as a draft."""
    _require_coordinator(by, agreement)
    if not 2000 <= year <= 2100:
        raise ValidationFailed("Året är ogiltigt.", {"year": ["Ange ett år mellan 2000 och 2100."]})
    if get_report(agreement.id, year) is not None:
        raise ValidationFailed("Det finns redan en årsrapport för det året.", {"year": ["Välj ett annat år."]})
    report = AnnualReport(agreement_id=agreement.id, year=year, created_by_id=by.id, economy=[], figures={},
                          created_at=now(), updated_at=now())
    db.session.add(report)
    db.session.flush()
    audit.record(by, "annual_report.drafted", agreement, report_id=report.id, year=year)
    return report


def update_report(report: AnnualReport, texts: dict[str, str], economy: list[dict[str, Any]], *, by: User) -> None:
    """Change a draft's texts and economy rows (tkr)."""
    _require_coordinator(by, report.agreement)
    _require_draft(report)
    for name in TEXT_FIELDS:
        setattr(report, name, (texts.get(name) or "").strip())
    report.economy = check_economy(economy)
    report.updated_at = now()
    audit.record(by, "annual_report.edited", report.agreement, report_id=report.id, year=report.year)
    db.session.flush()


def check_economy(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with a post name; kind grant/income/cost; whole tkr (the outcome may be left empty)."""
    checked, errors = [], {}
    for index, row in enumerate(rows[:MAX_ECONOMY_ROWS]):
        post = str(row.get("post") or "").strip()[:200]
        if not post:
            continue
        try:
            budget = int(str(row.get("budget_tkr") or "0").replace(" ", ""))
            outcome_text = str(row.get("outcome_tkr") or "").replace(" ", "")
            outcome = int(outcome_text) if outcome_text else None
        except ValueError:
            errors[f"economy-{index}"] = ["Ange hela tusental kronor (tkr), till exempel 470."]
            continue
        kind = str(row.get("kind") or "")
        if kind not in ECONOMY_KINDS:
            errors[f"economy-{index}-kind"] = ["Välj statsbidrag, övrig intäkt eller kostnad."]
            continue
        checked.append({"post": post, "kind": kind, "budget_tkr": budget, "outcome_tkr": outcome})
    if errors:
        raise ValidationFailed("Ekonomin innehåller fel. Inget har sparats.", errors)
    return checked


def adopt_report(report: AnnualReport, decision: Any, *, by: User) -> None:
    """The joint body adopted the report (``decision``: its meeting decision with §): store the figures as they
    are and the PDF/A, and freeze the report."""
    _require_draft(report)
    meeting = decision.meeting
    if not meeting.body.serves(report.agreement_id):
        raise ValidationFailed("Organet hör inte till avtalet.", {"case_id": [
            "Årsrapporten fastställs av ett organ som hör till avtalet."]})
    with force_locale("sv"):  # the record is Swedish, whoever adopts it; pages translate its labels (localised)
        report.figures = compute_figures(report.agreement, report.year, report.economy)
    report.status, report.adopted_at, report.adopted_by_id = ReportStatus.ADOPTED, now(), by.id
    report.adoption_reference = f"{meeting.body.name} {meeting.held_on.isoformat()} § {decision.paragraph}"
    report.pdf = render_pdf(report, report.figures)
    report.pdf_sha256 = hashlib.sha256(report.pdf).hexdigest()
    audit.record(by, "annual_report.adopted", report.agreement, report_id=report.id, year=report.year,
                 decision_id=decision.id, reference=report.adoption_reference, pdf_sha256=report.pdf_sha256)
    db.session.flush()


def figures_of(report: AnnualReport) -> dict[str, Any]:
    """The adopted figures (their labels in the reader's language), or a draft's computed from the data now."""
    if report.is_adopted:
        return localised(report.figures)
    return compute_figures(report.agreement, report.year, report.economy)


def pdf_of(report: AnnualReport) -> bytes:
    """The stored PDF/A of an adopted report; a draft's is rendered now."""
    if report.is_adopted and report.pdf:
        return report.pdf
    with force_locale("sv"):
        return render_pdf(report, figures_of(report))


def get_report(agreement_id: int, year: int) -> AnnualReport | None:
    return db.session.scalar(select(AnnualReport).where(AnnualReport.agreement_id == agreement_id,
                                                        AnnualReport.year == year))


def list_reports(agreement_id: int) -> list[AnnualReport]:
    return list(db.session.scalars(select(AnnualReport).where(AnnualReport.agreement_id == agreement_id)
                                   .order_by(AnnualReport.year.desc())))


def _require_coordinator(user: User, agreement: Agreement) -> None:
    if not is_coordinator(user, agreement):
        raise NotPermitted("Bara samordnaren av avtalet kan ta fram årsrapporten.")


def _require_draft(report: AnnualReport) -> None:
    if report.is_adopted:
        raise InvalidTransition("Årsrapporten är fastställd och kan inte ändras.")
