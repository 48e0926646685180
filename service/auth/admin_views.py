"""Admin pages (role admin only): organisations with their bodies, users and their memberships."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service.access import can_administer
from service.errors import ValidationFailed
from service.extensions import db
from service.parties import operations as parties
from service.parties.models import ORGANISATION_KIND_LABELS, ROLE_LABELS, Membership, Organisation, User
from service.parties.queries import list_associations, list_members
from service.transactions import commit_with_retry

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")
F = TypeVar("F", bound=Callable[..., Any])
Page = BaseResponse | str | tuple[str, int]


def admin_required(view: F) -> F:
    """Log in first; then 403 for anyone without the admin role."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not can_administer(current_user):
            abort(403)
        return view(*args, **kwargs)

    return login_required(wrapper)  # type: ignore[return-value]


@bp.get("/")
@admin_required
def index() -> str:
    """List the administration pages."""
    return render_template("auth/admin_index.html")


@bp.route("/organisationer", methods=["GET", "POST"])
@admin_required
def organisations() -> Page:
    """List organisations; add one."""
    if request.method == "GET":
        return _organisations_page({})
    form = request.form
    try:
        organisation = commit_with_retry(lambda: parties.create_organisation(
            form.get("name", ""), form.get("kind", ""), form.get("org_number", ""), by=current_user))
    except ValidationFailed as exc:
        return _organisations_page(exc.fields, exc.message), 422
    flash(_("Organisationen %(name)s är tillagd.", name=organisation.name))
    return redirect(url_for("admin.organisation", organisation_id=organisation.id))


def _organisations_page(errors: dict[str, list[str]], message: str = "") -> str:
    rows = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("auth/admin_organisations.html", organisations=rows, kinds=_kinds(),
                           errors=errors, message=message, form=request.form)


@bp.route("/organisationer/<int:organisation_id>", methods=["GET", "POST"])
@admin_required
def organisation(organisation_id: int) -> Page:
    """Show an organisation with its authorised bodies; change its name, kind or number."""
    found = db.get_or_404(Organisation, organisation_id)
    if request.method == "GET":
        return _organisation_page(found, {})
    form = request.form
    try:
        commit_with_retry(lambda: parties.update_organisation(
            found, form.get("name", ""), form.get("kind", ""), form.get("org_number", ""), by=current_user))
    except ValidationFailed as exc:
        db.session.rollback()
        return _organisation_page(db.get_or_404(Organisation, organisation_id), exc.fields, exc.message), 422
    flash(_("Ändringen är sparad."))
    return redirect(url_for("admin.organisation", organisation_id=organisation_id))


@bp.post("/organisationer/<int:organisation_id>/instanser")
@admin_required
def add_body(organisation_id: int) -> Page:
    """Add an authorised body (behörig instans) to an organisation."""
    found = db.get_or_404(Organisation, organisation_id)
    try:
        commit_with_retry(lambda: parties.add_body(found, request.form.get("body_name", ""), by=current_user))
    except ValidationFailed as exc:
        return _organisation_page(db.get_or_404(Organisation, organisation_id), exc.fields, exc.message), 422
    flash(_("Instansen är tillagd."))
    return redirect(url_for("admin.organisation", organisation_id=organisation_id))


def _kinds() -> list[tuple[str, str]]:
    return [(kind.value, _(label)) for kind, label in ORGANISATION_KIND_LABELS.items()]


def _roles() -> list[tuple[str, str]]:
    return sorted(((role.value, _(label)) for role, label in ROLE_LABELS.items()), key=lambda pair: pair[1])


def _organisation_page(found: Organisation, errors: dict[str, list[str]], message: str = "") -> str:
    return render_template("auth/admin_organisation.html", organisation=found, kinds=_kinds(),
                           errors=errors, message=message, form=request.form if errors else None,
                           associations=list_associations(found.id), members=list_members(found.id))


@bp.route("/anvandare", methods=["GET", "POST"])
@admin_required
def users() -> Page:
    """List users; create a local account."""
    if request.method == "GET":
        return _users_page({})
    try:
        user = commit_with_retry(lambda: parties.create_user(request.form.to_dict(), by=current_user))
    except ValidationFailed as exc:
        return _users_page(exc.fields, exc.message), 422
    flash(_("Kontot %(username)s är skapat. Ge personen en roll nedan.", username=user.username))
    return redirect(url_for("admin.user", user_id=user.id))


def _users_page(errors: dict[str, list[str]], message: str = "") -> str:
    rows = db.session.scalars(select(User).order_by(User.display_name)).all()
    return render_template("auth/admin_users.html", users=rows, errors=errors, message=message, form=request.form)


@bp.get("/anvandare/<int:user_id>")
@admin_required
def user(user_id: int) -> str:
    """Show a user with memberships, and the forms to change them."""
    return _user_page(db.get_or_404(User, user_id), {})


def _user_page(found: User, errors: dict[str, list[str]], message: str = "", new_password: str = "") -> str:
    organisations = [(o.id, o.name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))]
    return render_template("auth/admin_user.html", user=found, organisations=organisations, roles=_roles(),
                           errors=errors, message=message, new_password=new_password)


def _user_action(user_id: int, action: Callable[[User], Any], done: str) -> Page:
    """Run one change on a user in one transaction; the page again with field errors if refused."""
    found = db.get_or_404(User, user_id)
    try:
        commit_with_retry(lambda: action(found))
    except ValidationFailed as exc:
        return _user_page(db.get_or_404(User, user_id), exc.fields, exc.message), 422
    flash(done)
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/anvandare/<int:user_id>/aktiv")
@admin_required
def set_enabled(user_id: int) -> Page:
    """Enable or disable an account."""
    enable = request.form.get("is_enabled") == "1"
    return _user_action(user_id, lambda u: parties.set_user_enabled(u, enable, by=current_user),
                        _("Kontot är aktiverat.") if enable else _("Kontot är avstängt."))


@bp.post("/anvandare/<int:user_id>/losenord")
@admin_required
def reset_password(user_id: int) -> str:
    """Give the account a new random password, shown once on the page."""
    found = db.get_or_404(User, user_id)
    password = commit_with_retry(lambda: parties.reset_password(found, by=current_user))
    return _user_page(found, {}, new_password=password)


@bp.post("/anvandare/<int:user_id>/roller")
@admin_required
def add_membership(user_id: int) -> Page:
    """Give the user a role in an organisation."""
    form = request.form
    return _user_action(user_id, lambda u: parties.add_membership(
        u, form.get("organisation_id", ""), form.get("role", ""), by=current_user), _("Rollen är tillagd."))


@bp.post("/anvandare/<int:user_id>/roller/<int:membership_id>/ta-bort")
@admin_required
def remove_membership(user_id: int, membership_id: int) -> Page:
    """Take a role in an organisation away from the user."""
    membership = db.get_or_404(Membership, membership_id)
    if membership.user_id != user_id:
        abort(404)
    return _user_action(user_id, lambda u: parties.remove_membership(membership, by=current_user), _("Rollen är borttagen."))


@bp.post("/anvandare/<int:user_id>/identitet")
@admin_required
def link_identity(user_id: int) -> Page:
    """Link the account to an identity at the single sign-on provider (issuer and subject)."""
    form = request.form
    return _user_action(user_id, lambda u: parties.link_external_identity(
        u, form.get("external_issuer", ""), form.get("external_subject", ""), by=current_user), _("Kopplingen är sparad."))
