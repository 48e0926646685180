"""History and export for auditors (the hash-chained audit log), and the deviation statistics."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import marshmallow as ma
from flask import Response
from marshmallow import fields, validate
from sqlalchemy import select

from service import access
from service.agreements.models import Agreement
from service.api.auth import api_user
from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.paging import PageArgs, json_response, page_schema, paginate, query_id_field
from service.audit.models import AuditEvent
from service.deviations.queries import can_view_agreement_statistics
from service.deviations.statistics import Scope, deviation_statistics
from service.extensions import db
from service.parties.models import Organisation

bp = resource("history", "Historik och export (granskare) samt statistik.")
CASE_TYPES = ("agreement", "deviation", "dispute")


class EventSchema(ma.Schema):
    seq = fields.Integer(required=True)
    occurred_at = fields.String(required=True)
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(required=True)
    action = fields.String(required=True)
    subject_type = fields.String(required=True)
    subject_id = fields.String(required=True)
    instance_id = fields.Integer(allow_none=True)
    data = fields.Dict(required=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class EventCursorArgs(ma.Schema):
    after_seq = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62),
                               metadata={"description": "Händelser efter detta löpnummer (markör)."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    instance_id = query_id_field()
    action = fields.String(validate=validate.Length(max=64))


class EventCursorPageSchema(ma.Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    next_after_seq = fields.Integer(allow_none=True, required=True,
                                    metadata={"description": "Nästa markör; null när det inte finns fler."})


class CaseEventArgs(PageArgs):
    pass


class StatisticsArgs(ma.Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class RowSchema(ma.Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class StatisticsSchema(ma.Schema):
    title = fields.String(required=True)
    year = fields.Integer(allow_none=True)
    total = fields.Integer(required=True)
    by_category = fields.List(fields.Nested(RowSchema), required=True)
    by_reporting = fields.List(fields.Nested(RowSchema), required=True)
    by_receiving = fields.List(fields.Nested(RowSchema), required=True)
    by_month = fields.List(fields.Nested(RowSchema), required=True)
    by_quarter = fields.List(fields.Nested(RowSchema), required=True)
    answered = fields.Integer(required=True)
    answered_late = fields.Integer(required=True)
    median_answer_days = fields.Float(allow_none=True)
    open_disputes_by_level = fields.List(fields.Nested(RowSchema), required=True)


def _require_auditor() -> None:
    if not access.is_auditor(api_user()):
        raise ApiProblem(403, "forbidden", "Bara granskare kan läsa händelseloggen.")


@bp.get("/audit/events")
@bp.arguments(EventCursorArgs, location="query")
@bp.response(200, EventCursorPageSchema)
def list_events(args: dict[str, Any]) -> Response:
    """Read the audit log in chain order, a page at a time after a cursor (auditors)."""
    _require_auditor()
    query = select(AuditEvent).where(AuditEvent.seq > args["after_seq"])
    if "instance_id" in args:
        query = query.where(AuditEvent.instance_id == args["instance_id"])
    if "action" in args:
        query = query.where(AuditEvent.action == args["action"])
    events = list(db.session.scalars(query.order_by(AuditEvent.seq).limit(args["limit"] + 1)))
    more = len(events) > args["limit"]
    events = events[:args["limit"]]
    return json_response({"items": [_content(e) for e in events],
                          "next_after_seq": events[-1].seq if more else None})


@bp.get("/cases/<string:case_type>/<int(max=2147483647):case_id>/events")
@bp.arguments(CaseEventArgs, location="query")
@bp.response(200, page_schema(EventSchema, "EventPage"))
def case_history(args: dict[str, Any], case_type: str, case_id: int) -> Response:
    """Read every audit event of an agreement, deviation or dispute and its process instances (auditors)."""
    from service.audit.cases import case_events

    case = _case(case_type, case_id)
    page = paginate(case_events(case), args, {})
    return json_response({**page, "items": [_content(e) for e in page["items"]]})


@bp.get("/cases/<string:case_type>/<int(max=2147483647):case_id>/export")
@bp.response(200, description="samverkan-audit-export/1: händelserna med hashkedjans länkar")
def case_export(case_type: str, case_id: int) -> Response:
    """Export a case's history with its hash-chain links, verifiable by bin/verify-audit-export (auditors)."""
    from service.audit.export import export_json

    return json_response(export_json(_case(case_type, case_id)))


def _case(case_type: str, case_id: int) -> Any:
    from service.audit.cases import get_case

    _require_auditor()
    case = get_case(case_type, case_id) if case_type in CASE_TYPES else None
    if case is None:
        raise ApiProblem(404, "not-found", "Ärendet finns inte.")
    return case


def _content(event: AuditEvent) -> dict[str, Any]:
    from service.audit.export import event_content

    return event_content(event)


@bp.get("/statistics/agreements/<int(max=2147483647):agreement_id>")
@bp.arguments(StatisticsArgs, location="query")
@bp.response(200, StatisticsSchema)
def agreement_statistics(args: dict[str, Any], agreement_id: int) -> Response:
    """Deviation and dispute statistics of an agreement (its parties, as on the web)."""
    user = api_user()
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or not (can_view_agreement_statistics(user, agreement) or access.can_read_everything(user)):
        raise ApiProblem(404, "not-found", "Avtalet finns inte.")
    return _statistics(Scope(title=agreement.title, agreement_id=agreement.id, year=args.get("year")))


@bp.get("/statistics/organisations/<int(max=2147483647):organisation_id>")
@bp.arguments(StatisticsArgs, location="query")
@bp.response(200, StatisticsSchema)
def party_statistics(args: dict[str, Any], organisation_id: int) -> Response:
    """Deviation and dispute statistics of a party, sent and received (its members, as on the web)."""
    user = api_user()
    organisation = db.session.get(Organisation, organisation_id)
    member = any(m.organisation_id == organisation_id for m in user.memberships)
    if organisation is None or not (member or access.can_read_everything(user)):
        raise ApiProblem(404, "not-found", "Organisationen finns inte.")
    return _statistics(Scope(title=organisation.name, organisation_id=organisation.id, year=args.get("year")))


def _statistics(scope: Scope) -> Response:
    result = deviation_statistics(scope)
    body = {name: value for name, value in asdict(result).items() if name != "scope"}
    return json_response(StatisticsSchema().dump({**body, "title": scope.title, "year": scope.year}))
