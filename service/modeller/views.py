"""Process owners' pages: the modeller, versions and comparison, forms, heat map and migration."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service import access
from service.errors import BpmnError, SamverkanError, ValidationFailed
from service.extensions import db
from service.i18n import flash_message
from service.inbox.form_render import build_fields
from service.modeller import compare as comparison
from service.modeller import heatmap, imports, uploads
from service.modeller import operations as ops
from service.modeller.names import element_label, element_names, with_names
from service.modeller.operations import DiagramRefused
from service.parties.models import ROLE_LABELS, Organisation, User, role_lane_names
from service.processes import migration
from service.processes.definitions import get_version, list_processes, list_versions
from service.processes.test_cases import ProcessTestsFailed
from service.transactions import commit_with_retry

bp = Blueprint("modeller", __name__, url_prefix="/processer", template_folder="templates", static_folder="static",
               static_url_path="/static/modeller")
F = TypeVar("F", bound=Callable[..., Any])


def _readers_only(view: F) -> F:
    """Process owners and auditors read definitions, versions, forms and figures."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not (access.can_manage_definitions(current_user) or access.is_auditor(current_user)):
            abort(403)
        return view(*args, **kwargs)
    return login_required(wrapper)  # type: ignore[return-value]


def _owners_only(view: F) -> F:
    """Only process owners change definitions (access.can_manage_definitions)."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not access.can_manage_definitions(current_user):
            abort(403)
        return view(*args, **kwargs)
    return login_required(wrapper)  # type: ignore[return-value]


@bp.errorhandler(SamverkanError)
def _refused(error: SamverkanError) -> tuple[Response, int]:
    body: dict[str, Any] = {"message": error.message}
    if isinstance(error, DiagramRefused):
        body["problems"] = with_names((p.as_dict() for p in error.problems), _names_in_request())
    elif hasattr(error, "element_id"):
        body["problems"] = with_names([{"element_id": error.element_id,
                                        "message": getattr(error, "detail", error.message)}], _names_in_request())
    if isinstance(error, ValidationFailed):
        body["fields"] = error.fields
    if isinstance(error, ProcessTestsFailed):
        body["tests"] = [outcome.as_dict() for outcome in error.outcomes]
    return jsonify(body), error.status


def _names_in_request() -> dict[str, str]:
    """The element names of the diagram the request sent (a refusal names elements as people know them)."""
    payload = request.get_json(silent=True) or {}
    return element_names(str(payload.get("xml") or "")) if isinstance(payload, dict) else {}


@bp.get("/")
@_readers_only
def index() -> str:
    """List deployed processes and the forms."""
    return render_template("modeller/index.html", processes=list_processes(), forms=sorted(ops.all_forms()),
                           can_edit=access.can_manage_definitions(current_user))


@bp.get("/<process_id>/versioner")
@_readers_only
def versions(process_id: str) -> str:
    """List every version of a process with author, time and comment."""
    rows = list_versions(process_id)
    if not rows:
        abort(404)
    ids = {row.deployed_by_id for row in rows if row.deployed_by_id}
    authors = {user.id: user.display_name for user in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return render_template("modeller/versions.html", process_id=process_id, versions=rows, authors=authors,
                           can_edit=access.can_manage_definitions(current_user))


@bp.get("/<process_id>/versioner/<int:version>.bpmn")
@_readers_only
def download(process_id: str, version: int) -> Response:
    """Download one version's BPMN file."""
    row = get_version(process_id, version)
    return Response(row.bpmn_xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{process_id}-v{version}.bpmn"'})


@bp.get("/<process_id>/jamfor")
@_readers_only
def compare(process_id: str) -> str:
    """Compare two versions in a table and on the diagram."""
    old = get_version(process_id, request.args.get("a", type=int) or 0)
    new = get_version(process_id, request.args.get("b", type=int) or 0)
    changes = comparison.compare(old.bpmn_xml.encode(), new.bpmn_xml.encode())
    return render_template("modeller/compare.html", process_id=process_id, old=old, new=new, changes=changes,
                           markers={c.element_id: c.kind for c in changes})


@bp.get("/<process_id>/versioner/<int:version>/varmekarta")
@_readers_only
def heat_map(process_id: str, version: int) -> str:
    """Show per element how many cases passed, wait now, and the time spent there (the slowest first)."""
    row = get_version(process_id, version)
    names = element_names(row.bpmn_xml)
    figures = {k: {**v.as_dict(), "name": names.get(k, ""), "label": element_label(k, names)}
               for k, v in heatmap.by_waiting_time(heatmap.figures(row)).items()}
    return render_template("modeller/heatmap.html", row=row, figures=figures)


@bp.get("/modell")
@_owners_only
def modeller() -> str:
    """Open the modeller on a deployed version (or the caller's draft, or an empty page for an upload)."""
    process_id = request.args.get("process")
    version = request.args.get("version", type=int)
    xml, base, draft = "", None, None
    if process_id:
        draft = ops.get_draft(process_id, current_user) if request.args.get("draft") else None
        row = get_version(process_id, version) if version else next(iter(list_versions(process_id)), None)
        if row is None:
            abort(404)
        base = row.version
        xml = draft.bpmn_xml if draft is not None else row.bpmn_xml
    from service.modeller.decision_views import decision_choices  # its module adds routes to this blueprint
    return render_template("modeller/modeller.html", xml=xml, process_id=process_id, base_version=base, draft=draft,
                           forms=sorted(ops.all_forms()), roles=role_lane_names(), decisions=decision_choices())


def _xml_from_request() -> tuple[bytes, str]:
    payload = request.get_json(silent=True) or {}
    xml = str(payload.get("xml") or "").encode("utf-8")
    if not xml:
        raise ValidationFailed("Diagrammet saknas.", {"xml": ["Skicka diagrammets XML."]})
    return xml, str(payload.get("filename") or "diagram.bpmn")


def _chosen_process() -> str | None:
    """The entry point the owner chose for a file with several executable processes (None: the file's own)."""
    chosen = (request.get_json(silent=True) or {}).get("process_id")
    return str(chosen) if chosen else None


@bp.post("/modell/validera")
@_owners_only
def validate() -> Response:
    """Validate a diagram: every problem with its element's id, name and label."""
    xml, filename = _xml_from_request()
    problems = [p.as_dict() for p in ops.validate_xml(xml, filename, _chosen_process())]
    return jsonify({"problems": with_names(problems, element_names(xml) if problems else {})})


@bp.post("/modell/driftsatt")
@_owners_only
def deploy() -> tuple[Response, int]:
    """Deploy a diagram as a new version with a comment."""
    xml, filename = _xml_from_request()
    comment = str((request.get_json(silent=True) or {}).get("comment") or "")
    row, is_new = commit_with_retry(lambda: ops.deploy_xml(xml, filename, comment, by=current_user,
                                                           process_id=_chosen_process()))
    body = {"process_id": row.process_id, "version": row.version, "is_new": is_new,
            "versions_url": url_for("modeller.versions", process_id=row.process_id)}
    return jsonify(body), 201 if is_new else 200


@bp.post("/modell/utkast")
@_owners_only
def save_draft() -> Response:
    """Save the diagram as the caller's draft."""
    xml, _ = _xml_from_request()
    base = (request.get_json(silent=True) or {}).get("base_version")
    draft = commit_with_retry(lambda: ops.save_draft(xml, int(base) if base else None, by=current_user))
    return jsonify({"process_id": draft.process_id, "saved_at": draft.saved_at.isoformat()})


@bp.get("/importera")
@_owners_only
def import_upload() -> str:
    """Show the import page: a model from SpiffArena or Camunda with its form files (or one zip)."""
    return render_template("modeller/import.html")


@bp.post("/importera")
@_owners_only
def import_preview() -> tuple[str, int]:
    """Read an uploaded model with its form files and list its user tasks for the role mapping. A file with
    several processes a case could start comes back with the choice of one (the upload kept in the page)."""
    chosen = request.form.get("process_id", "").strip() or None
    bundle: uploads.Bundle | None = None
    try:
        if "bundle" in request.form:
            bundle = uploads.Bundle.from_json(request.form["bundle"])
        else:
            files = [(upload.filename or "", upload.read()) for upload in request.files.getlist("files") if upload.filename]
            bundle = uploads.read_uploads(files)
        found = imports.preview(bundle, chosen)
    except SamverkanError as exc:
        starting = imports.starting_processes(bundle) if bundle is not None else []
        return render_template("modeller/import.html", error=exc, bundle=bundle if len(starting) > 1 else None,
                               starting=starting, chosen=chosen), exc.status
    return render_template("modeller/import_mapping.html", **_mapping_page(found)), 200


@bp.post("/importera/driftsatt")
@_owners_only
def import_deploy() -> BaseResponse | tuple[str, int]:
    """Import the model with the chosen role and organisation per lane and deploy it as a new version."""
    try:
        found = imports.preview(uploads.Bundle.from_json(request.form.get("bundle", "")),
                                request.form.get("process_id", "").strip() or None)
    except SamverkanError as exc:
        return render_template("modeller/import.html", error=exc), exc.status
    chosen = {group.key: (request.form.get(f"role:{group.key}", ""), request.form.get(f"organisation:{group.key}", ""))
              for group in found.groups}
    picked = {task.bpmn_id: request.form.get(f"form:{task.bpmn_id}", "") for task in found.tasks if task.form is None}
    try:
        row, is_new = commit_with_retry(lambda: imports.import_model(
            found.bundle, chosen, by=current_user, comment=request.form.get("comment", ""), chosen_forms=picked,
            process_id=found.process_id))
    except SamverkanError as exc:
        return render_template("modeller/import_mapping.html", **_mapping_page(found, exc)), exc.status
    if is_new:
        flash_message("Modellen importerades och driftsattes som version %(version)s.", version=row.version)
    else:
        flash_message("Modellen är oförändrad; version %(version)s gäller fortfarande.", version=row.version)
    return redirect(url_for("modeller.versions", process_id=row.process_id))


def _mapping_page(found: imports.Preview, error: SamverkanError | None = None) -> dict[str, Any]:
    """The mapping page's values: the tasks by lane, the choices, and a refusal's fields or BPMN problems."""
    problems: list[dict[str, Any]] = []
    if isinstance(error, DiagramRefused):
        problems = with_names((p.as_dict() for p in error.problems), element_names(found.bundle.xml))
    elif isinstance(error, BpmnError) and error.element_id:
        problems = with_names([{"element_id": error.element_id, "message": error.detail}], element_names(found.bundle.xml))
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return {"found": found, "roles": [(role.value, ROLE_LABELS[role]) for role in imports.ASSIGNABLE_ROLES],
            "organisations": organisations, "forms": sorted({*ops.all_forms(), *found.bundle.files}),
            "values": request.form if request.method == "POST" and "bundle" in request.form else {},
            "error": error, "problems": problems, "fields": getattr(error, "fields", {}),
            "case_organisation": imports.CASE_ORGANISATION}


@bp.get("/formular.json")
@_owners_only
def form_names() -> Response:
    """The form names a user task can choose (forms/ and edited forms)."""
    return jsonify(sorted(ops.all_forms()))


@bp.get("/formular/<name>")
@_readers_only
def form(name: str) -> str:
    """Show a form's JSON Schema with a preview (editable by process owners)."""
    schema = ops.get_form(name)
    return render_template("modeller/form.html", name=name, text=json.dumps(schema, indent=2, ensure_ascii=False),
                           fields=build_fields(schema, {}, {}, {}), can_edit=access.can_manage_definitions(current_user))


@bp.post("/formular/forhandsvisning")
@_readers_only
def form_preview() -> tuple[str, int]:
    """Render the HTML form of a JSON Schema (the inbox's own field template)."""
    try:
        schema = ops.parse_form_text(request.form.get("schema", ""))
    except ValidationFailed as exc:
        return render_template("modeller/_preview.html", fields=[], errors=exc.fields.get("schema", [])), 422
    return render_template("modeller/_preview.html", fields=build_fields(schema, {}, {}, {}), errors=[]), 200


@bp.post("/formular/<name>")
@_owners_only
def save_form(name: str) -> BaseResponse | tuple[str, int]:
    """Save an edited form; refused with the reason when the schema is invalid."""
    text = request.form.get("schema", "")
    try:
        commit_with_retry(lambda: ops.save_form(name, text, by=current_user))
    except ValidationFailed as exc:
        return render_template("modeller/form.html", name=name, text=text, fields=[], can_edit=True,
                               errors=exc.fields.get("schema", [exc.message])), 422
    return render_template("modeller/form.html", name=name, text=text, can_edit=True, saved=True,
                           fields=build_fields(ops.get_form(name), {}, {}, {})), 200


@bp.route("/<process_id>/flytta", methods=["GET", "POST"])
@_owners_only
def migrate(process_id: str) -> tuple[str, int]:
    """Move chosen running cases to a newer version: a dry run first, then for real."""
    rows = list_versions(process_id)
    if not rows:
        abort(404)
    target = request.values.get("version", type=int) or rows[0].version
    chosen = [int(i) for i in request.form.getlist("instance") if i.isdigit()]
    results, status = None, 200
    if request.method == "POST" and chosen:
        dry_run = request.form.get("action") != "migrate"
        results = commit_with_retry(lambda: migration.migrate_instances(
            chosen, get_version(process_id, target), by=current_user, dry_run=dry_run))
        if not dry_run:
            db.session.expire_all()
    return render_template("modeller/migrate.html", process_id=process_id, versions=rows, target=target,
                           instances=migration.list_running(process_id), results=results, chosen=chosen), status
