"""The API object (flask-smorest, OpenAPI 3.1) and the blueprint every resource module builds on."""

from __future__ import annotations

import http
from typing import Any

from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from service.api.access_logging import log_case_reads
from service.api.auth import authenticate, forget_token_user
from service.api.errors import MEDIA_TYPE, register_handlers
from service.api.schemas import ProblemSchema

PREFIX = "/api/v1"


class ScopedApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, but its errors are our problem documents on the API's routes only."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        # flask-smorest would answer every HTTP error of the whole app (the web pages too) in JSON.
        return None

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Fel som application/problem+json (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def resource(name: str, description: str) -> Blueprint:
    """A blueprint of /api/v1 routes: token authentication first, problem documents for every error, reads of
    case content in the access log."""
    blueprint = Blueprint(f"api_{name}", __name__, url_prefix=PREFIX, description=description)
    blueprint.before_request(authenticate)
    blueprint.after_request(forget_token_user)
    blueprint.after_request(log_case_reads)  # reads of case content in the access log, as on the web
    register_handlers(blueprint)
    return blueprint
