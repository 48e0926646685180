"""An agreement's follow-ups (uppföljningar): the steering group's periodic follow-up with its figures."""

from __future__ import annotations

import marshmallow as ma
from flask import Response
from marshmallow import fields

from service.api.agreements import visible_agreement
from service.api.auth import api_user
from service.api.base import resource
from service.api.paging import json_response
from service.reports.follow_ups import list_follow_ups

bp = resource("follow_ups", "Avtalens uppföljningar.")


class FollowUpSchema(ma.Schema):
    id = fields.Integer(required=True)
    version_number = fields.Integer(required=True)
    period_start = fields.DateTime(required=True)
    period_end = fields.DateTime(required=True)
    deviations_count = fields.Integer(required=True, metadata={"description": "Avvikelser rapporterade under perioden."})
    disputes_count = fields.Integer(required=True, metadata={"description": "Tvister öppnade under perioden."})
    process_indicators = fields.String(required=True)
    result_indicators = fields.String(required=True)
    user_influence = fields.String(required=True)
    action_plan = fields.String(required=True)
    recorded_by = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)
    amendment_version_id = fields.Integer(allow_none=True)
    meeting_decisions = fields.List(fields.String(), required=True, metadata={
        "description": "Organens beslut om uppföljningen: organ, mötesdatum, § och beslutet."})


class FollowUpListSchema(ma.Schema):
    items = fields.List(fields.Nested(FollowUpSchema), required=True)


@bp.get("/agreements/<int(max=2147483647):agreement_id>/follow-ups")
@bp.response(200, FollowUpListSchema)
def get_follow_ups(agreement_id: int) -> Response:
    """List an agreement's follow-ups, newest first."""
    agreement = visible_agreement(api_user(), agreement_id)
    return json_response(FollowUpListSchema().dump({"items": list_follow_ups(agreement.id)}))
