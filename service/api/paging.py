"""One way to page, sort and filter every list: ``page``, ``page_size`` (at most 100) and ``sort`` (a field,
``-field`` for descending). Lists come from the domain packages' visibility queries, so nobody sees more here
than on the web pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, json
from marshmallow import fields, validate
from sqlalchemy import Select, func, select

from service.extensions import db

T = TypeVar("T")
MAX_PAGE_SIZE = 100
_OLDEST = datetime.min.replace(tzinfo=UTC)


class PageArgs(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000),
                          metadata={"description": "Sidnummer, från 1."})
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
                               metadata={"description": f"Antal per sida, högst {MAX_PAGE_SIZE}."})


def sort_field(keys: Sequence[str], default: str) -> fields.String:
    """The ``sort`` argument of a list that can be sorted by ``keys``."""
    choices = [*keys, *(f"-{key}" for key in keys)]
    return fields.String(load_default=default, validate=validate.OneOf(choices),
                         metadata={"description": "Sortera på fältet; med minus först i fallande ordning."})


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The envelope of one page of ``item``."""
    return ma.Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "page": fields.Integer(required=True), "page_size": fields.Integer(required=True),
        "total": fields.Integer(required=True),
    }, name=name)


def paginate(items: Sequence[T], args: Mapping[str, Any], keys: Mapping[str, Callable[[T], Any]]) -> dict[str, Any]:
    """Sort ``items`` by ``args['sort']`` (None last) and cut out the requested page."""
    sort = str(args.get("sort") or "")
    descending = sort.startswith("-")
    key = keys.get(sort.lstrip("-"))
    ordered = list(items)
    if key is not None:
        present = [item for item in ordered if key(item) is not None]
        missing = [item for item in ordered if key(item) is None]
        ordered = sorted(present, key=key, reverse=descending) + missing
    page, size = int(args.get("page", 1)), int(args.get("page_size", 20))
    start = (page - 1) * size
    return {"items": ordered[start:start + size], "page": page, "page_size": size, "total": len(ordered)}


def paginate_query(query: Select[Any], args: Mapping[str, Any], columns: Mapping[str, Any],
                   load: Sequence[Any] = ()) -> dict[str, Any]:
    """paginate() in the database, for lists that can be long: a COUNT and one page of rows, sorted by
    ``columns[args['sort']]`` (None last), then by id; ``load``: loader options for the page's rows."""
    sort = str(args.get("sort") or "")
    column = columns.get(sort.lstrip("-"))
    page, size = int(args.get("page", 1)), int(args.get("page_size", 20))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    ordering = [] if column is None else [column.is_(None), column.desc() if sort.startswith("-") else column]
    primary_key = query.column_descriptions[0]["entity"].id
    rows = db.session.scalars(query.order_by(*ordering, primary_key).options(*load)
                              .limit(size).offset((page - 1) * size)).all()
    return {"items": list(rows), "page": page, "page_size": size, "total": int(total or 0)}


def page_response(page: dict[str, Any], item: type[ma.Schema]) -> Response:
    """One page as JSON, its items dumped with ``item``."""
    return json_response({**page, "items": item(many=True).dump(page["items"])})


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response the view has already dumped (flask-smorest passes Response objects through untouched)."""
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers.update(dict(headers or {}))
    return response


MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL; a larger number is a 422, not a database error


def id_field(**kwargs: Any) -> fields.Integer:
    """An id in a JSON body: a positive 32-bit integer, as a JSON number (not "3", not 3.0)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), strict=True, **kwargs)


def query_id_field(**kwargs: Any) -> fields.Integer:
    """An id in the query string, where every value is text: "3" is the id 3 (a strict field refused it)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)
