"""The minimal Swedish web surface: login, my tasks, a task's form, agreements."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service.agreements import operations as agreement_ops
from service.agreements.checklist import SECTIONS
from service.agreements.models import Agreement, AgreementStatus, AgreementVersion
from service.agreements.queries import consultation_table, diff_versions
from service.deviations.context import task_context as deviation_context
from service.disputes.context import task_context as dispute_context
from service.errors import Conflict, NotPermitted, SamverkanError, ValidationFailed
from service.extensions import db
from service.inbox.form_render import build_fields, parse_submission
from service.notifications.operations import count_unread
from service.parties.models import ROLE_LABELS, Organisation, Role
from service.processes.definitions import form_schema
from service.processes.models import HumanTask
from service.processes.operations import (
    can_work_on,
    complete_task,
    count_tasks_for,
    form_values,
    list_tasks_for,
    save_task_draft,
)
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
        return {"task_count": 0, "unread_count": 0, "role_labels": ROLE_LABELS}
    return {"task_count": count_tasks_for(current_user), "unread_count": count_unread(current_user),
            "role_labels": ROLE_LABELS}


@bp.get("/")
def index() -> BaseResponse:
    """Go to the inbox."""
    return redirect(url_for("inbox.my_tasks"))


@bp.route("/logga-in", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    """Log in with a local account (wrong passwords are throttled, see service/auth/throttle.py)."""
    from flask_babel import gettext

    from service.auth import oidc
    from service.auth.models import LoginOutcome
    from service.auth.operations import attempt_login
    from service.auth.sessions import start_session

    if request.method == "GET":
        return render_template("inbox/login.html", sso=oidc.is_enabled())
    username = request.form.get("username", "").strip()
    result = commit_with_retry(lambda: attempt_login(username, request.form.get("password", ""),
                                                     request.remote_addr or "okänd"))
    if result.outcome == LoginOutcome.THROTTLED:
        minutes = max(1, -(-result.retry_after_seconds // 60))
        error = gettext("För många felaktiga inloggningsförsök. Försök igen om %(minutes)s minuter.", minutes=minutes)
        page = render_template("inbox/login.html", error=error, username=username, sso=oidc.is_enabled())
        return page, 429, {"Retry-After": str(result.retry_after_seconds)}  # type: ignore[return-value]
    if result.user is None:
        error = gettext("Fel användarnamn eller lösenord.")
        return render_template("inbox/login.html", error=error, username=username, sso=oidc.is_enabled()), 401
    start_session(result.user)
    return redirect(_safe_next(request.args.get("next")))


def _safe_next(target: str | None) -> str:
    # Only local paths: an absolute URL here would make the login page an open redirect (browsers read
    # a backslash as a slash, so "/\\evil.example" is refused too).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("inbox.my_tasks")


@bp.post("/logga-ut")
@login_required
def logout() -> BaseResponse:
    """Log out."""
    from flask_babel import gettext

    from service.auth.operations import record_logout
    from service.auth.sessions import end_session

    commit_with_retry(lambda: record_logout(current_user))
    end_session()
    flash(gettext("Du är utloggad."))
    return redirect(url_for("inbox.login"))


@bp.get("/uppgifter")
@login_required
def my_tasks() -> str:
    """List the tasks assigned to me or offered to my groups."""
    return render_template("inbox/tasks.html", tasks=list_tasks_for(current_user))


@bp.route("/uppgifter/<int:task_id>", methods=["GET", "POST"])
@login_required
def task_page(task_id: int) -> BaseResponse | tuple[str, int] | str:
    """Show a task with its form; save it as a draft, or complete it when the form is valid."""
    task = db.get_or_404(HumanTask, task_id)
    if not can_work_on(current_user, task):
        abort(403)
    schema = form_schema(task.instance.definition, task.form)
    if request.method == "GET":
        return _render_task(task, schema, form_values(task) if task.is_ready else {}, {})
    values = parse_submission(schema, request.form)
    if request.form.get("action") == "save":
        return _save_draft(task, schema, values)
    try:
        commit_with_retry(lambda: complete_task(task_id, values, by=current_user))
    except ValidationFailed as exc:
        return _render_task(task, schema, values, exc.fields, exc.message), 422
    except Conflict as exc:
        db.session.expire_all()
        return _render_task(task, schema, values, {}, exc.message), 409
    except NotPermitted:
        abort(403)
    flash(f"Uppgiften ”{task.name}” är klar.")
    return redirect(url_for("inbox.my_tasks"))


def _save_draft(task: HumanTask, schema: dict[str, Any], values: dict[str, Any]) -> BaseResponse | tuple[str, int]:
    try:
        commit_with_retry(lambda: save_task_draft(task.id, values, by=current_user))
    except SamverkanError as exc:
        db.session.expire_all()
        return _render_task(task, schema, values, {}, exc.message), exc.status
    flash("Utkastet är sparat. Du kan fortsätta senare; uppgiften ligger kvar i din inkorg.")
    return redirect(url_for("inbox.task_page", task_id=task.id))


def _render_task(task: HumanTask, schema: dict[str, Any], values: dict[str, Any],
                 errors: dict[str, list[str]], message: str = "") -> str:
    fields = build_fields(schema, values, errors, _options(task))
    version = getattr(task.instance, "agreement_version", None)
    table = consultation_table(version) if version is not None and task.bpmn_id == "revise" else None
    return render_template("inbox/task.html", task=task, schema=schema, fields=fields, message=message,
                           version=version, sections=SECTIONS, comment_table=table,
                           case_context=deviation_context(task) or dispute_context(task))


def _options(task: HumanTask) -> dict[str, list[tuple[int, str]]]:
    """Choices the server provides for ``x-options`` fields."""
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    bodies = []
    if task.organisation is not None:
        bodies = [(b.id, b.name) for b in task.organisation.bodies]
    return {"organisations": [(o.id, o.name) for o in organisations], "party_bodies": bodies}


@bp.route("/avtal/nytt", methods=["GET", "POST"])
@login_required
def new_agreement() -> BaseResponse | tuple[str, int] | str:
    """Start drafting a new agreement as its coordinator."""
    organisations = [m.organisation for m in current_user.memberships if m.role == Role.CASE_OFFICER]
    if request.method == "GET":
        return render_template("inbox/new_agreement.html", organisations=organisations)
    title = request.form.get("title", "").strip()
    organisation = next((o for o in organisations if str(o.id) == request.form.get("organisation_id")), None)
    errors = {}
    if len(title) < 3:
        errors["title"] = "Ange ett namn på minst tre tecken."
    if organisation is None:
        errors["organisation_id"] = "Välj en organisation där du är handläggare."
    if errors or organisation is None:
        return render_template("inbox/new_agreement.html", organisations=organisations, errors=errors, title=title), 422
    try:
        agreement = commit_with_retry(lambda: agreement_ops.start_drafting(
            by=current_user, organisation=organisation, title=title))
    except SamverkanError as exc:
        return render_template("inbox/new_agreement.html", organisations=organisations,
                               errors={"": exc.message}, title=title), exc.status
    flash("Avtalet är skapat. Uppgiften att ta fram förslaget ligger i din inkorg.")
    return redirect(url_for("inbox.agreement_page", agreement_id=agreement.id))


@bp.get("/avtal")
@login_required
def agreements() -> str:
    """List the agreements my organisations take part in."""
    return render_template("inbox/agreements.html", agreements=agreement_ops.list_agreements_for(current_user))


@bp.get("/avtal/<int:agreement_id>")
@login_required
def agreement_page(agreement_id: int) -> str:
    """Show an agreement: a version's sections, parties and decisions, and the version history."""
    agreement = _visible_agreement(agreement_id)
    shown = _version_arg(agreement, "version") or agreement.current_version or agreement.latest_version
    return render_template("inbox/agreement.html", agreement=agreement, version=shown, sections=SECTIONS,
                           can_amend=_can_amend(agreement))


