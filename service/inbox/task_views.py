"""The task lists (Mina uppgifter, Gruppens uppgifter), a task's page with its form, claiming, comments."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service import access
from service.agreements.checklist import SECTIONS
from service.agreements.queries import consultation_table
from service.agreements.recommendations import member_parties, recommendations_for
from service.auth.redirects import safe_next
from service.deviations.context import task_context as deviation_context
from service.disputes.context import task_context as dispute_context
from service.engine.forms import CONTROL
from service.errors import Conflict, InvalidTransition, NotPermitted, SamverkanError, ValidationFailed
from service.extensions import db
from service.i18n import flash_message
from service.inbox import queries
from service.inbox.attachments import file_fields, get_attachments, store_uploads
from service.inbox.form_render import build_fields, parse_submission
from service.inbox.models import Attachment, CaseComment
from service.inbox.views import bp
from service.parties.models import Membership, Organisation, Role, User
from service.processes import claims
from service.processes.definitions import form_schema
from service.processes.models import HumanTask
from service.processes.operations import complete_task, count_tasks_by_scope, form_values, save_task_draft
from service.security.headers import inert_type
from service.security.personal_data import refused_in_form
from service.transactions import commit_with_retry


@bp.get("/uppgifter")
@login_required
def my_tasks() -> str:
    """List my tasks (named to or claimed by me) or my groups' unclaimed tasks, filtered, sorted and paged."""
    args = request.args.to_dict()
    if "lista" not in args:  # the landing page (after login, after a completed task) opens the list with work in it
        mine, group = count_tasks_by_scope(current_user)
        args["lista"] = "grupp" if mine == 0 and group > 0 else "mina"
    filters = queries.InboxFilters.from_args(args)
    page = queries.list_inbox(current_user, filters)
    template = "inbox/_task_update.html" if request.headers.get("HX-Request") else "inbox/tasks.html"
    return render_template(template, filters=filters, page=page, choices=queries.filter_choices(current_user),
                           saved_filters=queries.list_saved_filters(current_user),
                           groups=queries.group_choices(current_user))


@bp.route("/uppgifter/<int:task_id>", methods=["GET", "POST"])
@login_required
@refused_in_form
def task_page(task_id: int) -> BaseResponse | tuple[str, int] | str:
    """Show a task with its form; save it as a draft, or complete it when the form is valid."""
    task = db.get_or_404(HumanTask, task_id)
    if not (access.can_view_task(current_user, task) or access.holds_task_group(current_user, task)):
        abort(403)
    schema = form_schema(task.instance.definition, task.form)
    if request.method == "GET":
        return _render_task(task, schema, form_values(task) if task.is_ready else {}, {})
    if not access.can_work_on(current_user, task):
        abort(403)
    values = parse_submission(schema, request.form)
    if request.form.get(CONTROL) == "save":
        return _save_draft(task, schema, values)
    try:
        commit_with_retry(lambda: complete_task(
            task_id, store_uploads(task, schema, request.files, dict(values), by=current_user), by=current_user))
    except ValidationFailed as exc:
        db.session.expire_all()
        return _render_task(task, schema, values, exc.fields, exc.message), 422
    except (Conflict, InvalidTransition) as exc:  # InvalidTransition: e.g. a joint body's decision (disputes/meetings.py)
        db.session.expire_all()
        return _render_task(task, schema, values, {}, exc.message), 409
    except NotPermitted:
        abort(403)
    flash_message("Uppgiften ”%(name)s” är klar.", name=task.name)
    return redirect(url_for("inbox.my_tasks"))


def _save_draft(task: HumanTask, schema: dict[str, Any], values: dict[str, Any]) -> BaseResponse | tuple[str, int]:
    try:
        commit_with_retry(lambda: save_task_draft(
            task.id, store_uploads(task, schema, request.files, dict(values), by=current_user), by=current_user))
    except SamverkanError as exc:
        db.session.expire_all()
        return _render_task(task, schema, values, getattr(exc, "fields", {}), exc.message), exc.status
    flash(_("Utkastet är sparat. Du kan fortsätta senare; uppgiften ligger kvar i din inkorg."))
    return redirect(url_for("inbox.task_page", task_id=task.id))


def _render_task(task: HumanTask, schema: dict[str, Any], values: dict[str, Any],
                 errors: dict[str, list[str]], message: str = "") -> str:
    fields = build_fields(schema, values, errors, _options(task))
    version = getattr(task.instance, "agreement_version", None)
    table = consultation_table(version) if version is not None and task.bpmn_id == "revise" else None
    # A member's tasks of its own adoption (the proposal's arrival, the decision) show what its förbund
    # recommended; a förbund's task shows whom it recommends to.
    advice = recommendations_for(version, task.organisation_id) if version and task.organisation_id \
        and task.bpmn_id not in _NOT_PARTY_ADOPTION else []
    addressees = member_parties(version, task.organisation_id) if version and task.bpmn_id == "recommend" \
        and task.organisation_id else []
    case = queries.case_of(task.instance)
    attachment_ids = [v for k, v in values.items() if k in file_fields(schema) and isinstance(v, int)]
    return render_template("inbox/task.html", task=task, schema=schema, fields=fields, message=message,
                           version=version, sections=SECTIONS, comment_table=table,
                           member_recommendations=advice, recommendation_addressees=addressees,
                           case_context=deviation_context(task) or dispute_context(task), case=case,
                           comments=queries.list_comments(case), attachments=get_attachments(attachment_ids),
                           can_work=access.can_work_on(current_user, task),
                           can_comment=not _read_only(current_user), colleagues=_colleagues(task),
                           acting_for=access.acting_for(current_user, task))


