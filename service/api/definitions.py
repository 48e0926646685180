"""Process definitions: list the versions, download a version's BPMN, deploy a new version (process owners)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Response, current_app
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from sqlalchemy import select

from service import access
from service.api.auth import api_user, require_write
from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.paging import PageArgs, json_response, page_response, page_schema, paginate, sort_field
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import User
from service.processes import lint
from service.processes.definitions import deploy_definition
from service.processes.models import ProcessDefinition
from service.transactions import commit_with_retry

bp = resource("definitions", "Processdefinitioner (BPMN): lista, hämta, driftsätt. Bara processägare (och granskare läser).")
MAX_BPMN_BYTES = 2 * 1024 * 1024


class DefinitionSchema(ma.Schema):
    id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    filename = fields.String(required=True)
    sha256 = fields.String(required=True)
    comment = fields.String(required=True)
    deployed_by_id = fields.Integer(allow_none=True)
    deployed_at = fields.AwareDateTime(required=True)


class LintWarningSchema(ma.Schema):
    element_id = fields.String(allow_none=True, required=True)
    rule = fields.String(required=True)
    message = fields.String(required=True)


class DeployResultSchema(DefinitionSchema):
    is_new = fields.Boolean(required=True, metadata={"description": "false: samma innehåll som senaste versionen."})
    warnings = fields.List(fields.Nested(LintWarningSchema), required=True, metadata={
        "description": "Granskningens varningar (bpmnlint och våra regler, som i modelleraren); stoppar inte driftsättningen."})


class DefinitionListArgs(PageArgs):
    sort = sort_field(("process_id", "version", "deployed_at"), "process_id")
    process_id = fields.String(validate=validate.Length(max=200))


class DeployFilesSchema(ma.Schema):
    bpmn = Upload(required=True, metadata={"description": "BPMN-filen; formulären hämtas från tjänstens forms/."})


class DeployFormSchema(ma.Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=2000))
    process_id = fields.String(load_default=None, validate=validate.Length(min=1, max=200), metadata={
        "description": "Processen som startar ärendet, för en fil med flera körbara processer."})


@bp.get("/definitions")
@bp.arguments(DefinitionListArgs, location="query")
@bp.response(200, page_schema(DefinitionSchema, "DefinitionPage"))
def list_definitions(args: dict[str, Any]) -> Response:
    """List every deployed version of every process."""
    _require_reader(api_user())
    query = select(ProcessDefinition)
    if "process_id" in args:
        query = query.where(ProcessDefinition.process_id == args["process_id"])
    found = list(db.session.scalars(query.order_by(ProcessDefinition.process_id, ProcessDefinition.version)))
    keys = {"process_id": lambda d: (d.process_id, d.version), "version": lambda d: d.version,
            "deployed_at": lambda d: d.deployed_at}
    return page_response(paginate(found, args, keys), DefinitionSchema)


@bp.get("/definitions/<string:process_id>/versions/<int(max=2147483647):version>/bpmn")
@bp.response(200, content_type="application/xml", description="BPMN 2.0 XML")
def download_bpmn(process_id: str, version: int) -> Response:
    """Download the BPMN XML of one deployed version."""
    _require_reader(api_user())
    row = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id,
                                                            ProcessDefinition.version == version))
    if row is None:
        raise ApiProblem(404, "not-found", "Versionen finns inte.")
    return Response(row.bpmn_xml, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{row.process_id}-v{row.version}.bpmn"'})


@bp.post("/definitions")
@bp.arguments(DeployFormSchema, location="query")
@bp.arguments(DeployFilesSchema, location="files")
@bp.response(201, DeployResultSchema)
@bp.alt_response(200, schema=DeployResultSchema, success=True, description="Samma innehåll som senaste versionen.")
def deploy(form: dict[str, Any], files: dict[str, Any]) -> Response:
    """Validate and deploy a new version of a process; 422 names the BPMN element at fault."""
    user = require_write()
    if not access.can_manage_definitions(user):
        raise ApiProblem(403, "forbidden", "Bara processägare kan driftsätta processer.")
    upload = files["bpmn"]
    xml = upload.read(MAX_BPMN_BYTES + 1)
    if len(xml) > MAX_BPMN_BYTES:
        raise ValidationFailed("Filen är för stor.", {"bpmn": ["Högst 2 MB."]})
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("Filen är inte UTF-8.", {"bpmn": ["BPMN-filen ska vara UTF-8-kodad XML."]}) from None
    filename = Path(upload.filename or "process.bpmn").name[:300]
    forms_dir = Path(current_app.config["FORMS_DIR"])
    row, is_new = commit_with_retry(lambda: deploy_definition(xml, filename, forms_dir, by=user, comment=form["comment"],
                                                                   process_id=form["process_id"]))
    found = lint.lint_warnings(xml, {path.name for path in forms_dir.glob("*.json")})
    warnings = [{"element_id": w.element_id, "rule": w.rule, "message": w.message} for w in found]
    return json_response({**DefinitionSchema().dump(row), "is_new": is_new, "warnings": warnings}, 201 if is_new else 200)


def _require_reader(user: User) -> None:
    if not (access.can_manage_definitions(user) or access.can_read_everything(user)):
        raise ApiProblem(403, "forbidden", "Bara processägare och granskare kan läsa processdefinitionerna.")
