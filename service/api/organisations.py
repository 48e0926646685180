"""Organisations (huvudmän and others) and their authorised bodies: readable by every API user."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from marshmallow import fields, validate
from sqlalchemy import select

from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.paging import PageArgs, json_response, page_response, page_schema, paginate, sort_field
from service.extensions import db
from service.parties.models import Organisation, OrganisationKind

bp = resource("organisations", "Organisationer och deras behöriga instanser.")


class BodySchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class OrganisationSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": [k.value for k in OrganisationKind]})
    org_number = fields.String(allow_none=True)
    bodies = fields.List(fields.Nested(BodySchema), required=True)


class OrganisationListArgs(PageArgs):
    sort = sort_field(("name", "id"), "name")
    kind = fields.String(validate=validate.OneOf([k.value for k in OrganisationKind]))


@bp.get("/organisations")
@bp.arguments(OrganisationListArgs, location="query")
@bp.response(200, page_schema(OrganisationSchema, "OrganisationPage"))
def list_organisations(args: dict[str, Any]) -> Response:
    """List the organisations, optionally of one kind."""
    query = select(Organisation)
    if "kind" in args:
        query = query.where(Organisation.kind == args["kind"])
    found = list(db.session.scalars(query))
    return page_response(paginate(found, args, {"name": lambda o: o.name, "id": lambda o: o.id}), OrganisationSchema)


@bp.get("/organisations/<int(max=2147483647):organisation_id>")
@bp.response(200, OrganisationSchema)
def get_organisation(organisation_id: int) -> Response:
    """Read an organisation with its authorised bodies."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise ApiProblem(404, "not-found", "Organisationen finns inte.")
    return json_response(OrganisationSchema().dump(organisation))


@bp.get("/organisations/<int(max=2147483647):organisation_id>/bodies")
@bp.response(200, BodySchema(many=True))
def list_bodies(organisation_id: int) -> Response:
    """List an organisation's authorised bodies (behöriga instanser)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise ApiProblem(404, "not-found", "Organisationen finns inte.")
    return json_response(BodySchema(many=True).dump(organisation.bodies))
