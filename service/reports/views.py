"""Annual report pages: an agreement's reports (and the collaboration reports covering it), a joint body's
collaboration reports, one report (draft form or the adopted text) and its PDF/A. A joint body adopts it at a
meeting (service/bodies: the decision lands through hooks.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers.response import Response as BaseResponse

from service import access
from service.agreements.models import Agreement
from service.bodies.models import JointBody
from service.deviations.statistics import swedish_number
from service.errors import SamverkanError, ValidationFailed
from service.extensions import db
from service.i18n import flash_message
from service.reports import operations as ops
from service.reports.figures import ECONOMY_KINDS
from service.reports.models import AnnualReport
from service.transactions import commit_with_retry

bp = Blueprint("reports", __name__, template_folder="templates")
BLANK_ECONOMY_ROWS = 3


@bp.app_template_global()
def agreement_follow_ups(agreement_id: int) -> list[Any]:
    """For the agreement page: its follow-ups, newest first."""
    from service.reports.follow_ups import list_follow_ups

    return list_follow_ups(agreement_id)


@bp.app_template_global()
def agreement_collaboration_reports(agreement_id: int) -> list[AnnualReport]:
    """For the agreement page: the collaboration reports (of joint bodies serving it) that cover it."""
    return ops.collaboration_reports_covering(agreement_id)


def may_open_report(user: Any, report_id: int, **_: Any) -> bool:
    report = db.session.get(AnnualReport, report_id)
    return report is not None and ops.can_view_report(user, report)


def may_open_body_reports(user: Any, body_id: int, **_: Any) -> bool:
    body = db.session.get(JointBody, body_id)
    return body is not None and ops.may_see_collaboration_reports(user, body)


@bp.route("/avtal/<int:agreement_id>/arsrapporter", methods=["GET", "POST"])
@login_required
@access.opens_if(access.may_open_agreement)
def agreement_reports(agreement_id: int) -> BaseResponse | str | tuple[str, int]:
    """List an agreement's annual reports, and start a new one (the coordinator)."""
    agreement = db.session.get_one(Agreement, agreement_id)
    message, status = None, 200
    if request.method == "POST":
        started = _start(lambda year: ops.create_report(db.session.get_one(Agreement, agreement_id), year,
                                                        by=current_user))
        if isinstance(started, BaseResponse):
            return started
        message, status = started
    page = render_template("reports/list.html", title=agreement.title, reports=ops.list_reports(agreement_id),
                           collaboration_reports=ops.collaboration_reports_covering(agreement_id),
                           can_draft=ops.is_coordinator(current_user, agreement), message=message,
                           back=("inbox.agreement_page", {"agreement_id": agreement_id}))
    return (page, status) if message else page


@bp.route("/organ/<int:body_id>/arsrapporter", methods=["GET", "POST"])
@login_required
@access.opens_if(may_open_body_reports)
def body_reports(body_id: int) -> BaseResponse | str | tuple[str, int]:
    """List a collaboration's annual reports (a joint body's, over every agreement it serves), and start one."""
    body = db.session.get_one(JointBody, body_id)
    message, status = None, 200
    if request.method == "POST":
        started = _start(lambda year: ops.create_collaboration_report(db.session.get_one(JointBody, body_id), year,
                                                                      by=current_user))
        if isinstance(started, BaseResponse):
            return started
        message, status = started
    page = render_template("reports/list.html", title=body.name, body=body,
                           reports=ops.list_collaboration_reports(body_id),
                           can_draft=ops.is_collaboration_coordinator(current_user, body), message=message,
                           back=("bodies.body_page", {"body_id": body_id}))
    return (page, status) if message else page


def _start(create: Callable[[int], AnnualReport]) -> BaseResponse | tuple[str, int]:
    """Start a report for the posted year: to its page, or the refusal's message and status (nothing stored)."""
    year = request.form.get("year", "")
    try:
        if not year.isdigit():
            raise ValidationFailed("Året är ogiltigt.", {"year": ["Ange ett år, till exempel 2026."]})
        report = commit_with_retry(lambda: create(int(year)))
        return redirect(url_for("reports.report_page", report_id=report.id))
    except SamverkanError as exc:
        db.session.rollback()
        return exc.message, exc.status


@bp.route("/arsrapporter/<int:report_id>", methods=["GET", "POST"])
@login_required
@access.opens_if(may_open_report)
def report_page(report_id: int) -> BaseResponse | str | tuple[str, int]:
    """Show an annual report; the coordinator edits a draft's texts and economy here."""
    report = db.session.get_one(AnnualReport, report_id)
    if request.method == "POST":
        texts = {name: request.form.get(name, "") for name in ops.TEXT_FIELDS}
        try:
            commit_with_retry(lambda: ops.update_report(db.session.get_one(AnnualReport, report_id), texts,
                                                        _economy_rows(), by=current_user))
        except SamverkanError as exc:
            db.session.rollback()
            return _render(db.session.get_one(AnnualReport, report_id), exc.message,
                           getattr(exc, "fields", {})), exc.status
        flash_message("Årsrapporten är sparad.")
        return redirect(url_for("reports.report_page", report_id=report_id))
    return _render(report)


@bp.get("/arsrapporter/<int:report_id>.pdf")
@login_required
@access.opens_if(may_open_report)
def report_pdf(report_id: int) -> Response:
    """Download the annual report as PDF/A (the stored one, once adopted)."""
    report = db.session.get_one(AnnualReport, report_id)
    owner = f"organ-{report.body_id}" if report.is_collaboration else f"avtal-{report.agreement_id}"
    name = f"arsrapport-{report.year}-{owner}{'' if report.is_adopted else '-utkast'}.pdf"
    return Response(ops.pdf_of(report), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _economy_rows() -> list[dict[str, Any]]:
    count = min(request.form.get("economy_rows", 0, type=int), ops.MAX_ECONOMY_ROWS)
    return [{key: request.form.get(f"{key}_{i}", "") for key in ("post", "kind", "budget_tkr", "outcome_tkr")}
            for i in range(count)]


def _render(report: AnnualReport, message: str | None = None, errors: dict[str, list[str]] | None = None) -> str:
    rows = list(report.economy) + [{} for _ in range(BLANK_ECONOMY_ROWS)]
    return render_template("reports/report.html", report=report, f=ops.figures_of(report), number=swedish_number,
                           can_edit=not report.is_adopted and ops.may_edit(current_user, report),
                           economy_rows=rows, kinds=ECONOMY_KINDS,
                           message=message, errors=errors or {})
