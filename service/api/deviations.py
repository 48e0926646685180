"""Deviations: report one (Idempotency-Key), list and read them. Answers go through the tasks they create."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request
from marshmallow import fields, validate
from sqlalchemy import select

from service import access
from service.api.auth import api_user, require_write
from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.idempotency import run_idempotent
from service.api.paging import PageArgs, id_field, json_response, page_response, page_schema, paginate, query_id_field, sort_field
from service.deviations.form_pages import load_form
from service.deviations.models import Consequence, Deviation, DeviationCategory, DeviationStatus
from service.deviations.operations import FORM_ERROR, report_deviation
from service.deviations.queries import list_deviations_for
from service.engine import forms
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import Organisation, User

bp = resource("deviations", "Avvikelser i samverkan: rapportera och läs; svar ges genom uppgifterna.")
REPORT_FORM = "deviation-report.schema.json"
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 200}}


class ReceiverSchema(ma.Schema):
    organisation_id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    status = fields.String(required=True)
    answer_round = fields.Integer(required=True)
    due_at = fields.AwareDateTime(required=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)
    is_answered_late = fields.Boolean(required=True)
    findings = fields.String(required=True)
    measures = fields.String(required=True)


class DeviationSchema(ma.Schema):
    id = fields.Integer(required=True)
    case_number = fields.String(required=True, metadata={"description": "Ärendets nummer (AV-ÅR-NNNN), samma för alla parter."})
    status = fields.String(required=True, metadata={"enum": [s.value for s in DeviationStatus]})
    reporting_organisation_id = id_field(required=True)
    reporting_unit = fields.String(required=True)
    receiving_unit = fields.String(required=True)
    agreement_id = fields.Integer(allow_none=True)
    event_date = fields.Date(required=True)
    description = fields.String(required=True)
    immediate_action = fields.String(required=True)
    category = fields.String(required=True)
    consequence = fields.String(required=True)
    consequence_description = fields.String(required=True)
    reported_at = fields.AwareDateTime(required=True)
    instance_id = fields.Integer(allow_none=True, metadata={"description": "Ärendet; dess öppna uppgifter i /instances/{id}."})
    final_category = fields.String(allow_none=True)
    root_cause = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    receivers = fields.List(fields.Nested(ReceiverSchema), required=True)


class NewDeviationSchema(ma.Schema):
    """The web form's fields (forms/deviation-report.schema.json); the same JSON Schema validates both."""

    reporting_organisation_id = id_field(required=True)
    reporting_unit = fields.String(required=True, validate=validate.Length(min=2, max=200))
    receiving_organisation_ids = fields.List(id_field(), required=True, validate=validate.Length(min=1, max=50))
    receiving_unit = fields.String(validate=validate.Length(max=200))
    agreement_id = id_field(metadata={"description": "Avtalet som avvikelsen gäller (valfritt)."})
    event_date = fields.Date(required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=8000))
    immediate_action = fields.String(validate=validate.Length(max=4000))
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in DeviationCategory]))
    consequence = fields.String(required=True, validate=validate.OneOf([c.value for c in Consequence]))
    consequence_description = fields.String(validate=validate.Length(max=4000))


class DeviationListArgs(PageArgs):
    sort = sort_field(("reported_at", "event_date", "case_number", "id"), "-reported_at")
    status = fields.String(validate=validate.OneOf([s.value for s in DeviationStatus]))
    category = fields.String(validate=validate.OneOf([c.value for c in DeviationCategory]))
    organisation_id = query_id_field(metadata={"description": "Bara de som den här parten skickat eller tagit emot."})


@bp.get("/deviations")
@bp.arguments(DeviationListArgs, location="query")
@bp.response(200, page_schema(DeviationSchema, "DeviationPage"))
def list_deviations(args: dict[str, Any]) -> Response:
    """List the deviations I may see (as on the web), newest first."""
    found = _visible(api_user(), args.get("organisation_id"))
    for name in ("status", "category"):
        if name in args:
            found = [d for d in found if getattr(d, name) == args[name]]
    keys = {"reported_at": lambda d: d.reported_at, "event_date": lambda d: d.event_date,
            "case_number": lambda d: d.case_number, "id": lambda d: d.id}
    return page_response(paginate(found, args, keys), DeviationSchema)


def _visible(user: User, organisation_id: int | None) -> list[Deviation]:
    if access.can_read_everything(user):
        found = list(db.session.scalars(select(Deviation).order_by(Deviation.reported_at.desc()).limit(1000)))
        return [d for d in found if organisation_id is None or organisation_id in d.organisation_ids()]
    return list_deviations_for(user, organisation_id)


@bp.get("/deviations/<int(max=2147483647):deviation_id>")
@bp.response(200, DeviationSchema)
def get_deviation(deviation_id: int) -> Response:
    """Read a deviation with each receiving party's case number, status and answer."""
    deviation = db.session.get(Deviation, deviation_id)
    if deviation is None or not access.can_view_deviation(api_user(), deviation):
        raise ApiProblem(404, "not-found", "Avvikelsen finns inte.")
    return json_response(DeviationSchema().dump(deviation))


@bp.post("/deviations")
@bp.arguments(NewDeviationSchema)
@bp.response(201, DeviationSchema)
@bp.doc(parameters=[IDEMPOTENCY_KEY])
def new_deviation(fields: dict[str, Any]) -> Response:
    """Report a deviation; it gets the next AV number and is sent to the receiving parties."""
    user = require_write()
    values = _checked(request.get_json(silent=True) or {})

    def action() -> tuple[dict[str, Any], int]:
        return DeviationSchema().dump(report_deviation(values, by=user)), 201

    return run_idempotent(user, action)


def _checked(raw: dict[str, Any]) -> dict[str, Any]:
    """The web form's JSON Schema rules, and receiving parties that exist (else a foreign key would fail)."""
    schema = load_form(REPORT_FORM)
    errors = forms.validate(schema, raw)
    wanted = set(raw.get("receiving_organisation_ids") or [])
    known = set(db.session.scalars(select(Organisation.id).where(Organisation.id.in_(wanted))))
    if wanted - known:
        errors.setdefault("receiving_organisation_ids", []).append("Okänd organisation.")
    if errors:
        raise ValidationFailed(FORM_ERROR, errors)
    return {**forms.defaults(schema), **raw}
