"""The REST API /api/v1: flask-smorest resources documented in OpenAPI 3.1, tokens, and their web pages."""

from __future__ import annotations

from flask import Flask

API_CONFIG = {
    "API_TITLE": "Samverkan API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {"description": "Avtal, avvikelser, tvister och uppgifter för parternas egna system. "
                                "Autentisering: Authorization: Bearer <API-nyckel> (skapas under /konto/api-nycklar). "
                                "Fel: application/problem+json (RFC 9457)."},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    },
}


def init_app(app: Flask) -> None:
    """Register this package's blueprints and hooks on ``app``."""
    from service.api import agreements, definitions, deviations, disputes, history, instances, organisations, pages, tasks
    from service.api.base import ScopedApi
    from service.extensions import csrf

    for name, value in API_CONFIG.items():
        app.config.setdefault(name, value)
    api = ScopedApi(app)
    app.extensions["samverkan_api"] = api
    from service.api import follow_ups

    for module in (organisations, agreements, tasks, instances, deviations, disputes, definitions, history, follow_ups):
        csrf.exempt(module.bp)  # token-authenticated; the session cookie is never accepted for writes
        api.register_blueprint(module.bp)
    from service.api import bodies

    csrf.exempt(bodies.bp)
    api.register_blueprint(bodies.bp)  # issue #20: joint bodies, read-only
    csrf.exempt(pages.api_fallback)
    app.register_blueprint(pages.api_fallback)
    app.register_blueprint(pages.bp)
    from service.api import commands

    commands.register(app)
