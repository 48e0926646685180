"""Pages of deviations: report one, list them, read one, and set the parties' answer times."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from service import access
from service.deviations import deadlines, queries
from service.deviations.form_pages import fields_for, load_form, read_submission
from service.deviations.models import DEVIATION_STATUS_LABELS, Deviation
from service.deviations.operations import report_deviation
from service.disputes.queries import list_disputes_of_deviation
from service.errors import NotPermitted, SamverkanError, ValidationFailed
from service.extensions import db
from service.i18n import flash_message
from service.listing import ListFilter
from service.parties.models import Role
from service.security.personal_data import refused_in_form
from service.transactions import commit_with_retry

bp = Blueprint("deviations", __name__, template_folder="templates")
REPORT_FORM = "deviation-report.schema.json"
DEADLINE_ROLES = frozenset({Role.MANAGER, Role.DEVIATION_COORDINATOR})


@bp.route("/avvikelser/ny", methods=["GET", "POST"])
@login_required
@access.opens_if(access.may_report, refused=403)  # auditors read everything and report nothing
@refused_in_form
def new_deviation() -> BaseResponse | tuple[str, int] | str:
    """Report a deviation in the collaboration."""
    schema = load_form(REPORT_FORM)
    if request.method == "GET":
        return _render_new(schema, {}, {})
    values, errors = read_submission(schema)
    if errors:
        return _render_new(schema, values, errors, _("Formuläret innehåller fel. Inget har sparats.")), 422
    try:
        deviation = commit_with_retry(lambda: report_deviation(values, by=current_user))
    except ValidationFailed as exc:
        return _render_new(schema, values, exc.fields, exc.message), 422
    except NotPermitted:
        abort(403)
    numbers = ", ".join(f"{r.organisation.name} {r.case_number}" for r in deviation.receivers)
    flash_message("Avvikelsen är rapporterad som %(number)s och skickad till %(receivers)s.", number=deviation.case_number,
                  receivers=numbers)
    return redirect(url_for("deviations.deviation_page", deviation_id=deviation.id))


def _render_new(schema: dict[str, Any], values: dict[str, Any], errors: dict[str, list[str]], message: str = "") -> str:
    own = queries.list_user_organisations(current_user)
    options = {
        "own_organisations": [(o.id, o.name) for o in own],
        "other_organisations": [(o.id, o.name) for o in queries.list_organisations()],
        "agreements": [(a.id, a.title) for a in queries.list_agreements_of(o.id for o in own)],
    }
    fields = fields_for(schema, values, errors, options)
    return render_template("deviations/new.html", schema=schema, fields=fields, message=message)


@bp.get("/avvikelser")
@login_required
def deviations() -> str:
    """List the deviations I reported and those of the parties I handle deviations for."""
    organisation_id = request.args.get("part", type=int)
    parties = [o for o in queries.list_user_organisations(current_user) if o.id in queries.party_organisation_ids(current_user)]
    if organisation_id is not None and organisation_id not in {o.id for o in parties}:
        abort(404)
    chosen = ListFilter.from_args(request.args, DEVIATION_STATUS_LABELS)
    found = chosen.apply(queries.list_deviations_for(current_user, organisation_id), lambda d: d.status,
                         lambda d: [d.case_number, d.description, *(r.case_number or "" for r in d.receivers)])
    # Case numbers in the party's own series when the list is one party's (or the user handles only one).
    perspective = organisation_id or (parties[0].id if len(parties) == 1 else None)
    return render_template("deviations/list.html", deviations=found, parties=parties, organisation_id=organisation_id,
                           chosen=chosen, statuses=DEVIATION_STATUS_LABELS,
                           perspective=perspective, case_number_for=queries.case_number_for)


@bp.get("/avvikelser/<int:deviation_id>")
@login_required
@access.opens_if(access.may_open_deviation)  # 404, not 403: do not reveal that it exists
def deviation_page(deviation_id: int) -> str:
    """Show a deviation: the report, each receiving party's answer, the analysis and the history."""
    deviation = db.get_or_404(Deviation, deviation_id)
    return render_template("deviations/deviation.html", deviation=deviation,
                           agreement=queries.get_agreement_of(deviation), disputes=list_disputes_of_deviation(deviation.id),
                           period_label=deadlines.period_label)


def deadline_organisations(user: Any) -> list[Any]:
    """The organisations where ``user`` sets the answer times: as a manager or deviation coordinator."""
    return list({m.organisation_id: m.organisation for m in user.memberships if m.role in DEADLINE_ROLES}.values())


def may_set_answer_deadlines(user: Any, **_: Any) -> bool:
    return bool(deadline_organisations(user))


@bp.route("/avvikelser/svarstider", methods=["GET", "POST"])
@login_required
@access.opens_if(may_set_answer_deadlines, refused=403)
def answer_deadlines() -> BaseResponse | tuple[str, int] | str:
    """Set how long my party has to answer deviations (for all agreements or one)."""
    organisations = deadline_organisations(current_user)
    if request.method == "GET":
        return _render_deadlines(organisations, {})
    try:
        commit_with_retry(lambda: _save_deadline({o.id for o in organisations}))
    except SamverkanError as exc:
        errors = exc.fields if isinstance(exc, ValidationFailed) else {"": [exc.message]}
        return _render_deadlines(organisations, errors), exc.status
    flash_message("Svarstiden är sparad.")
    return redirect(url_for("deviations.answer_deadlines"))


def _save_deadline(allowed: set[int]) -> None:
    organisation_id = request.form.get("organisation_id", type=int)
    if organisation_id not in allowed:
        raise ValidationFailed("Välj en part.", {"organisation_id": ["Välj en part där du är chef eller avvikelsesamordnare."]})
    agreement_id = request.form.get("agreement_id", type=int) or None
    count, unit = request.form.get("count", type=int) or 0, request.form.get("unit", "D")
    period = deadlines.parse_period(count, unit)
    reminder = request.form.get("reminder_days", type=int)
    deadlines.set_answer_deadline(organisation_id, agreement_id, period,
                                  deadlines.DEFAULT_REMINDER_DAYS if reminder is None else reminder, by=current_user)


def _render_deadlines(organisations: list[Any], errors: dict[str, list[str]]) -> str:
    rows = deadlines.list_answer_deadlines({o.id for o in organisations})
    agreements = queries.list_agreements_of(o.id for o in organisations)
    return render_template("deviations/deadlines.html", organisations=organisations, rows=rows, agreements=agreements,
                           titles={a.id: a.title for a in agreements}, errors=errors, form=request.form,
                           default_period=deadlines.period_label(deadlines.DEFAULT_ANSWER_PERIOD),
                           period_label=deadlines.period_label)


from service.deviations import statistics_views as _statistics_views  # noqa: E402,F401 (routes on bp)
