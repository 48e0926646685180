"""Agreement actions outside the task list: terminating (säga upp) an agreement in force."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers.response import Response as BaseResponse

from service import access
from service.agreements import drafting
from service.agreements.models import Agreement
from service.agreements.operations import terminate_agreement, terminating_party
from service.errors import SamverkanError, ValidationFailed
from service.extensions import db
from service.transactions import commit_with_retry

bp = Blueprint("agreements", __name__, template_folder="templates")


@bp.route("/avtal/<int:agreement_id>/uppsagning", methods=["GET", "POST"])
@login_required
def terminate(agreement_id: int) -> BaseResponse | str | tuple[str, int]:
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or not access.can_view_agreement(current_user, agreement):
        abort(404)  # not 403: do not reveal that the agreement exists
    if terminating_party(current_user, agreement) is None:
        abort(403)
    values = {"reason": request.form.get("reason", ""), "decision_reference": request.form.get("decision_reference", "")}
    if request.method == "GET":
        return render_template("agreements/terminate.html", agreement=agreement, values=values, errors={}, message=None)
    try:
        commit_with_retry(lambda: terminate_agreement(db.session.get_one(Agreement, agreement_id), by=current_user,
                                                      **values))
    except ValidationFailed as exc:
        return render_template("agreements/terminate.html", agreement=agreement, values=values, errors=exc.fields,
                               message=exc.message), 422
    except SamverkanError as exc:
        db.session.expire_all()
        return render_template("agreements/terminate.html", agreement=agreement, values=values, errors={},
                               message=exc.message), exc.status
    flash("Avtalet är uppsagt.")
    return redirect(url_for("inbox.agreement_page", agreement_id=agreement_id))


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
                flash("Skrivgruppen är ändrad.")
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
