"""The minimal Swedish web surface: login, my tasks, a task's form, agreements."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from service import access
from service.agreements import operations as agreement_ops
from service.agreements.models import Agreement, AgreementStatus, AgreementVersion
from service.errors import SamverkanError
from service.extensions import db
from service.i18n import flash_message
from service.notifications.operations import count_unread
from service.parties.models import ROLE_LABELS, Role
from service.processes.operations import count_tasks_by_scope
from service.transactions import commit_with_retry

bp = Blueprint("inbox", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/inbox")


@bp.app_template_filter("local")
def local_time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored UTC time in Europe/Stockholm."""
    if value is None:
        return ""
    return str(value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(fmt))


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    if not current_user.is_authenticated:
        return {"task_count": 0, "mine_count": 0, "group_count": 0, "unread_count": 0, "role_labels": ROLE_LABELS,
                "held_roles": set()}
    mine, group = count_tasks_by_scope(current_user)
    return {"task_count": mine + group, "mine_count": mine, "group_count": group,
            "unread_count": count_unread(current_user), "role_labels": ROLE_LABELS,
            "held_roles": {m.role for m in current_user.memberships}}


@bp.app_template_global("can_open")
def can_open(endpoint: str, **values: Any) -> bool:
    """In templates: whether the signed-in person may open ``url_for(endpoint, **values)`` (the view's own rule),
    asked before showing a link or button to it."""
    return current_user.is_authenticated and access.may_open(current_user, endpoint, **values)


@bp.get("/")
def index() -> BaseResponse:
    """Go to the inbox."""
    return redirect(url_for("inbox.my_tasks"))


@bp.get("/favicon.ico")
def favicon() -> BaseResponse:
    """Serve the icon browsers ask for at /favicon.ico (pages link the SVG one)."""
    return bp.send_static_file("favicon.ico")


