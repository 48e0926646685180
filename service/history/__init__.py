"""Auditors' pages: a case's history and replay, verification, exports, the access log; read-only auditors."""

from __future__ import annotations

from flask import Flask

from service.history import access_hooks


def init_app(app: Flask) -> None:
    """Register this package's blueprints and hooks on ``app``."""
    from service.audit.commands import register
    from service.cli import audit_group
    from service.history.views import bp

    app.register_blueprint(bp)
    app.before_request(access_hooks.refuse_auditor_writes)
    app.after_request(access_hooks.log_case_reads)
    register(audit_group)  # `samverkan audit replay|anchor|export|package|dispose|…` next to `verify`
