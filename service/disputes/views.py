"""Pages of disputes: open one, list them, follow one up the ladder."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service import access
from service.agreements.models import Agreement, AgreementParty
from service.bodies.operations import decisions_on
from service.bodies.queries import coordinated_agreements
from service.deviations.deadlines import parse_period, period_label
from service.deviations.form_pages import fields_for, load_form, read_submission
from service.deviations.queries import list_agreements_of, list_organisations
from service.disputes import meetings, queries
from service.disputes.models import (
    DEFAULT_PERIODS,
    DISPUTE_STATUS_LABELS,
    LEVEL_LABELS,
    LEVELS,
    Dispute,
    DisputeLevel,
    DisputeLevelSetting,
)
from service.disputes.operations import NewDispute, open_dispute, set_level_setting
from service.errors import NotPermitted, ValidationFailed
from service.extensions import db
from service.i18n import flash_message
from service.listing import ListFilter
from service.parties.models import Organisation
from service.transactions import commit_with_retry

bp = Blueprint("disputes", __name__, template_folder="templates")
OPEN_FORM = "dispute-open.schema.json"


@bp.get("/tvister")
@login_required
def disputes() -> str:
    """List the disputes my organisations are involved in."""
    chosen = ListFilter.from_args(request.args, DISPUTE_STATUS_LABELS)
    found = chosen.apply(queries.list_disputes_for(current_user), lambda d: d.status,
                         lambda d: [d.case_number, d.question, *(p.case_number or "" for p in d.parties)])
    return render_template("disputes/list.html", disputes=found, chosen=chosen, statuses=DISPUTE_STATUS_LABELS)


def may_open_disputes(user: Any, **_: Any) -> bool:
    """A party's manager opens disputes for the party."""
    return bool(queries.list_manager_organisations(user))


def may_set_levels(user: Any, **_: Any) -> bool:
    """Administrators for every agreement; an agreement's coordinator (its case officers) for that agreement."""
    return access.is_admin(user) or bool(coordinated_agreements(user))


def _settable_agreement_ids(user: Any) -> list[int]:
    return _agreement_ids() if access.is_admin(user) else [a.id for a in coordinated_agreements(user)]


@bp.route("/tvister/ny", methods=["GET", "POST"])
@login_required
@access.opens_if(may_open_disputes, refused=403)
def new_dispute() -> BaseResponse | tuple[str, int] | str:
    """Open a dispute about the division of responsibility, as a party's manager."""
    schema = load_form(OPEN_FORM)
    if request.method == "GET":
        return _render_new(schema, {}, {})
    values, errors = read_submission(schema)
    if errors:
        return _render_new(schema, values, errors, _("Formuläret innehåller fel. Inget har sparats.")), 422
    new = NewDispute(agreement_id=values["agreement_id"], opening_organisation_id=values["opening_organisation_id"],
                     other_organisation_ids=values["other_organisation_ids"], question=values["question"],
                     background=values.get("background") or "")
    try:
        dispute = commit_with_retry(lambda: open_dispute(new, by=current_user))
    except ValidationFailed as exc:
        return _render_new(schema, values, exc.fields, exc.message), 422
    except NotPermitted as exc:
        return _render_new(schema, values, {"opening_organisation_id": [exc.message]}, exc.message), 403
    flash_message("Tvisten är öppnad som %(number)s. Parternas chefer försöker först komma överens.",
                  number=dispute.case_number)
    return redirect(url_for("disputes.dispute_page", dispute_id=dispute.id))


def _render_new(schema: dict[str, Any], values: dict[str, Any], errors: dict[str, list[str]], message: str = "") -> str:
    own = queries.list_manager_organisations(current_user)
    options = {
        "manager_organisations": [(o.id, o.name) for o in own],
        "other_organisations": [(o.id, o.name) for o in list_organisations()],
        "agreements": [(a.id, a.title) for a in list_agreements_of(o.id for o in own)],
    }
    fields = fields_for(schema, values, errors, options)
    return render_template("disputes/new.html", schema=schema, fields=fields, message=message)