@bp.route("/logga-in", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    """Log in with a local account (wrong passwords are throttled, see service/auth/throttle.py)."""
    from flask_babel import gettext

    from service.auth import oidc
    from service.auth.models import LoginOutcome
    from service.auth.operations import reserve_login
    from service.auth.redirects import safe_next
    from service.auth.sessions import start_session
    from service.auth.sso import attempt_password_login, refuse_password_login

    if request.method == "GET":
        return render_template("inbox/login.html", sso=oidc.is_enabled())
    username, address = request.form.get("username", "").strip(), request.remote_addr or "okänd"
    if not oidc.is_local_login_allowed(username):  # local login off: only the break-glass accounts (issue #21)
        commit_with_retry(lambda: refuse_password_login(username, address))
        error = gettext("Inloggning med lösenord är avstängd. Logga in via din organisations identitetsleverantör.")
        return render_template("inbox/login.html", error=error, username=username), 403
    # Two transactions: the attempt is counted (and committed) before the password is checked, so parallel
    # guesses cannot all pass a count that none of them has moved yet.
    throttle = commit_with_retry(lambda: reserve_login(username, address))
    result = commit_with_retry(lambda: attempt_password_login(username, request.form.get("password", ""), address,
                                                              throttle))
    if result.outcome == LoginOutcome.THROTTLED:
        minutes = max(1, -(-result.retry_after_seconds // 60))
        error = gettext("För många felaktiga inloggningsförsök. Försök igen om %(minutes)s minuter.", minutes=minutes)
        page = render_template("inbox/login.html", error=error, username=username, sso=oidc.is_enabled())
        return page, 429, {"Retry-After": str(result.retry_after_seconds)}  # type: ignore[return-value]
    if result.user is None:
        error = gettext("Fel användarnamn eller lösenord.")
        return render_template("inbox/login.html", error=error, username=username, sso=oidc.is_enabled()), 401
    start_session(result.user, result.session_token)
    return redirect(safe_next(request.args.get("next")))


@bp.post("/logga-ut")
@login_required
def logout() -> BaseResponse:
    """Log out."""
    from flask_babel import gettext

    from service.auth.operations import record_logout
    from service.auth.sessions import current_token, end_session
    from service.auth.sso_views import PROVIDER_KEY, provider_logout_url

    commit_with_retry(lambda: record_logout(current_user, current_token()))
    provider_logout = provider_logout_url(session.get(PROVIDER_KEY))  # signed in with SSO: the provider's logout too
    end_session()
    flash(gettext("Du är utloggad."))
    return redirect(provider_logout or url_for("inbox.login"))


@bp.route("/avtal/nytt", methods=["GET", "POST"])
@login_required
def new_agreement() -> BaseResponse | tuple[str, int] | str:
    """Start drafting a new agreement as its coordinator."""
    organisations = [m.organisation for m in current_user.memberships if m.role == Role.CASE_OFFICER]
    if not organisations:
        abort(403)  # only a case officer coordinates an agreement
    if request.method == "GET":
        return render_template("inbox/new_agreement.html", organisations=organisations)
    title = request.form.get("title", "").strip()
    organisation = next((o for o in organisations if str(o.id) == request.form.get("organisation_id")), None)
    errors = {}
    if len(title) < 3:
        errors["title"] = _("Ange ett namn på minst tre tecken.")
    if organisation is None:
        errors["organisation_id"] = _("Välj en organisation där du är handläggare.")
    if errors or organisation is None:
        return render_template("inbox/new_agreement.html", organisations=organisations, errors=errors, title=title), 422
    try:
        agreement = commit_with_retry(lambda: agreement_ops.start_drafting(
            by=current_user, organisation=organisation, title=title))
    except SamverkanError as exc:
        return render_template("inbox/new_agreement.html", organisations=organisations,
                               errors={"": exc.message}, title=title), exc.status
    flash_message("Avtalet är skapat. Uppgiften att ta fram förslaget ligger i din inkorg.")
    return redirect(url_for("inbox.agreement_page", agreement_id=agreement.id))


@bp.route("/avtal/<int:agreement_id>/andring", methods=["GET", "POST"])
@login_required
def propose_amendment(agreement_id: int) -> BaseResponse | tuple[str, int] | str:
    """Propose an amendment: a new version every party adopts again."""
    agreement = _visible_agreement(agreement_id)
    if not any(current_user.has_role(p.organisation_id, Role.CASE_OFFICER) for p in agreement.parties):
        abort(403)  # a party's case officer proposes amendments
    if request.method == "GET":
        return render_template("inbox/amend.html", agreement=agreement)
    motivation = request.form.get("motivation", "").strip()
    if not motivation:
        return render_template("inbox/amend.html", agreement=agreement, error=_("Motivera ändringen.")), 422
    try:
        commit_with_retry(lambda: agreement_ops.propose_amendment(agreement, motivation, by=current_user))
    except SamverkanError as exc:
        db.session.expire_all()
        return render_template("inbox/amend.html", agreement=agreement, error=exc.message), exc.status
    flash_message("Ändringsförslaget är skapat. Uppgiften att skriva ändringen ligger i din inkorg.")
    return redirect(url_for("inbox.agreement_page", agreement_id=agreement_id))


def _visible_agreement(agreement_id: int) -> Agreement:
    agreement = db.get_or_404(Agreement, agreement_id)
    if not agreement_ops.can_view(current_user, agreement):
        abort(404)  # not 403: do not reveal that the agreement exists
    return agreement


def _version_arg(agreement: Agreement, name: str) -> AgreementVersion | None:
    number = request.args.get(name, type=int)
    if number is None:
        return None
    found = next((v for v in agreement.versions if v.number == number), None)
    if found is None:
        abort(404)
    return found


def _can_amend(agreement: Agreement) -> bool:
    return agreement.status == AgreementStatus.ACTIVE and any(
        current_user.has_role(p.organisation_id, Role.CASE_OFFICER) for p in agreement.parties)


# The routes of the task lists, task pages, case pages and settings register on ``bp`` when imported.
from service.inbox import accessibility_views, case_views, error_pages, settings_views, task_views  # noqa: E402,F401
