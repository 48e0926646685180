"""Mitt konto (password change) and the language switch (single sign-on: service/auth/sso_views.py)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from service.auth.operations import change_password
from service.auth.redirects import safe_next
from service.auth.sessions import start_session
from service.errors import ValidationFailed
from service.i18n import LANGUAGE_COOKIE, SESSION_KEY, languages
from service.transactions import commit_with_retry

bp = Blueprint("auth", __name__, template_folder="templates")
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


@bp.get("/konto")
@login_required
def account() -> str:
    """Show my account: name, organisations and roles, and the password form."""
    return render_template("auth/account.html", errors={})


@bp.post("/konto/losenord")
@login_required
def password() -> BaseResponse | tuple[str, int]:
    """Change my password (the current one, then the new one twice)."""
    form = request.form
    try:
        token = commit_with_retry(lambda: change_password(current_user, form.get("current_password", ""),
                                                          form.get("new_password", ""), form.get("repeat_password", "")))
    except ValidationFailed as exc:
        return render_template("auth/account.html", errors=exc.fields, message=exc.message), 422
    start_session(current_user._get_current_object(), token)
    flash(_("Ditt lösenord är bytt."))
    return redirect(url_for("auth.account"))


@bp.post("/sprak")
def language() -> BaseResponse:
    """Choose the language of the pages (kept in the session and a cookie)."""
    chosen = request.form.get("language", "")
    if chosen not in languages():
        abort(400, description="language")
    session[SESSION_KEY] = chosen
    response = redirect(safe_next(request.form.get("next"), url_for("inbox.index")))
    response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_SECONDS, httponly=True, samesite="Lax",
                        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]) or request.is_secure)
    return response
