"""Draft, edit and adopt an annual report, of one agreement or of a collaboration (a joint body and every
agreement it serves). The coordinator (a case officer, manager or deviation coordinator of the agreement's
coordinating organisation; for a collaboration, of any agreement the body serves) drafts it; the joint body
adopts it at a meeting with a decision (§) in its protocol (a collaboration's report: at that body's meeting);
from then on it is frozen: figures and PDF stored, no edits.

An agreement's report records its audit events on the agreement; a collaboration's on the joint body, with the
ids of the agreements it covers."""

from __future__ import annotations

import hashlib
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select

from service import audit
from service.agreements.models import Agreement
from service.bodies.models import JointBody
from service.columns import now
from service.errors import InvalidTransition, NotPermitted, ValidationFailed
from service.extensions import db
from service.parties.models import Role, User
from service.reports.figures import ECONOMY_KINDS, compute_collaboration_figures, compute_figures, localised
from service.reports.models import AnnualReport, ReportStatus
from service.reports.render import render_pdf

COORDINATOR_ROLES = (Role.CASE_OFFICER, Role.MANAGER, Role.DEVIATION_COORDINATOR)
TEXT_FIELDS = ("summary", "activities", "plans")
MAX_ECONOMY_ROWS = 30


def is_coordinator(user: User, agreement: Agreement) -> bool:
    return any(m.organisation_id == agreement.coordinator_organisation_id and m.role in COORDINATOR_ROLES
               for m in user.memberships)


def is_collaboration_coordinator(user: User, body: JointBody) -> bool:
    """A coordinator of any agreement the joint body serves drafts the collaboration's report."""
    return any(is_coordinator(user, agreement) for agreement in body.agreements)


def may_edit(user: User, report: AnnualReport) -> bool:
    if report.is_collaboration:
        return is_collaboration_coordinator(user, report.body)
    return is_coordinator(user, report.agreement)


def create_report(agreement: Agreement, year: int, *, by: User) -> AnnualReport:
    """Start the agreement's annual report for ``year`` as a draft."""
    _require_coordinator(by, agreement)
    _check_year(year, get_report(agreement.id, year))
    report = AnnualReport(agreement_id=agreement.id, year=year, created_by_id=by.id, economy=[], figures={},
                          created_at=now(), updated_at=now())
    db.session.add(report)
    db.session.flush()
    audit.record(by, "annual_report.drafted", agreement, report_id=report.id, year=year)
    return report


def create_collaboration_report(body: JointBody, year: int, *, by: User) -> AnnualReport:
    """Start the collaboration's annual report (the joint body's, over every agreement it serves) as a draft."""
    if not is_collaboration_coordinator(by, body):
        raise NotPermitted("Bara samordnaren av ett avtal som organet hör till kan ta fram samverkans årsrapport.")
    _check_year(year, get_collaboration_report(body.id, year))
    report = AnnualReport(body_id=body.id, year=year, created_by_id=by.id, economy=[], figures={},
                          created_at=now(), updated_at=now())
    db.session.add(report)
    db.session.flush()
    audit.record(by, "annual_report.drafted", body, report_id=report.id, year=year,
                 agreement_ids=report.covered_agreement_ids)
    return report


def _check_year(year: int, existing: AnnualReport | None) -> None:
    if not 2000 <= year <= 2100:
        raise ValidationFailed("Året är ogiltigt.", {"year": ["Ange ett år mellan 2000 och 2100."]})
    if existing is not None:
        raise ValidationFailed("Det finns redan en årsrapport för det året.", {"year": ["Välj ett annat år."]})


def update_report(report: AnnualReport, texts: dict[str, str], economy: list[dict[str, Any]], *, by: User) -> None:
    """Change a draft's texts and economy rows (tkr)."""
    if not may_edit(by, report):
        raise NotPermitted("Bara samordnaren av avtalet kan ta fram årsrapporten.")
    _require_draft(report)
    for name in TEXT_FIELDS:
        setattr(report, name, (texts.get(name) or "").strip())
    report.economy = check_economy(economy)
    report.updated_at = now()
    _audit(by, "annual_report.edited", report)
    db.session.flush()


def _audit(by: User, action: str, report: AnnualReport, **data: Any) -> None:
    """On the agreement; a collaboration's on the joint body, naming the agreements it covers."""
    if report.is_collaboration:
        audit.record(by, action, report.body, report_id=report.id, year=report.year,
                     agreement_ids=report.covered_agreement_ids, **data)
    else:
        audit.record(by, action, report.agreement, report_id=report.id, year=report.year, **data)


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
    if report.is_collaboration and meeting.body_id != report.body_id:
        raise ValidationFailed("Organet är inte samverkans organ.", {"case_id": [
            "Samverkans årsrapport fastställs vid ett möte med det organ den är rapport för."]})
    if not report.is_collaboration and not meeting.body.serves(report.agreement_id):
        raise ValidationFailed("Organet hör inte till avtalet.", {"case_id": [
            "Årsrapporten fastställs av ett organ som hör till avtalet."]})
    with force_locale("sv"):  # the record is Swedish, whoever adopts it; pages translate its labels (localised)
        report.figures = _compute(report)
    report.status, report.adopted_at, report.adopted_by_id = ReportStatus.ADOPTED, now(), by.id
    report.adoption_reference = f"{meeting.body.name} {meeting.held_on.isoformat()} § {decision.paragraph}"
    report.pdf = render_pdf(report, report.figures)
    report.pdf_sha256 = hashlib.sha256(report.pdf).hexdigest()
    _audit(by, "annual_report.adopted", report, decision_id=decision.id, reference=report.adoption_reference,
           pdf_sha256=report.pdf_sha256)
    db.session.flush()


