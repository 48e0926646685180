"""Defences that hold for every request: response headers, the personal-data guard, request limits.

Each module registers its own hooks; this package is registered from the application factory like the others.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every defence's hooks on ``app``."""
    from service.security import headers, limits, personal_data

    for module in (limits, personal_data, headers):
        module.init_app(app)
