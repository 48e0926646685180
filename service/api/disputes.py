"""Disputes: open one (a party's manager), list and read them. Each level's outcome goes through its task."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from marshmallow import fields, validate
from sqlalchemy import select

from service import access
from service.api.auth import api_user, require_write
from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.paging import PageArgs, id_field, json_response, page_response, page_schema, paginate, query_id_field, sort_field
from service.disputes.models import Dispute, DisputeLevel, DisputeStatus
from service.disputes.operations import NewDispute, open_dispute
from service.disputes.queries import list_disputes_for
from service.extensions import db
from service.parties.models import User
from service.transactions import commit_with_retry

bp = resource("disputes", "Tvister om ansvarsfördelning: öppna och läs.")


class DisputePartySchema(ma.Schema):
    organisation_id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    is_opener = fields.Boolean(required=True)


class DisputeStepSchema(ma.Schema):
    level = fields.String(required=True)
    kind = fields.String(required=True)
    outcome = fields.String(required=True)
    text = fields.String(required=True)
    is_by_timer = fields.Boolean(required=True)
    organisation_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class DisputeSchema(ma.Schema):
    id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    agreement_id = fields.Integer(required=True)
    opening_organisation_id = fields.Integer(required=True)
    opened_at = fields.AwareDateTime(required=True)
    question = fields.String(required=True)
    background = fields.String(required=True)
    deviation_id = fields.Integer(allow_none=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in DisputeStatus]})
    level = fields.String(required=True, metadata={"enum": [s.value for s in DisputeLevel]})
    level_due_at = fields.AwareDateTime(required=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    decision = fields.String(required=True)
    instance_id = fields.Integer(allow_none=True)
    parties = fields.List(fields.Nested(DisputePartySchema), required=True)
    steps = fields.List(fields.Nested(DisputeStepSchema), required=True)


class NewDisputeSchema(ma.Schema):
    agreement_id = id_field(required=True)
    opening_organisation_id = id_field(required=True, metadata={"description": "Din part (du är chef där)."})
    other_organisation_ids = fields.List(id_field(), required=True, validate=validate.Length(min=1, max=50))
    question = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    background = fields.String(load_default="", validate=validate.Length(max=8000))


class DisputeListArgs(PageArgs):
    sort = sort_field(("opened_at", "level_due_at", "id"), "-opened_at")
    status = fields.String(validate=validate.OneOf([s.value for s in DisputeStatus]))
    level = fields.String(validate=validate.OneOf([s.value for s in DisputeLevel]))
    agreement_id = query_id_field()


@bp.get("/disputes")
@bp.arguments(DisputeListArgs, location="query")
@bp.response(200, page_schema(DisputeSchema, "DisputePage"))
def list_disputes(args: dict[str, Any]) -> Response:
    """List the disputes my organisations are involved in (auditors: all)."""
    found = _visible(api_user())
    for name in ("status", "level", "agreement_id"):
        if name in args:
            found = [d for d in found if getattr(d, name) == args[name]]
    keys = {"opened_at": lambda d: d.opened_at, "level_due_at": lambda d: d.level_due_at, "id": lambda d: d.id}
    return page_response(paginate(found, args, keys), DisputeSchema)


def _visible(user: User) -> list[Dispute]:
    if access.can_read_everything(user):
        return list(db.session.scalars(select(Dispute).order_by(Dispute.opened_at.desc()).limit(1000)))
    return list_disputes_for(user)


@bp.get("/disputes/<int(max=2147483647):dispute_id>")
@bp.response(200, DisputeSchema)
def get_dispute(dispute_id: int) -> Response:
    """Read a dispute: the question, the parties' case numbers and every step up the ladder."""
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or not access.can_view_dispute(api_user(), dispute):
        raise ApiProblem(404, "not-found", "Tvisten finns inte.")
    return json_response(DisputeSchema().dump(dispute))


@bp.post("/disputes")
@bp.arguments(NewDisputeSchema)
@bp.response(201, DisputeSchema)
def new_dispute(fields: dict[str, Any]) -> Response:
    """Open a dispute between parties of an agreement, as the opening party's manager."""
    user = require_write()
    new = NewDispute(**fields)
    dispute = commit_with_retry(lambda: open_dispute(new, by=user))
    return json_response(DisputeSchema().dump(dispute), 201, {"Location": f"/api/v1/disputes/{dispute.id}"})
