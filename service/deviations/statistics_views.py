"""Statistics pages per agreement and per party, with SVG charts and CSV export (routes on deviations' bp)."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required

from service import access
from service.agreements.models import Agreement
from service.deviations import queries
from service.deviations.statistics import Scope, Statistics, deviation_statistics, swedish_number, to_csv
from service.deviations.views import bp
from service.extensions import db
from service.parties.models import Organisation


@bp.get("/statistik")
@login_required
def statistics_index() -> str:
    """List the agreements and parties whose statistics I may see."""
    organisations = queries.list_user_organisations(current_user)
    agreements = queries.list_agreements_of(o.id for o in organisations)
    return render_template("deviations/statistics_index.html", organisations=organisations, agreements=agreements)


@bp.get("/statistik/avtal/<int:agreement_id>")
@login_required
def agreement_statistics(agreement_id: int) -> str:
    """Show an agreement's deviation and dispute statistics."""
    result = deviation_statistics(_agreement_scope(agreement_id))
    return _render(result, "deviations.agreement_statistics_csv", agreement_id=agreement_id)


@bp.get("/statistik/avtal/<int:agreement_id>.csv")
@login_required
def agreement_statistics_csv(agreement_id: int) -> Response:
    """Export an agreement's statistics as CSV."""
    return _csv(deviation_statistics(_agreement_scope(agreement_id)), f"avvikelser-avtal-{agreement_id}")


@bp.get("/statistik/part/<int:organisation_id>")
@login_required
def party_statistics(organisation_id: int) -> str:
    """Show a party's deviation and dispute statistics (sent and received)."""
    result = deviation_statistics(_party_scope(organisation_id))
    return _render(result, "deviations.party_statistics_csv", organisation_id=organisation_id)


@bp.get("/statistik/part/<int:organisation_id>.csv")
@login_required
def party_statistics_csv(organisation_id: int) -> Response:
    """Export a party's statistics as CSV."""
    return _csv(deviation_statistics(_party_scope(organisation_id)), f"avvikelser-part-{organisation_id}")


def _agreement_scope(agreement_id: int) -> Scope:
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or not (queries.can_view_agreement_statistics(current_user, agreement)
                                 or access.can_read_everything(current_user)):
        abort(404)
    return Scope(title=agreement.title, agreement_id=agreement.id, year=_year())


def _party_scope(organisation_id: int) -> Scope:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not (any(m.organisation_id == organisation_id for m in current_user.memberships)
                                    or access.can_read_everything(current_user)):
        abort(404)
    return Scope(title=organisation.name, organisation_id=organisation.id, year=_year())


def _year() -> int | None:
    year = request.args.get("ar", type=int)
    return year if year is not None and 2000 <= year <= 2100 else None


def _render(result: Statistics, csv_endpoint: str, **ids: int) -> str:
    return render_template("deviations/statistics.html", stats=result, csv_endpoint=csv_endpoint, ids=ids,
                           number=swedish_number)


def _csv(result: Statistics, name: str) -> Response:
    suffix = f"-{result.scope.year}" if result.scope.year else ""
    # The BOM makes Excel read the file as UTF-8 (å, ä, ö).
    return Response("\ufeff" + to_csv(result), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}{suffix}.csv"'})
