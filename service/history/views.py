"""Auditors' pages under /granskning: history with replay, re-execution, verification, exports, access log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from service import access, audit
from service.audit.access_log import list_accesses, record_access, record_case_reads
from service.audit.case_list import STATUSES, CaseListFilters, list_case_page, list_party_choices
from service.audit.cases import CASE_TYPE_LABELS, Case, can_view_case, case_instances, get_case
from service.audit.export import export_csv, export_json_text
from service.audit.history import timeline
from service.audit.package import build_package, package_case_keys
from service.audit.replay import replay_instance
from service.extensions import db
from service.processes.models import ProcessInstance

bp = Blueprint("history", __name__, template_folder="templates", static_folder="static",
               static_url_path="/granskning/static")


def _case(case_type: str, case_id: int, what: str) -> Case:
    """The case if the user may read it (404 otherwise, not revealing it exists); the read is logged."""
    case = get_case(case_type, case_id)
    if case is None or not can_view_case(current_user, case):
        abort(404)
    record_access(current_user, case.case_type, case.id, what, request.full_path.rstrip("?"))
    db.session.commit()
    return case


def _require_auditor() -> None:
    if not access.may_audit(current_user):
        abort(403)


@bp.get("/granskning")
@login_required
@access.opens_if(access.may_audit, refused=403)
def index() -> str:
    """List the cases for auditors: searched, filtered and paged, the last event first."""
    filters = CaseListFilters.from_args(request.args)
    return render_template("history/index.html", page=list_case_page(filters), filters=filters,
                           labels=CASE_TYPE_LABELS, statuses=STATUSES, parties=list_party_choices())


@bp.get("/granskning/verifiera")
@login_required
@access.opens_if(access.may_audit, refused=403)
def verify_chain() -> str:
    """Verify the whole audit hash chain and show the result."""
    result = audit.verify()
    db.session.rollback()
    return render_template("history/verify.html", result=result)


@bp.get("/granskning/<case_type>/<int:case_id>")
@login_required
@access.opens_if(access.may_open_case)
def case_history(case_type: str, case_id: int) -> str:
    """Show a case's timeline with data diffs and the step-by-step replay on its diagram."""
    case = _case(case_type, case_id, "history")
    entries, replays = timeline(case)
    viewer = [{"instance_id": r.instance.id, "title": r.instance.title,
               "process": f"{r.instance.definition.process_id} v{r.instance.definition.version}",
               "steps": r.steps, "stopped": r.stopped} for r in replays]
    # |tojson in the template: JSON with <, >, & and ' escaped, so no text of the case can end the element.
    return render_template("history/case.html", case=case, entries=entries, replays=replays, viewer=viewer)


@bp.get("/granskning/<case_type>/<int:case_id>/rapport")
@login_required
def report(case_type: str, case_id: int) -> str:
    """A printable report of the case's history."""
    case = _case(case_type, case_id, "report")
    entries, _replays = timeline(case)
    return render_template("history/report.html", case=case, entries=entries, verification=audit.verify())


@bp.get("/granskning/<case_type>/<int:case_id>/omkorning")
@login_required
def replay(case_type: str, case_id: int) -> str:
    """Re-execute each of the case's instances from nothing and compare with the stored state."""
    case = _case(case_type, case_id, "replay")
    results = [replay_instance(instance) for instance in case_instances(case)]
    db.session.rollback()
    return render_template("history/replay.html", case=case, results=results)


@bp.get("/granskning/<case_type>/<int:case_id>/historik.json")
@login_required
def export_json(case_type: str, case_id: int) -> Response:
    """Download the case's history as JSON with its hash-chain entries (verify with bin/verify-audit-export)."""
    case = _case(case_type, case_id, "export-json")
    return _download(export_json_text(case), "application/json", f"{case.case_type}-{case.id}-historik.json")


@bp.get("/granskning/<case_type>/<int:case_id>/historik.csv")
@login_required
def export_csv_file(case_type: str, case_id: int) -> Response:
    """Download the case's history as CSV."""
    case = _case(case_type, case_id, "export-csv")
    return _download("\ufeff" + export_csv(case), "text/csv; charset=utf-8", f"{case.case_type}-{case.id}-historik.csv")


@bp.get("/granskning/agreement/<int:case_id>/paket.zip")
@login_required
def package(case_id: int) -> Response:
    """Download an agreement's cases as an E-ARK CSIP/SIP-style information package."""
    _require_auditor()
    _case("agreement", case_id, "package")
    name, content = build_package(case_id)
    # The package holds the agreement's deviations and disputes too: each read is logged (_case logged the agreement).
    record_case_reads(current_user, package_case_keys(case_id)[1:], "package", request.full_path.rstrip("?"))
    db.session.commit()
    return _download(content, "application/zip", name)


@bp.get("/granskning/<case_type>/<int:case_id>/atkomst")
@login_required
def accesses(case_type: str, case_id: int) -> str:
    """List who has read the case, newest first (auditors and administrators)."""
    _require_auditor()
    case = _case(case_type, case_id, "access-log")
    return render_template("history/accesses.html", case=case, accesses=list_accesses(case.case_type, case.id))


@bp.get("/granskning/process/<int:instance_id>.bpmn")
@login_required
def instance_diagram(instance_id: int) -> Response:
    """The BPMN of the definition version the instance runs on (for the replay viewer)."""
    instance = db.get_or_404(ProcessInstance, instance_id)
    from service.audit.cases import case_of_instance

    case = case_of_instance(instance.id)
    if not (access.can_read_everything(current_user) or (case is not None and can_view_case(current_user, case))):
        abort(404)
    return Response(instance.definition.bpmn_xml, mimetype="application/xml")


def _download(content: Any, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.app_template_global("history_label")
def history_label(case_type: str) -> str:
    return _(CASE_TYPE_LABELS.get(case_type, case_type))
