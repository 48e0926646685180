"""Registering an appeal of a party's decision till förvaltningsrätten, at any time after the decision."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers.response import Response as BaseResponse

from service import access
from service.agreements import appeals
from service.agreements.models import AgreementVersion, Decision
from service.agreements.tracker import PartyProgress
from service.agreements.tracker import adoption_progress as progress_of
from service.errors import SamverkanError, ValidationFailed
from service.extensions import db
from service.parties.models import User
from service.transactions import commit_with_retry

bp = Blueprint("appeals", __name__, template_folder="templates")


@bp.app_template_global()
def adoption_progress(version: AgreementVersion) -> list[PartyProgress]:
    """The adoption tracker's rows for the agreement page (service/agreements/tracker.py)."""
    return progress_of(version)


def may_register_appeal(user: User, agreement_id: int, decision_id: int, **_: Any) -> bool:
    """The party's secretary, for a decision of an agreement the user may see."""
    decision = db.session.get(Decision, decision_id)
    return decision is not None and decision.version.agreement_id == agreement_id \
        and access.can_view_agreement(user, decision.version.agreement) and appeals.may_register(user, decision)


@bp.route("/avtal/<int:agreement_id>/beslut/<int:decision_id>/overklagande", methods=["GET", "POST"])
@login_required
@access.opens_if(may_register_appeal)  # 404: neither the agreement nor the decision is revealed to others
def register_appeal(agreement_id: int, decision_id: int) -> BaseResponse | str | tuple[str, int]:
    """Register that a party's decision was appealed till förvaltningsrätten (målnummer, day it came in)."""
    decision = db.session.get_one(Decision, decision_id)
    if not appeals.can_be_appealed(decision):
        abort(409)
    values = {"court": request.form.get("court", appeals.COURT_PREFIX),
              "case_number": request.form.get("case_number", ""), "lodged_on": request.form.get("lodged_on", "")}
    if request.method == "GET":
        return _page(decision, values, {}, None)
    try:
        commit_with_retry(lambda: appeals.register_appeal(
            db.session.get_one(Decision, decision_id), court=values["court"], case_number=values["case_number"],
            lodged_on=_date(values["lodged_on"]), by=current_user))
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(db.session.get_one(Decision, decision_id), values, exc.fields, exc.message), 422
    except SamverkanError as exc:
        db.session.rollback()
        return _page(db.session.get_one(Decision, decision_id), values, {}, exc.message), exc.status
    flash(_("Överklagandet är registrerat. Beslutet är överklagat tills förvaltningsrättens avgörande har registrerats."))
    return redirect(url_for("inbox.agreement_page", agreement_id=agreement_id))


def _page(decision: Decision, values: dict[str, str], errors: dict[str, list[str]], message: str | None) -> str:
    return render_template("agreements/appeal.html", decision=decision, agreement=decision.version.agreement,
                           values=values, errors=errors, message=message)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None
