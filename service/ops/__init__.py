"""Operations: /healthz, /readyz, /metrics, JSON logs with a request id (see docs/operations.md)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints and hooks on ``app``."""
    from service.extensions import csrf
    from service.ops import health, logs, metrics, settings

    settings.apply(app)
    logs.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(health.bp)
    csrf.exempt(health.bp)
    csrf.exempt(metrics.bp)