@bp.get("/avtal/<int:agreement_id>/jamfor")
@login_required
def compare_versions(agreement_id: int) -> str:
    """Compare two versions of an agreement section by section."""
    agreement = _visible_agreement(agreement_id)
    if len(agreement.versions) < 2:
        abort(404)
    older = _version_arg(agreement, "fran") or agreement.versions[-2]
    newer = _version_arg(agreement, "till") or agreement.versions[-1]
    return render_template("inbox/compare.html", agreement=agreement, older=older, newer=newer,
                           diffs=diff_versions(older, newer))


@bp.route("/avtal/<int:agreement_id>/andring", methods=["GET", "POST"])
@login_required
def propose_amendment(agreement_id: int) -> BaseResponse | tuple[str, int] | str:
    """Propose an amendment: a new version every party adopts again."""
    agreement = _visible_agreement(agreement_id)
    if request.method == "GET":
        return render_template("inbox/amend.html", agreement=agreement)
    motivation = request.form.get("motivation", "").strip()
    if not motivation:
        return render_template("inbox/amend.html", agreement=agreement, error="Motivera ändringen."), 422
    try:
        commit_with_retry(lambda: agreement_ops.propose_amendment(agreement, motivation, by=current_user))
    except SamverkanError as exc:
        db.session.expire_all()
        return render_template("inbox/amend.html", agreement=agreement, error=exc.message), exc.status
    flash("Ändringsförslaget är skapat. Uppgiften att skriva ändringen ligger i din inkorg.")
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


@bp.app_errorhandler(403)
def forbidden(error: Exception) -> tuple[str, int]:
    return render_template("inbox/error.html", message="Du har inte behörighet till den här sidan."), 403


@bp.app_errorhandler(404)
def not_found(error: Exception) -> tuple[str, int]:
    return render_template("inbox/error.html", message="Sidan finns inte."), 404


