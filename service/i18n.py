"""Language: Swedish by default, English selectable (owned by the inbox work; filled in there)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Set up Flask-Babel on ``app``."""
