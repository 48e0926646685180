"""Agreements and their versions: read, start drafting, propose an amendment (If-Match required)."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask import Response
from marshmallow import fields, validate
from sqlalchemy import select

from service import access
from service.agreements.appeals import Judgment, laga_kraft_on
from service.agreements.models import Agreement, AgreementStatus, AgreementVersion, VersionStatus
from service.agreements.operations import list_agreements_for, propose_amendment, start_drafting
from service.agreements.tracker import STAGE_LABELS, adoption_progress
from service.api.auth import api_user, require_write
from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.etags import check_if_match, etag_of
from service.api.paging import PageArgs, id_field, json_response, page_response, page_schema, paginate, sort_field
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import Organisation, User
from service.transactions import commit_with_retry

bp = resource("agreements", "Avtal och deras versioner.")
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}


class PartySchema(ma.Schema):
    organisation_id = fields.Integer(required=True)
    name = fields.Function(lambda p: p.organisation.name, required=True, metadata={"type": "string"})
    diarienummer = fields.String(required=True)
    # Uppsägning: the last day the party is bound, once it has decided to leave; has_left after that day.
    bound_until = fields.Function(lambda p: p.leaving.bound_until.isoformat() if p.leaving else None, allow_none=True,
                                  metadata={"type": "string", "format": "date"})
    has_left = fields.Boolean(required=True)


class AppealSchema(ma.Schema):
    court = fields.String(required=True, metadata={"description": "Överklagat till, t.ex. Förvaltningsrätten i Göteborg."})
    case_number = fields.String(required=True, metadata={"description": "Målnummer hos förvaltningsrätten."})
    lodged_on = fields.Date(required=True)
    judgment = fields.String(allow_none=True, metadata={"enum": [j.value for j in Judgment]})
    judgment_final_on = fields.Date(allow_none=True)


class PartyProgressSchema(ma.Schema):
    """The adoption tracker: one party's route, stage, last appeal day and laga-kraft date."""

    organisation_id = fields.Integer(required=True)
    name = fields.String(required=True)
    route = fields.String(required=True)
    route_label = fields.String(required=True)
    stage = fields.String(required=True, metadata={"enum": list(STAGE_LABELS)})
    stage_label = fields.String(required=True)
    decided_on = fields.Date(allow_none=True)
    posted_on = fields.Date(allow_none=True)
    last_appeal_day = fields.Date(allow_none=True, metadata={"description": "Sista dag för överklagande."})
    laga_kraft_on = fields.Date(allow_none=True,
                                metadata={"description": "Dagen beslutet vann laga kraft (eller gäller för parten)."})
    appeals = fields.List(fields.Nested(AppealSchema), required=True)


class AdoptionSchema(ma.Schema):
    version = fields.Integer(required=True)
    parties = fields.List(fields.Nested(PartyProgressSchema), required=True)


def _adoption(agreement: Agreement) -> dict[str, Any] | None:
    version = agreement.latest_version
    if version is None:
        return None
    return dict(AdoptionSchema().dump({"version": version.number,
                                       "parties": [row.as_dict() for row in adoption_progress(version)]}))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


class DecisionSchema(ma.Schema):
    organisation_id = fields.Integer(required=True)
    body_id = fields.Integer(required=True)
    adoption_round = fields.Integer(required=True)
    outcome = fields.String(required=True)
    stage = fields.String(required=True)
    decided_on = fields.Date(required=True)
    paragraph = fields.String(required=True)
    diarienummer = fields.String(required=True)
    final_at = fields.AwareDateTime(allow_none=True)
    last_appeal_day = fields.Date(allow_none=True, metadata={"description": "Sista dag för överklagande."})
    laga_kraft_on = fields.Function(lambda d: _iso(laga_kraft_on(d)), allow_none=True,
                                    metadata={"type": "string", "format": "date"})
    appeals = fields.List(fields.Nested(AppealSchema), required=True)


class VersionSummarySchema(ma.Schema):
    number = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in VersionStatus]})
    title = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    adopted_at = fields.AwareDateTime(allow_none=True)


class VersionSchema(VersionSummarySchema):
    sections = fields.Dict(required=True, metadata={"description": "Checklistans avsnitt: {nyckel: {text, responsible, due}}."})
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    motivation = fields.String(required=True)
    adoption_round = fields.Integer(required=True)
    instance_id = fields.Integer(allow_none=True)
    decisions = fields.List(fields.Nested(DecisionSchema), required=True)


class AgreementSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in AgreementStatus]})
    status_label = fields.String(required=True, metadata={"description": "T.ex. 'Antaget, gäller från 2027-07-01'."})
    coordinator_organisation_id = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    activated_at = fields.AwareDateTime(allow_none=True)
    current_version = fields.Function(lambda a: a.current_version.number if a.current_version else None,
                                      allow_none=True, metadata={"type": "integer"})  # allow_none adds "null"
    parties = fields.List(fields.Nested(PartySchema), required=True)
    versions = fields.List(fields.Nested(VersionSummarySchema), required=True)
    appeal_note = fields.String(required=True, metadata={"description": "Överklagade eller upphävda beslut, om några."})
    adoption = fields.Function(_adoption, allow_none=True, metadata={
        "description": "Spårningen av den senaste versionens antagande per part.",
        "type": "object"})


class AgreementListArgs(PageArgs):
    sort = sort_field(("title", "created_at", "id"), "-created_at")
    status = fields.String(validate=validate.OneOf([s.value for s in AgreementStatus]))


class NewAgreementSchema(ma.Schema):
    organisation_id = id_field(required=True, metadata={"description": "Samordnande organisation (du är handläggare där)."})
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))


class NewAmendmentSchema(ma.Schema):
    motivation = fields.String(required=True, validate=validate.Length(min=1, max=8000))


@bp.get("/agreements")
@bp.arguments(AgreementListArgs, location="query")
@bp.response(200, page_schema(AgreementSchema, "AgreementPage"))
def list_agreements(args: dict[str, Any]) -> Response:
    """List the agreements my organisations coordinate or are parties to (auditors: all)."""
    found = visible_agreements(api_user())
    if "status" in args:
        found = [a for a in found if a.status == args["status"]]
    keys = {"title": lambda a: a.title, "created_at": lambda a: a.created_at, "id": lambda a: a.id}
    return page_response(paginate(found, args, keys), AgreementSchema)


def visible_agreements(user: User) -> list[Agreement]:
    if access.can_read_everything(user):
        return list(db.session.scalars(select(Agreement)))
    return list_agreements_for(user)


@bp.post("/agreements")
@bp.arguments(NewAgreementSchema)
@bp.response(201, AgreementSchema)
def new_agreement(fields: dict[str, Any]) -> Response:
    """Start drafting a new agreement, coordinated by my organisation."""
    user = require_write()
    organisation = db.session.get(Organisation, fields["organisation_id"])
    if organisation is None:
        raise ValidationFailed("Uppgifterna är ogiltiga. Inget har sparats.", {"organisation_id": ["Okänd organisation."]})
    agreement = commit_with_retry(lambda: start_drafting(by=user, organisation=organisation, title=fields["title"]))
    return json_response(AgreementSchema().dump(agreement), 201,
                         {"ETag": agreement_etag(agreement), "Location": f"/api/v1/agreements/{agreement.id}"})


@bp.get("/agreements/<int(max=2147483647):agreement_id>")
@bp.response(200, AgreementSchema)
def get_agreement(agreement_id: int) -> Response:
    """Read an agreement: status, parties and its versions."""
    agreement = visible_agreement(api_user(), agreement_id)
    return json_response(AgreementSchema().dump(agreement), headers={"ETag": agreement_etag(agreement)})


@bp.get("/agreements/<int(max=2147483647):agreement_id>/versions/<int(max=2147483647):number>")
@bp.response(200, VersionSchema)
def get_version(agreement_id: int, number: int) -> Response:
    """Read one version's text (sections with ansvar and tid) and its decisions."""
    agreement = visible_agreement(api_user(), agreement_id)
    version = next((v for v in agreement.versions if v.number == number), None)
    if version is None:
        raise ApiProblem(404, "not-found", "Versionen finns inte.")
    return json_response(VersionSchema().dump(version))


@bp.post("/agreements/<int(max=2147483647):agreement_id>/amendments")
@bp.arguments(NewAmendmentSchema)
@bp.response(201, VersionSchema)
@bp.doc(parameters=[IF_MATCH])
def new_amendment(fields: dict[str, Any], agreement_id: int) -> Response:
    """Propose an amendment of an agreement in force (If-Match: the agreement's ETag)."""
    user = require_write()
    agreement = visible_agreement(user, agreement_id)
    check_if_match(agreement_etag(agreement), required=True)
    version: AgreementVersion = commit_with_retry(lambda: propose_amendment(agreement, fields["motivation"], by=user))
    return json_response(VersionSchema().dump(version), 201, {"ETag": agreement_etag(agreement)})


def visible_agreement(user: User, agreement_id: int) -> Agreement:
    """The agreement if ``user`` may see it; 404 otherwise (not 403: do not reveal that it exists)."""
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or not access.can_view_agreement(user, agreement):
        raise ApiProblem(404, "not-found", "Avtalet finns inte.")
    return agreement


def agreement_etag(agreement: Agreement) -> str:
    return etag_of("agreement", agreement.id, agreement.status, agreement.current_version_id, len(agreement.versions))
