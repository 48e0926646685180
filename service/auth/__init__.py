"""Authentication and administration: throttled password login, Mitt konto, language, admin pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the account and admin pages, and the session cookie that follows HTTPS."""
    from service.auth.admin_views import bp as admin
    from service.auth.cookies import SessionInterface
    from service.auth.sso_views import bp as sso
    from service.auth.views import bp as account

    app.session_interface = SessionInterface()
    app.register_blueprint(account)
    app.register_blueprint(admin)
    app.register_blueprint(sso)
