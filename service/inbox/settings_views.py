"""My substitutes during leave, and saved inbox filters (my own, or shared with one of my groups)."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service import access, audit
from service.extensions import db
from service.inbox import queries
from service.inbox.models import SavedFilter, Substitute
from service.inbox.views import bp
from service.parties.models import Membership, User
from service.transactions import commit_with_retry


@bp.route("/franvaro", methods=["GET", "POST"])
@login_required
def substitutes() -> BaseResponse | tuple[str, int] | str:
    """Name a substitute who sees and completes my tasks while I am away."""
    colleagues = _colleagues(current_user)
    if request.method == "GET":
        return render_template("inbox/substitutes.html", **_page(colleagues))
    form = request.form
    substitute = next((c for c in colleagues if str(c.id) == form.get("substitute_id")), None)
    starts_on, ends_on = queries._date(form.get("starts_on")), queries._date(form.get("ends_on"))
    errors = _substitute_errors(substitute, starts_on, ends_on)
    if errors or substitute is None or starts_on is None or ends_on is None:
        return render_template("inbox/substitutes.html", errors=errors, form=form, **_page(colleagues)), 422

    def work() -> Substitute:
        row = Substitute(user_id=current_user.id, substitute_id=substitute.id, starts_on=starts_on, ends_on=ends_on)
        db.session.add(row)
        db.session.flush()
        audit.record(current_user, "substitute.named", row, substitute={"id": substitute.id, "name": substitute.display_name},
                     starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
        return row

    commit_with_retry(work)
    flash(_("%(name)s ersätter dig %(start)s–%(end)s.", name=substitute.display_name, start=starts_on, end=ends_on))
    return redirect(url_for("inbox.substitutes"))


def _substitute_errors(substitute: User | None, starts_on: date | None, ends_on: date | None) -> dict[str, str]:
    errors = {}
    if substitute is None:
        errors["substitute_id"] = _("Välj en kollega i någon av dina organisationer.")
    if starts_on is None:
        errors["starts_on"] = _("Ange ett datum (ÅÅÅÅ-MM-DD).")
    if ends_on is None:
        errors["ends_on"] = _("Ange ett datum (ÅÅÅÅ-MM-DD).")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("Slutdatum kan inte vara före startdatum.")
    return errors


def _page(colleagues: list[User]) -> dict[str, object]:
    mine = db.session.scalars(select(Substitute).where(Substitute.user_id == current_user.id)
                              .order_by(Substitute.starts_on.desc())).all()
    for_others = db.session.scalars(select(Substitute).where(Substitute.substitute_id == current_user.id)
                                    .order_by(Substitute.starts_on.desc())).all()
    return {"colleagues": colleagues, "mine": mine, "for_others": for_others,
            "standing_in": {u.id for u in access.substituting_for(current_user)}}


def _colleagues(user: User) -> list[User]:
    """People in any of the user's organisations (a substitute must be a colleague)."""
    organisation_ids = {m.organisation_id for m in user.memberships}
    return list(db.session.scalars(select(User).where(
        User.id.in_(select(Membership.user_id).where(Membership.organisation_id.in_(organisation_ids))),
        User.id != user.id, User.is_enabled.is_(True)).order_by(User.display_name)))


@bp.post("/franvaro/<int:substitute_id>/ta-bort")
@login_required
def remove_substitute(substitute_id: int) -> BaseResponse:
    """End a substitution I named."""
    row = db.get_or_404(Substitute, substitute_id)
    if row.user_id != current_user.id:
        abort(404)

    def work() -> None:
        audit.record(current_user, "substitute.removed", row, substitute_id=row.substitute_id)
        db.session.delete(row)

    commit_with_retry(work)
    flash(_("Ersättaren är borttagen."))
    return redirect(url_for("inbox.substitutes"))


@bp.post("/uppgifter/filter")
@login_required
def save_filter() -> BaseResponse | tuple[str, int]:
    """Save the current inbox filter under a name, for me or shared with one of my groups."""
    name = request.form.get("name", "").strip()
    filters = queries.InboxFilters.from_args(request.form)
    share = request.form.get("share", "")
    groups = {value for value, _label in queries.group_choices(current_user)}
    if not name or len(name) > 100 or (share and share not in groups):
        field = "name" if not name or len(name) > 100 else "share"
        message = _("Ge filtret ett namn (högst 100 tecken).") if field == "name" else _("Välj en av dina grupper.")
        return render_template("inbox/error.html", message=message, detail=field,
                               back=_inbox_url(filters.args())), 422
    organisation_id, role = (int(share.split(":")[0]), share.split(":", 1)[1]) if share else (None, None)
    commit_with_retry(lambda: db.session.add(SavedFilter(
        owner_id=current_user.id, name=name, query=filters.args(sida=1), shared_organisation_id=organisation_id,
        shared_role=role)))
    flash(_("Filtret ”%(name)s” är sparat.", name=name))
    return redirect(_inbox_url(filters.args()))


@bp.get("/uppgifter/filter/<int:filter_id>")
@login_required
def use_filter(filter_id: int) -> BaseResponse:
    """Open the inbox with a saved filter."""
    row = db.get_or_404(SavedFilter, filter_id)
    if row not in queries.list_saved_filters(current_user):
        abort(404)
    return redirect(_inbox_url(row.query))


@bp.post("/uppgifter/filter/<int:filter_id>/ta-bort")
@login_required
def delete_filter(filter_id: int) -> BaseResponse:
    """Delete a filter I saved."""
    row = db.session.scalar(select(SavedFilter).where(SavedFilter.id == filter_id, SavedFilter.owner_id == current_user.id))
    if row is None:
        abort(404)
    commit_with_retry(lambda: db.session.delete(row))
    flash(_("Filtret är borttaget."))
    return redirect(url_for("inbox.my_tasks"))


def _inbox_url(args: dict[str, str]) -> str:
    return url_for("inbox.my_tasks", **args)  # type: ignore[arg-type]