def _compute(report: AnnualReport) -> dict[str, Any]:
    if report.is_collaboration:
        return compute_collaboration_figures(report.body, report.year, report.economy)
    return compute_figures(report.agreement, report.year, report.economy)


def figures_of(report: AnnualReport) -> dict[str, Any]:
    """The adopted figures (their labels in the reader's language), or a draft's computed from the data now."""
    if report.is_adopted:
        return localised(report.figures)
    return _compute(report)


def pdf_of(report: AnnualReport) -> bytes:
    """The stored PDF/A of an adopted report; a draft's is rendered now."""
    if report.is_adopted and report.pdf:
        return report.pdf
    with force_locale("sv"):
        return render_pdf(report, figures_of(report))


def get_report(agreement_id: int, year: int) -> AnnualReport | None:
    return db.session.scalar(select(AnnualReport).where(AnnualReport.agreement_id == agreement_id,
                                                        AnnualReport.year == year))


def get_collaboration_report(body_id: int, year: int) -> AnnualReport | None:
    return db.session.scalar(select(AnnualReport).where(AnnualReport.body_id == body_id, AnnualReport.year == year))


def list_reports(agreement_id: int) -> list[AnnualReport]:
    return list(db.session.scalars(select(AnnualReport).where(AnnualReport.agreement_id == agreement_id)
                                   .order_by(AnnualReport.year.desc())))


def list_collaboration_reports(body_id: int) -> list[AnnualReport]:
    """The joint body's collaboration reports, newest first."""
    return list(db.session.scalars(select(AnnualReport).where(AnnualReport.body_id == body_id)
                                   .order_by(AnnualReport.year.desc())))


def collaboration_reports_covering(agreement_id: int, *, adopted_only: bool = False) -> list[AnnualReport]:
    """The collaboration reports that cover the agreement, newest first: the drafts of the bodies serving it now,
    and the adopted ones that covered it when adopted (``figures['agreement_ids']``)."""
    from service.bodies.models import joint_body_agreements

    serving = select(joint_body_agreements.c.body_id).where(joint_body_agreements.c.agreement_id == agreement_id)
    drafts = [] if adopted_only else list(db.session.scalars(select(AnnualReport).where(
        AnnualReport.body_id.in_(serving), AnnualReport.status == ReportStatus.DRAFT)))
    # Adopted collaboration reports are few (one per body and year): filtering their stored ids here keeps the
    # query free of JSON operators, which SQLite and PostgreSQL spell differently.
    adopted = [r for r in db.session.scalars(select(AnnualReport).where(
        AnnualReport.body_id.is_not(None), AnnualReport.status == ReportStatus.ADOPTED))
        if agreement_id in r.covered_agreement_ids]
    return sorted(drafts + adopted, key=lambda r: (-r.year, r.id))


def can_view_report(user: User, report: AnnualReport) -> bool:
    """An agreement's report: whoever sees the agreement. A collaboration's: whoever sees an agreement it covers,
    the joint body's members (who adopt it) and auditors."""
    from service import access

    if not report.is_collaboration:
        return access.can_view_agreement(user, report.agreement)
    return may_see_collaboration_reports(user, report.body) or any(
        access.can_view_agreement(user, agreement) for agreement in _agreements(report.covered_agreement_ids))


def may_see_collaboration_reports(user: User, body: JointBody) -> bool:
    """Whoever sees an agreement the body serves, its members and auditors (an admin who sets bodies up does not
    read their reports by that alone)."""
    from service import access

    return (access.can_read_everything(user) or any(m.user_id == user.id for m in body.members)
            or any(access.can_view_agreement(user, agreement) for agreement in body.agreements))


def _agreements(ids: list[int]) -> list[Agreement]:
    return list(db.session.scalars(select(Agreement).where(Agreement.id.in_(ids)))) if ids else []


def _require_coordinator(user: User, agreement: Agreement) -> None:
    if not is_coordinator(user, agreement):
        raise NotPermitted("Bara samordnaren av avtalet kan ta fram årsrapporten.")


def _require_draft(report: AnnualReport) -> None:
    if report.is_adopted:
        raise InvalidTransition("Årsrapporten är fastställd och kan inte ändras.")
