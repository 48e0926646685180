"""Agreement actions outside the task list: a party leaving (säga upp) an agreement, the drafting group."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers.response import Response as BaseResponse

from service import access
from service.agreements import drafting, leaving
from service.agreements.models import Agreement, AgreementParty
from service.errors import SamverkanError, ValidationFailed
from service.extensions import db
from service.i18n import flash_message
from service.parties.models import Role
from service.transactions import commit_with_retry

bp = Blueprint("agreements", __name__, template_folder="templates")


@bp.route("/avtal/<int:agreement_id>/uppsagning", methods=["GET", "POST"])
@login_required
def terminate(agreement_id: int) -> BaseResponse | str | tuple[str, int]:
    """Register a party's decision to leave the agreement (uppsägning), by the party's secretary."""
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or not access.can_view_agreement(current_user, agreement):
        abort(404)  # not 403: do not reveal that the agreement exists
    if not any(current_user.has_role(p.organisation_id, Role.BODY_SECRETARY) for p in agreement.parties):
        abort(403)  # only a party's secretary (behörig instans) registers its leaving
    parties = leaving.leaving_parties(current_user, agreement)
    values = {name: request.form.get(name, "") for name in LEAVING_FIELDS}
    if not parties:
        message = _("Partens uppsägning är redan registrerad.") if agreement.status in leaving.LEAVABLE \
            else _("Bara ett antaget eller gällande avtal kan sägas upp.")
        return _leaving_page(agreement, parties, values, {}, message, 409)
    if request.method == "GET":
        return _leaving_page(agreement, parties, values, {}, None, 200)
    try:
        commit_with_retry(lambda: leaving.register_leaving(db.session.get_one(Agreement, agreement_id),
                                                           leaving.parse_form(request.form), by=current_user))
    except ValidationFailed as exc:
        return _leaving_page(agreement, parties, values, exc.fields, exc.message, 422)
    except SamverkanError as exc:
        db.session.expire_all()
        return _leaving_page(agreement, parties, values, {}, exc.message, exc.status)
    flash(_("Partens uppsägning är registrerad."))
    return redirect(url_for("inbox.agreement_page", agreement_id=agreement_id))


LEAVING_FIELDS = ("organisation_id", "body_id", "decided_on", "paragraph", "diarienummer", "notified_on", "is_joint",
                  "ends_on", "reason")


def _leaving_page(agreement: Agreement, parties: list[AgreementParty], values: dict[str, str],
                  errors: dict[str, list[str]], message: str | None, status: int) -> tuple[str, int]:
    version = agreement.current_version
    page = render_template("agreements/terminate.html", agreement=agreement, parties=parties, values=values,
                           errors=errors, message=message,
                           notice_months=version.notice_months if version is not None else None)
    return page, status


@bp.route("/avtal/<int:agreement_id>/skrivgrupp", methods=["GET", "POST"])
@login_required
def drafting_group(agreement_id: int) -> BaseResponse | str | tuple[str, int]:
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or not access.can_view_agreement(current_user, agreement):
        abort(404)
    message = None
    if request.method == "POST":
        action, user_id = request.form.get("action"), request.form.get("user_id", "")
        if action not in ("add", "remove") or not user_id.isdigit():
            message, status = "Välj en person (fältet user_id) och lägg till eller ta bort.", 400
        else:
            operation = drafting.add_drafter if action == "add" else drafting.remove_drafter
            try:
                commit_with_retry(lambda: operation(db.session.get_one(Agreement, agreement_id), int(user_id),
                                                    by=current_user))
                flash_message("Skrivgruppen är ändrad.")
                return redirect(url_for("agreements.drafting_group", agreement_id=agreement_id))
            except SamverkanError as exc:
                db.session.rollback()
                message, status = exc.message, exc.status
    members = drafting.drafters(agreement)
    taken = {member.user_id for member in members}
    page = render_template("agreements/drafting_group.html", agreement=agreement, members=members, message=message,
                           candidates=[(org, user) for org, user in drafting.eligible(agreement) if user.id not in taken],
                           can_manage=drafting.can_manage(current_user, agreement))
    return (page, status) if message else page
