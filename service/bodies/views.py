"""Pages of joint bodies: the list, a body with its members and meetings, and a meeting with its agenda,
attendance, protocol (§) and justering. The agreement's coordinator (or an admin) sets a body up; its
secretary or chair keeps the minutes; the members named justerar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service import access
from service.agreements.models import Agreement
from service.bodies import operations as ops
from service.bodies import queries
from service.bodies.models import BODY_KIND_LABELS, AgendaItem, BodyMember, JointBody, Meeting
from service.errors import SamverkanError, ValidationFailed
from service.extensions import db
from service.parties.models import Organisation, User
from service.transactions import commit_with_retry

bp = Blueprint("bodies", __name__, template_folder="templates")
FORM_ERROR = ops.FORM_ERROR


# --- who may open what (the rules ride on the views: templates ask can_open) ---------------------------------

def may_create(user: User, **_: Any) -> bool:
    return bool(queries.coordinated_agreements(user)) or access.is_admin(user)


def may_view_body(user: User, body_id: int, **_: Any) -> bool:
    body = db.session.get(JointBody, body_id)
    return body is not None and queries.can_view_body(user, body)


def may_manage(user: User, body_id: int, **_: Any) -> bool:
    body = db.session.get(JointBody, body_id)
    return body is not None and ops.may_manage_body(user, body)


def may_schedule(user: User, body_id: int, **_: Any) -> bool:
    body = db.session.get(JointBody, body_id)
    return body is not None and (ops.may_manage_body(user, body) or queries.keeps_minutes(user, body))


def may_view_meeting(user: User, meeting_id: int, **_: Any) -> bool:
    meeting = db.session.get(Meeting, meeting_id)
    return meeting is not None and queries.can_view_body(user, meeting.body)


def may_keep_minutes(user: User, meeting_id: int, **_: Any) -> bool:
    meeting = db.session.get(Meeting, meeting_id)
    return meeting is not None and ops.may_record_decisions(user, meeting)


def may_justera(user: User, meeting_id: int, **_: Any) -> bool:
    meeting = db.session.get(Meeting, meeting_id)
    return meeting is not None and any(a.member.user_id == user.id for a in meeting.adjusters)


@bp.app_template_global()
def agreement_instructions(agreement_id: int) -> list[Any]:
    """The common instructions written after the agreement's disputes: filed with its routines (agreement page)."""
    from service.disputes.queries import list_instructions

    return list_instructions(agreement_id)


# --- bodies -----------------------------------------------------------------------------------------------

@bp.get("/organ")
@login_required
def bodies() -> str:
    """List the joint bodies of the agreements I take part in."""
    return render_template("bodies/list.html", bodies=queries.list_bodies_for(current_user))


@bp.route("/organ/nytt", methods=["GET", "POST"])
@login_required
@access.opens_if(may_create, refused=403)
def new_body() -> BaseResponse | tuple[str, int] | str:
    """Set up a joint body (styrgrupp, analysgrupp, länsnivå …) for agreements I coordinate."""
    if request.method == "GET":
        return _render_new({}, {})
    try:
        body = commit_with_retry(lambda: ops.create_body(
            request.form.get("name", ""), request.form.get("kind", ""), _chosen_agreements(),
            by=current_user, description=request.form.get("description", "")))
    except ValidationFailed as exc:
        return _render_new(request.form, exc.fields, exc.message), 422
    flash(_("Organet är inrättat. Lägg till ledamöter från varje part."))
    return redirect(url_for("bodies.body_page", body_id=body.id))


def _chosen_agreements() -> list[Agreement]:
    allowed = {a.id: a for a in queries.manageable_agreements(current_user)}
    chosen = [allowed.get(i) for i in request.form.getlist("agreement_ids", type=int)]
    if not chosen or None in chosen:
        raise ValidationFailed(FORM_ERROR, {"agreement_ids": ["Välj minst ett avtal som du samordnar."]})
    return [a for a in chosen if a is not None]


def _render_new(values: Any, errors: dict[str, list[str]], message: str = "") -> str:
    return render_template("bodies/new.html", values=values, errors=errors, message=message, kinds=BODY_KIND_LABELS,
                           agreements=queries.manageable_agreements(current_user),
                           chosen_ids=request.form.getlist("agreement_ids"))


@bp.get("/organ/<int:body_id>")
@login_required
@access.opens_if(may_view_body)
def body_page(body_id: int) -> str:
    """Show a body: the agreements it serves, its members with mandate and term, and its meetings."""
    return _render_body(db.get_or_404(JointBody, body_id), {})


