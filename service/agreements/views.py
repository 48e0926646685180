"""Agreement actions outside the task list: terminating (säga upp) an agreement in force."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers.response import Response as BaseResponse

from service import access
from service.agreements.models import Agreement
from service.agreements.operations import terminate_agreement
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
