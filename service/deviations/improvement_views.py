"""The improvement actions page: my organisations' actions and those I own, each moved on to done here."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers.response import Response as BaseResponse

from service import access
from service.columns import now
from service.deviations import improvements as ops
from service.deviations.models import IMPROVEMENT_STATUS_LABELS, ImprovementAction
from service.errors import SamverkanError
from service.extensions import db
from service.i18n import flash_message
from service.transactions import commit_with_retry

bp = Blueprint("improvements", __name__, template_folder="templates")


@bp.get("/forbattringsatgarder")
@login_required
def improvement_list() -> str:
    """List the improvement actions of my organisations and those I own."""
    return _render()


@bp.post("/forbattringsatgarder/<int:action_id>")
@login_required
def update(action_id: int) -> BaseResponse | tuple[str, int]:
    """Change an action's status (done needs what was done), or take it on as its owner."""
    action = db.session.get(ImprovementAction, action_id)
    if action is None or not (ops.can_manage(current_user, action) or access.can_view_deviation(current_user, action.deviation)):
        abort(404)
    status, result = request.form.get("status", ""), request.form.get("result", "")
    try:
        if request.form.get("_action") == "take":
            commit_with_retry(lambda: ops.take_ownership(db.session.get_one(ImprovementAction, action_id), by=current_user))
        else:
            commit_with_retry(lambda: ops.update_improvement(db.session.get_one(ImprovementAction, action_id), status,
                                                             result, by=current_user))
    except SamverkanError as exc:
        db.session.rollback()
        return _render(exc.message, action_id), exc.status
    flash_message("Förbättringsåtgärden är ändrad.")
    return redirect(url_for("improvements.improvement_list"))


def _render(message: str | None = None, failed_id: int | None = None) -> str:
    return render_template("deviations/improvements.html", actions=ops.list_improvements(current_user),
                           statuses=IMPROVEMENT_STATUS_LABELS, today=now().date(), can_manage=ops.can_manage,
                           message=message, failed_id=failed_id)
