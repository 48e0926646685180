"""Every API error as application/problem+json (RFC 9457), naming the field or BPMN element at fault.

The handlers are registered on the API's blueprints only: the web pages keep their Swedish HTML error pages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, json, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from service.errors import BpmnError, SamverkanError, ValidationFailed
from service.extensions import db
from service.i18n import translate
from service.messages import Message
from service.transactions import lost_connection

log = logging.getLogger(__name__)
PROBLEM_TYPE = "urn:samverkan:problem:"
MEDIA_TYPE = "application/problem+json"


class ApiProblem(Exception):
    """A refusal of the API itself (authentication, scope, preconditions, idempotency)."""

    def __init__(self, status: int, kind: str, detail: str, *, fields: Mapping[str, list[str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


# Titles, details and field messages are in the request's language (Accept-Language; see service/i18n.py).
TITLES = {
    400: _l("Felaktig begäran"), 401: _l("Inte inloggad"), 403: _l("Inte behörig"), 404: _l("Finns inte"),
    405: _l("Metoden stöds inte"), 409: _l("Konflikt"), 412: _l("Ärendet har ändrats"), 413: _l("För stor begäran"),
    415: _l("Fel innehållstyp"), 422: _l("Ogiltiga uppgifter"), 428: _l("If-Match saknas"),
    429: _l("För många förfrågningar"), 500: _l("Internt fel"), 503: _l("Tillfälligt otillgänglig"),
}
# marshmallow's own messages as our Swedish message ids (the English catalogue gives them back in English).
MARSHMALLOW = {
    "Not a valid integer.": "Inte ett giltigt heltal.", "Not a valid string.": "Inte en giltig text.",
    "Not a valid date.": "Inte ett giltigt datum.", "Not a valid datetime.": "Inte en giltig tidpunkt.",
    "Not a valid boolean.": "Inte ett giltigt ja/nej-värde.", "Not a valid list.": "Inte en giltig lista.",
    "Not a valid mapping type.": "Inte ett giltigt objekt.", "Unknown field.": "Okänt fält.",
    "Missing data for required field.": "Fältet måste fyllas i.", "Field may not be null.": "Fältet får inte vara null.",
    "Invalid input type.": "Fel typ av indata.",
}
KINDS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
         409: "conflict", 412: "precondition-failed", 413: "too-large", 415: "unsupported-media-type",
         422: "validation", 428: "precondition-required", 500: "internal", 503: "unavailable"}


CODES = (400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 429)


def problem(status: int, kind: str | None = None, detail: str = "", *, fields: Mapping[str, list[str]] | None = None,
            headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    """One problem document; ``fields`` maps a field path to its messages."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE + (kind or KINDS.get(status, "error")),
                            "title": str(TITLES.get(status) or gettext("Fel")), "status": status,
                            "detail": translated(detail), "instance": request.path}
    if fields:
        body["errors"] = [{"field": name, "messages": [translated(m) for m in messages]}
                          for name, messages in fields.items()]
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    response.headers.update(dict(headers or {}))
    return response


def translated(message: str) -> str:
    """A Swedish message (ours, with its values if it is a Message, or marshmallow's) in the request's language,
    if the catalogue has it."""
    if isinstance(message, Message):
        return translate(message)
    message = str(message)
    return gettext(MARSHMALLOW.get(message, message)) if message else message


def register_handlers(blueprint: Blueprint) -> None:
    """JSON problems for everything raised while serving this blueprint's routes."""
    # Flask looks for a handler of the status code everywhere (the web's app-wide 403/404 pages) before a
    # handler of the class: so the codes get their own blueprint handlers.
    for code in CODES:
        blueprint.register_error_handler(code, http_problem)
    blueprint.register_error_handler(ApiProblem, _api_problem)
    blueprint.register_error_handler(SamverkanError, _domain_error)
    blueprint.register_error_handler(HTTPException, http_problem)
    blueprint.register_error_handler(Exception, unexpected_problem)


def _api_problem(error: ApiProblem) -> Response:
    return problem(error.status, error.kind, error.detail, fields=error.fields, headers=error.headers)


def _domain_error(error: SamverkanError) -> Response:
    db.session.rollback()
    if isinstance(error, BpmnError):
        return problem(error.status, "bpmn", error.message, element_id=error.element_id)
    fields = error.fields if isinstance(error, ValidationFailed) else None
    return problem(error.status, None, error.message, fields=fields)


def http_problem(error: HTTPException) -> Response:
    """Werkzeug's errors, and webargs' 422 with the marshmallow messages per field."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    fields = flatten(messages) if messages else None
    # Werkzeug's default description is English: our title says the same in the request's language.
    own = error.description if error.description != type(error).description else None
    detail = data.get("message") or ("Uppgifterna i begäran är ogiltiga." if fields else own) or str(
        TITLES.get(status) or gettext("Fel"))
    return problem(status, None, detail, fields=fields, headers=data.get("headers"))


def unexpected_problem(error: Exception) -> Response:
    """A problem document for an exception nothing else handled (rolled back, logged with its traceback)."""
    if isinstance(error, HTTPException):  # Flask routes HTTPException here only when no closer handler exists
        return http_problem(error)
    db.session.rollback()
    if lost_connection(error):  # a database restart closed the connection: nothing was written
        log.warning("database connection lost in %s %s", request.method, request.path)
        return problem(503, None, "Databasen gick inte att nå. Inget har sparats. Försök igen.",
                       headers={"Retry-After": "1"})
    log.exception("unexpected error in %s %s", request.method, request.path)
    return problem(500, None, "Ett oväntat fel inträffade. Inget har sparats.")


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs' {location: {field: [messages] | {nested...}}} as {"field.nested": [messages]}."""
    if isinstance(messages, list):
        return {prefix or "": [str(m) for m in messages]}
    result: dict[str, list[str]] = {}
    for key, value in (messages or {}).items():
        name = "" if not prefix and key in ("json", "query", "form", "files", "headers", "view_args") else str(key)
        path = ".".join(part for part in (prefix, name) if part)
        result.update(flatten(value, path))
    return result
