"""auth: see init_app."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints and hooks on ``app``."""