_NOT_PARTY_ADOPTION = ("draft", "revise", "consult", "recommend")


def _options(task: HumanTask) -> dict[str, list[tuple[int, str]]]:
    """Choices the server provides for ``x-options`` fields."""
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    bodies = []
    if task.organisation is not None:
        bodies = [(b.id, b.name) for b in task.organisation.bodies]
    options = {"organisations": [(o.id, o.name) for o in organisations], "party_bodies": bodies}
    if task.form == "agreement-draft.schema.json":  # who may own the follow-up: a party's steering group member
        options["people"] = _follow_up_people()
    return options


def _follow_up_people() -> list[tuple[int, str]]:
    rows = db.session.execute(select(User.id, User.display_name, Organisation.name).select_from(User).join(
        Membership, Membership.user_id == User.id).join(Organisation, Organisation.id == Membership.organisation_id).where(
        Membership.role == Role.STEERING_GROUP_MEMBER, User.is_enabled.is_(True))
        .order_by(User.display_name, Organisation.name)).all()
    return [(user_id, f"{name} ({organisation})") for user_id, name, organisation in rows]


def _colleagues(task: HumanTask) -> list[User]:
    """Who a group task can be handed over to: the other members of its group."""
    if task.user_id is not None or task.organisation_id is None or not task.is_ready:
        return []
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.organisation_id == task.organisation_id, Membership.role == task.role,
        User.id != current_user.id, User.is_enabled.is_(True)).order_by(User.display_name)))


def _read_only(user: User) -> bool:
    """Auditors read everything and change nothing (unless they also hold a working role)."""
    return access.is_read_only(user)


@bp.post("/uppgifter/<int:task_id>/ta")
@login_required
def claim(task_id: int) -> BaseResponse | tuple[str, int]:
    """Take a group task so colleagues see that it is being handled."""
    return _claim_action(task_id, lambda: claims.claim_task(task_id, by=current_user),
                         _("Du har tagit uppgiften. Den ligger nu under Mina uppgifter."))


@bp.post("/uppgifter/<int:task_id>/slapp")
@login_required
def release(task_id: int) -> BaseResponse | tuple[str, int]:
    """Give a claimed task back to the group."""
    return _claim_action(task_id, lambda: claims.release_task(task_id, by=current_user),
                         _("Uppgiften är tillbaka hos gruppen."))


@bp.post("/uppgifter/<int:task_id>/overlamna")
@login_required
def hand_over(task_id: int) -> BaseResponse | tuple[str, int]:
    """Hand a group task over to a colleague in the same group."""
    to = db.session.get(User, queries._int(request.form.get("to_user_id")) or 0)
    return _claim_action(task_id, lambda: claims.hand_over_task(task_id, to, by=current_user),
                         _("Uppgiften är överlämnad till %(name)s.", name=to.display_name if to else ""))


def _claim_action(task_id: int, work: Any, done: str) -> BaseResponse | tuple[str, int]:
    try:
        commit_with_retry(work)
    except SamverkanError as exc:
        db.session.expire_all()
        detail = " ".join(m for messages in getattr(exc, "fields", {}).values() for m in messages)
        return render_template("inbox/error.html", message=exc.message, detail=detail,
                               back=url_for("inbox.task_page", task_id=task_id)), exc.status
    flash(done)
    return redirect(_local_or(request.form.get("next"), url_for("inbox.my_tasks")))


def _local_or(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site (never an open redirect), else ``default``."""
    return safe_next(target, default)


@bp.post("/arenden/<kind>/<int:case_id>/kommentarer")
@login_required
def add_comment(kind: str, case_id: int) -> BaseResponse | tuple[str, int]:
    """Comment on a case; everyone with access to the case reads it."""
    case = queries.get_case(kind, case_id)
    if case is None or not queries.can_view_case(current_user, case):
        abort(404)
    if _read_only(current_user):
        abort(403)
    text = request.form.get("text", "").strip()
    if not text or len(text) > 4000:
        return render_template("inbox/error.html", message=_("Skriv en kommentar (högst 4000 tecken)."),
                               detail=_("Fältet Kommentar."), back=safe_next(request.form.get("next"), "/")), 422

    def work() -> CaseComment:
        comment = CaseComment(case_type=case.kind, case_id=case.id, author_id=current_user.id, text=text)
        db.session.add(comment)
        db.session.flush()
        from service import audit

        audit.record(current_user, "case.commented", comment, case_type=case.kind, case_id=case.id)
        return comment

    commit_with_retry(work)
    flash(_("Kommentaren är sparad."))
    return redirect(_local_or(request.form.get("next"), url_for("inbox.my_tasks")))


@bp.get("/bilagor/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> BaseResponse:
    """Download an attachment of a case you have access to."""
    found = db.get_or_404(Attachment, attachment_id)
    instance = queries.get_case("instance", found.instance_id)
    if instance is None or not (queries.can_view_case(current_user, queries.case_of(instance.subject))
                                or queries.can_view_case(current_user, instance)):
        abort(404)
    from flask import Response

    return Response(found.content, mimetype=inert_type(found.content_type), headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(found.filename)}",
        "X-Content-Type-Options": "nosniff"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
