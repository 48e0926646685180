"""Process owners' incident pages: what failed where, with which data; correct and retry."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers.response import Response as BaseResponse

from service import access
from service.errors import SamverkanError
from service.extensions import db
from service.i18n import flash_message
from service.processes import incidents
from service.processes.models import ProcessIncident
from service.processes.operations import retry_incident
from service.transactions import commit_with_retry

bp = Blueprint("processes", __name__, template_folder="templates")


def _require_reader() -> None:
    """Process owners act on incidents; auditors read them."""
    if not (access.can_manage_definitions(current_user) or access.can_read_everything(current_user)):
        abort(403)


@bp.get("/processagare/incidenter")
@login_required
def incident_list() -> str:
    _require_reader()
    return render_template("processes/incidents.html", open_incidents=incidents.open_incidents(),
                           resolved=incidents.recent_resolved())


@bp.route("/processagare/incidenter/<int:incident_id>", methods=["GET", "POST"])
@login_required
def incident_page(incident_id: int) -> BaseResponse | str | tuple[str, int]:
    _require_reader()
    incident = db.session.get(ProcessIncident, incident_id)
    if incident is None:
        abort(404)
    text = json.dumps(incident.data, ensure_ascii=False, indent=2, sort_keys=True)
    if request.method == "GET":
        return render_template("processes/incident.html", incident=incident, data_text=text, error=None)
    if not access.can_manage_definitions(current_user):
        abort(403)
    text = request.form.get("data", "")
    data, error = _parse_data(text)
    if error is None:
        try:
            commit_with_retry(lambda: retry_incident(incident_id, data, by=current_user))
        except SamverkanError as exc:
            error = exc.message
    if error is not None:
        db.session.expire_all()
        return render_template("processes/incident.html", incident=incident, data_text=text, error=error), 422
    db.session.expire_all()
    if incident.is_open:
        flash_message("Försöket misslyckades igen: %(reason)s", reason=incident.message)
    else:
        flash_message("Incidenten är åtgärdad och ärendet har körts vidare.")
    return redirect(url_for("processes.incident_page", incident_id=incident_id))


def _parse_data(text: str) -> tuple[dict[str, Any], str | None]:
    """The corrected task data: a JSON object (field ``data``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return {}, f"Fältet data: ogiltig JSON på rad {exc.lineno}, kolumn {exc.colno}: {exc.msg}"
    if not isinstance(data, dict):
        return {}, "Fältet data: ska vara ett JSON-objekt ({ ... })."
    return data, None
