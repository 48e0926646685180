"""Web pages of the API: my API keys (create, show the secret once, revoke), the interactive documentation,
and a problem document for any unknown /api/ address (the web's HTML 404 page must not answer there)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from service.api.errors import ApiProblem, register_handlers
from service.api.tokens import MAX_DAYS, create_token, list_tokens, revoke_token
from service.columns import now
from service.errors import NotFound, ValidationFailed
from service.transactions import commit_with_retry

bp = Blueprint("api_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/api")
api_fallback = Blueprint("api_fallback", __name__)
register_handlers(api_fallback)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@api_fallback.route("/api/<path:rest>", methods=ALL_METHODS)
def unknown(rest: str) -> Response:
    """Answer any unknown /api/ address with a problem document."""
    raise ApiProblem(404, "not-found", _("Det finns ingen resurs %(path)s.", path=f"/api/{rest}"))


@bp.get("/api/v1/docs")
def docs() -> str:
    """Show the interactive API documentation (Swagger UI served from our own /vendor)."""
    return render_template("api/docs.html")


@bp.route("/konto/api-nycklar", methods=["GET", "POST"])
@login_required
def tokens() -> str | tuple[str, int]:
    """List my API keys and create a new one (its secret is shown once)."""
    if request.method == "GET":
        return _render({})
    scopes = {"read", "write"} if request.form.get("scope") == "write" else {"read"}
    days = request.form.get("days", type=int) or 0
    try:
        new = commit_with_retry(lambda: create_token(current_user, request.form.get("name", ""), scopes, days))
    except ValidationFailed as exc:
        return _render(exc.fields, exc.message), 422
    return _render({}, secret=new.secret, created=new.token.name)


@bp.post("/konto/api-nycklar/<int(max=2147483647):token_id>/aterkalla")
@login_required
def revoke(token_id: int) -> BaseResponse | tuple[str, int]:
    """Revoke one of my API keys."""
    try:
        token = commit_with_retry(lambda: revoke_token(current_user, token_id))
    except NotFound as exc:
        return _render({}, exc.message), 404
    flash(_("API-nyckeln %(name)s är återkallad.", name=token.name))
    return redirect(url_for("api_pages.tokens"))


def _render(errors: dict[str, list[str]], message: str = "", *, secret: str = "", created: str = "") -> str:
    return render_template("api/tokens.html", tokens=list_tokens(current_user), errors=errors, message=message,
                           secret=secret, created=created, max_days=MAX_DAYS, form=request.form, now=now())
