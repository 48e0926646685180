"""Who may read the operational details (/metrics, the details of /readyz): a scraper with the configured
token, or an administrator's session. Anyone else learns only whether the service is up and ready."""

from __future__ import annotations

import hmac

from flask import current_app, request
from flask_login import current_user

from service import access

CHALLENGE = 'Bearer realm="samverkan-metrics"'


def presented_token() -> str | None:
    """The secret of an ``Authorization: Bearer …`` header, or None when there is none."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def has_metrics_token() -> bool:
    """The request carries ``METRICS_TOKEN`` (compared in constant time); never true while none is configured."""
    expected, presented = str(current_app.config.get("METRICS_TOKEN") or ""), presented_token()
    return bool(expected) and presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


def is_admin_session() -> bool:
    return bool(current_user.is_authenticated) and access.is_admin(current_user)


def may_read_operations() -> bool:
    """The metrics token or an administrator's session."""
    return has_metrics_token() or is_admin_session()
