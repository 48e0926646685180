"""Joint bodies (gemensamma organ): members, meetings, attendance and the protocol's decisions, read-only."""

from __future__ import annotations

import marshmallow as ma
from flask import Response
from marshmallow import fields

from service.api.auth import api_user
from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.paging import json_response
from service.bodies.models import BodyKind, JointBody
from service.bodies.queries import can_view_body, list_bodies_for
from service.extensions import db

bp = resource("bodies", "Gemensamma organ (styrgrupp, analysgrupp, länsnivå …), deras möten och beslut.")


class BodyMemberSchema(ma.Schema):
    id = fields.Integer(required=True)
    organisation_id = fields.Integer(required=True, metadata={"description": "Den part ledamoten företräder."})
    user_id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="user.display_name")
    mandate = fields.String(required=True)
    term_from = fields.Date(required=True)
    term_to = fields.Date(allow_none=True)
    is_chair = fields.Boolean(required=True)
    is_secretary = fields.Boolean(required=True)


class AgendaItemSchema(ma.Schema):
    position = fields.Integer(required=True)
    title = fields.String(required=True)
    case_type = fields.String(required=True, metadata={"description": "Tom för en egen punkt, annars t.ex. dispute."})
    case_id = fields.Integer(allow_none=True)


class AttendanceSchema(ma.Schema):
    member_id = fields.Integer(required=True)
    is_present = fields.Boolean(required=True)


class MeetingDecisionSchema(ma.Schema):
    id = fields.Integer(required=True)
    paragraph = fields.Integer(required=True, metadata={"description": "Paragrafen (§) i mötets protokoll."})
    text = fields.String(required=True)
    outcome = fields.String(required=True)
    case_type = fields.String(required=True)
    case_id = fields.Integer(allow_none=True)
    recorded_at = fields.AwareDateTime(required=True)
    is_justerad = fields.Boolean(required=True)


class MeetingSchema(ma.Schema):
    id = fields.Integer(required=True)
    held_on = fields.Date(required=True)
    place = fields.String(required=True)
    justerad_at = fields.AwareDateTime(allow_none=True)
    agenda = fields.List(fields.Nested(AgendaItemSchema), required=True)
    attendances = fields.List(fields.Nested(AttendanceSchema), required=True)
    decisions = fields.List(fields.Nested(MeetingDecisionSchema), required=True)


class JointBodySchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": [k.value for k in BodyKind]})
    description = fields.String(required=True)
    agreement_ids = fields.Function(lambda body: [a.id for a in body.agreements], required=True)
    members = fields.List(fields.Nested(BodyMemberSchema), required=True)


class JointBodyDetailSchema(JointBodySchema):
    meetings = fields.List(fields.Nested(MeetingSchema), required=True)


class JointBodyListSchema(ma.Schema):
    items = fields.List(fields.Nested(JointBodySchema), required=True)


@bp.get("/bodies")
@bp.response(200, JointBodyListSchema)
def list_bodies() -> Response:
    """List the joint bodies of the agreements I take part in, with their members."""
    return json_response({"items": JointBodySchema(many=True).dump(list_bodies_for(api_user()))})


@bp.get("/bodies/<int(max=2147483647):body_id>")
@bp.response(200, JointBodyDetailSchema)
def get_body(body_id: int) -> Response:
    """Read a joint body: members with party, mandate and term, and its meetings with attendance and decisions (§)."""
    body = db.session.get(JointBody, body_id)
    if body is None or not can_view_body(api_user(), body):
        raise ApiProblem(404, "not-found", "Organet finns inte.")
    return json_response(JointBodyDetailSchema().dump(body))