@bp.get("/tvister/<int:dispute_id>")
@login_required
@access.opens_if(access.may_open_dispute)  # 404, not 403: do not reveal that it exists
def dispute_page(dispute_id: int) -> str:
    """Show a dispute: the question, the parties' case numbers and every step up the ladder."""
    dispute = db.get_or_404(Dispute, dispute_id)
    bodies = {level: meetings.deciding_body(dispute, level) for level in meetings.BODY_KINDS}
    return render_template("disputes/dispute.html", dispute=dispute, agreement=db.session.get(Agreement, dispute.agreement_id),
                           levels=[(level, LEVEL_LABELS[level]) for level in LEVELS], bodies=bodies,
                           meeting_decisions=decisions_on(meetings.CASE_TYPE, dispute.id))


@bp.route("/tvister/nivaer", methods=["GET", "POST"])
@login_required
@access.opens_if(may_set_levels, refused=403)
def level_settings() -> BaseResponse | tuple[str, int] | str:
    """Name the steering group and county body handling disputes, and each level's time (administrators)."""
    if request.method == "GET":
        return _render_levels({})
    try:
        commit_with_retry(_save_level_setting)
    except ValidationFailed as exc:
        return _render_levels(exc.fields), 422
    flash_message("Inställningen är sparad.")
    return redirect(url_for("disputes.level_settings"))


def _save_level_setting() -> None:
    level = request.form.get("level", "")
    if level not in (DisputeLevel.STEERING_GROUP, DisputeLevel.COUNTY, DisputeLevel.LINE):
        raise ValidationFailed("Välj en nivå.", {"level": ["Välj en nivå."]})
    agreement_id = request.form.get("agreement_id", type=int) or None
    if not access.is_admin(current_user) and agreement_id not in _settable_agreement_ids(current_user):
        raise ValidationFailed("Välj ett avtal som din organisation samordnar.",
                               {"agreement_id": ["Välj ett avtal som din organisation samordnar."]})
    count = request.form.get("count", type=int)
    period = parse_period(count, request.form.get("unit", "D")) if count else None
    organisation_id = request.form.get("organisation_id", type=int) or None
    if level == DisputeLevel.LINE and organisation_id is not None:
        raise ValidationFailed("Nivå 1 hanteras alltid av parternas chefer.", {"organisation_id": ["Lämna tomt för nivå 1."]})
    if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
        raise ValidationFailed("Okänd organisation.", {"organisation_id": ["Okänd organisation."]})
    remind_only = request.form.get("remind_only") == "1"
    if remind_only and level == DisputeLevel.COUNTY:
        raise ValidationFailed("Länsnivån är sista nivån.", {"remind_only": ["Länsnivån eskaleras aldrig vidare."]})
    set_level_setting(agreement_id, DisputeLevel(level), organisation_id, period, escalates=not remind_only,
                      by=current_user)


def _render_levels(errors: dict[str, list[str]]) -> str:
    settable = _settable_agreement_ids(current_user)
    rows = [row for row in db.session.scalars(select(DisputeLevelSetting).order_by(DisputeLevelSetting.agreement_id,
                                                                                   DisputeLevelSetting.level))
            if row.agreement_id is None or row.agreement_id in settable]
    titles = {row.agreement_id: _title(row.agreement_id) for row in rows if row.agreement_id is not None}
    agreements = [a for a in (db.session.get(Agreement, i) for i in settable) if a is not None]
    return render_template("disputes/levels.html", rows=rows, titles=titles, errors=errors, organisations=list_organisations(),
                           agreements=agreements, levels=[(level, LEVEL_LABELS[level]) for level in LEVELS],
                           for_all=access.is_admin(current_user),
                           defaults=DEFAULT_PERIODS, period_label=period_label)


def _title(agreement_id: int) -> str:
    agreement = db.session.get(Agreement, agreement_id)
    return agreement.title if agreement is not None else str(agreement_id)


def _agreement_ids() -> list[int]:
    return list(db.session.scalars(select(AgreementParty.agreement_id).distinct()))
