"""modeller: process owners' BPMN modeller, versions, forms, heat map and migration pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints and hooks on ``app``."""
    from service.modeller import decision_views, test_views  # noqa: F401 (their routes join the blueprint)
    from service.modeller.views import bp

    app.register_blueprint(bp)
