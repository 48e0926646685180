"""Operations settings: defaults, each overridable by a SAMVERKAN_* variable (like service/config.py)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # How often the scheduler writes its heartbeat, and how old it may be before /readyz says no.
    "SCHEDULER_HEARTBEAT_SECONDS": 5,
    "READY_HEARTBEAT_MAX_AGE_SECONDS": 30,
    # "json": one JSON object per log line (with the request id); "text": Python's default format.
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
}


def apply(app: Flask) -> None:
    """Fill in what neither the caller nor service/config.py set."""
    for key, default in DEFAULTS.items():
        if key not in app.config:
            app.config[key] = os.environ.get(f"SAMVERKAN_{key}", default)