def _render_body(body: JointBody, errors: dict[str, list[str]], message: str = "") -> str:
    return render_template("bodies/body.html", body=body, errors=errors, message=message, kinds=BODY_KIND_LABELS,
                           today=access.local_today(), candidates=queries.member_candidates(body),
                           agreements=queries.manageable_agreements(current_user) or body.agreements,
                           chosen_ids=[str(a.id) for a in body.agreements])


@bp.post("/organ/<int:body_id>")
@login_required
@access.opens_if(may_manage, refused=403)
def update_body(body_id: int) -> BaseResponse | tuple[str, int] | str:
    """Change the body's name, kind, description or the agreements it serves."""
    body = db.get_or_404(JointBody, body_id)
    return _act(body, lambda: ops.update_body(
        body, name=request.form.get("name", ""), kind=request.form.get("kind", ""), agreements=_chosen_agreements(),
        description=request.form.get("description", ""), by=current_user), "Organet är ändrat.")


@bp.post("/organ/<int:body_id>/ledamoter")
@login_required
@access.opens_if(may_manage, refused=403)
def add_member(body_id: int) -> BaseResponse | tuple[str, int] | str:
    """Appoint a member for a party: person, mandate, term; chair or secretary."""
    body = db.get_or_404(JointBody, body_id)
    return _act(body, lambda: ops.add_member(body, _new_member(), by=current_user), "Ledamoten är tillagd.")


def _new_member() -> ops.NewMember:
    person = request.form.get("person", "")  # "organisation_id:user_id" from the candidates list
    organisation_id, _, user_id = person.partition(":")
    if not organisation_id.isdigit() or not user_id.isdigit():
        raise ValidationFailed(FORM_ERROR, {"person": ["Välj en person."]})
    return ops.NewMember(
        organisation_id=int(organisation_id), user_id=int(user_id), term_from=_date("term_from", required=True),
        term_to=_date("term_to"), mandate=request.form.get("mandate", ""),
        is_chair=request.form.get("role") == "chair", is_secretary=request.form.get("role") == "secretary")


def _date(name: str, *, required: bool = False) -> Any:
    raw = request.form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(FORM_ERROR, {name: ["Ange ett datum (ÅÅÅÅ-MM-DD)."]}) from None


@bp.post("/organ/<int:body_id>/ledamoter/<int:member_id>/avsluta")
@login_required
@access.opens_if(may_manage, refused=403)
def end_member(body_id: int, member_id: int) -> BaseResponse | tuple[str, int] | str:
    """End a member's term."""
    body = db.get_or_404(JointBody, body_id)
    member = db.session.get(BodyMember, member_id)
    if member is None or member.body_id != body.id:
        return redirect(url_for("bodies.body_page", body_id=body.id))
    return _act(body, lambda: ops.end_membership(member, _date("term_to", required=True), by=current_user),
                "Ledamotens mandat är avslutat.")


@bp.post("/organ/<int:body_id>/moten")
@login_required
@access.opens_if(may_schedule, refused=403)
def schedule_meeting(body_id: int) -> BaseResponse | tuple[str, int] | str:
    """Put a meeting of the body in the calendar."""
    body = db.get_or_404(JointBody, body_id)
    try:
        meeting = commit_with_retry(lambda: ops.schedule_meeting(
            body, _date("held_on", required=True), by=current_user, place=request.form.get("place", "")))
    except SamverkanError as exc:
        db.session.rollback()
        return _render_body(body, getattr(exc, "fields", {}), exc.message), exc.status
    flash(_("Mötet är planerat."))
    return redirect(url_for("bodies.meeting_page", meeting_id=meeting.id))


def _act(body: JointBody, change: Callable[[], Any], done: str) -> BaseResponse | tuple[str, int] | str:
    try:
        commit_with_retry(change)
    except SamverkanError as exc:
        db.session.rollback()
        return _render_body(db.get_or_404(JointBody, body.id), getattr(exc, "fields", {}), exc.message), exc.status
    flash(_(done))
    return redirect(url_for("bodies.body_page", body_id=body.id))


# --- meetings ---------------------------------------------------------------------------------------------

@bp.get("/organ/moten/<int:meeting_id>")
@login_required
@access.opens_if(may_view_meeting)
def meeting_page(meeting_id: int) -> str:
    """Show a meeting: agenda, who came, the protocol's decisions (§) and its justering."""
    return _render_meeting(db.get_or_404(Meeting, meeting_id), {})


def _render_meeting(meeting: Meeting, errors: dict[str, list[str]], message: str = "") -> str:
    return render_template("bodies/meeting.html", meeting=meeting, errors=errors, message=message,
                           members=meeting.body.members_on(meeting.held_on), agenda=_agenda(meeting),
                           open_cases=queries.open_cases_for(meeting), outcomes=queries.DECISION_OUTCOMES,
                           absent_names=sorted(o.name for o in db.session.scalars(select(Organisation).where(
                               Organisation.id.in_(meeting.absent_organisation_ids())))) if meeting.attendances else [])


def _agenda(meeting: Meeting) -> list[tuple[AgendaItem, str, str | None]]:
    """Each point with its case type's label and a link to the case, if the viewer may open it."""
    adapter = current_app.url_map.bind("")
    rows: list[tuple[AgendaItem, str, str | None]] = []
    for item in meeting.agenda:
        spec = ops.get_case_type(item.case_type) if item.case_type else None
        url = spec.url(item.case_id) if spec is not None and item.case_id is not None else None
        if url is not None:
            endpoint, values = adapter.match(url)
            url = url if access.may_open(current_user, endpoint, **values) else None
        rows.append((item, spec.label if spec is not None else "", url))
    return rows


@bp.post("/organ/moten/<int:meeting_id>/dagordning")
@login_required
@access.opens_if(may_keep_minutes, refused=403)
def add_agenda_item(meeting_id: int) -> BaseResponse | tuple[str, int] | str:
    """Put a case (or a plain point) on the meeting's agenda."""
    meeting = db.get_or_404(Meeting, meeting_id)
    case_type, _, case_id = request.form.get("case", "").partition(":")
    return _minute(meeting, lambda: ops.add_agenda_item(
        meeting, by=current_user, title=request.form.get("title", ""), case_type=case_type,
        case_id=int(case_id) if case_id.isdigit() else None), "Punkten är tillagd.")


@bp.post("/organ/moten/<int:meeting_id>/narvaro")
@login_required
@access.opens_if(may_keep_minutes, refused=403)
def record_attendance(meeting_id: int) -> BaseResponse | tuple[str, int] | str:
    """Record who came to the meeting."""
    meeting = db.get_or_404(Meeting, meeting_id)
    return _minute(meeting, lambda: ops.record_attendance(
        meeting, request.form.getlist("present", type=int), by=current_user), "Närvaron är registrerad.")


@bp.post("/organ/moten/<int:meeting_id>/beslut")
@login_required
@access.opens_if(may_keep_minutes, refused=403)
def record_decision(meeting_id: int) -> BaseResponse | tuple[str, int] | str:
    """Enter the meeting's decision on an agenda point in the protocol (§); it lands on its case."""
    meeting = db.get_or_404(Meeting, meeting_id)
    item = next((i for i in meeting.agenda if str(i.id) == request.form.get("item_id")), None)
    paragraph = request.form.get("paragraph", type=int)

    def decide() -> None:
        if item is None:
            raise ValidationFailed(FORM_ERROR, {"item_id": ["Välj en punkt på dagordningen."]})
        ops.record_meeting_decision(meeting, item.case_type, item.case_id, request.form.get("text", ""),
                                    by=current_user, outcome=request.form.get("outcome", ""), paragraph=paragraph)

    return _minute(meeting, decide, "Beslutet är infört i protokollet.")


@bp.post("/organ/moten/<int:meeting_id>/justerare")
@login_required
@access.opens_if(may_keep_minutes, refused=403)
def choose_adjusters(meeting_id: int) -> BaseResponse | tuple[str, int] | str:
    """Name the members who justerar the protocol."""
    meeting = db.get_or_404(Meeting, meeting_id)
    return _minute(meeting, lambda: ops.choose_adjusters(
        meeting, request.form.getlist("adjusters", type=int), by=current_user), "Justerarna är utsedda.")


@bp.post("/organ/moten/<int:meeting_id>/justera")
@login_required
@access.opens_if(may_justera, refused=403)
def justera(meeting_id: int) -> BaseResponse | tuple[str, int] | str:
    """Justera the protocol, as a member named for it."""
    meeting = db.get_or_404(Meeting, meeting_id)
    return _minute(meeting, lambda: ops.justera(meeting, by=current_user), "Du har justerat protokollet.")


def _minute(meeting: Meeting, change: Callable[[], Any], done: str) -> BaseResponse | tuple[str, int] | str:
    try:
        commit_with_retry(change)
    except SamverkanError as exc:
        db.session.rollback()
        return _render_meeting(db.get_or_404(Meeting, meeting.id), getattr(exc, "fields", {}), exc.message), exc.status
    flash(_(done))
    return redirect(url_for("bodies.meeting_page", meeting_id=meeting.id))
