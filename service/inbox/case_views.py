"""Case pages: the agreement list with filters, an agreement (versions, decisions, related deviations and
disputes, timeline, comments) and the comparison of two versions."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from service import access
from service.agreements import leaving
from service.agreements.checklist import sections_of
from service.agreements.lifecycle import follow_up_terms, open_checklist_items
from service.agreements.models import STATUS_LABELS
from service.agreements.queries import diff_versions
from service.audit.labels import action_label
from service.extensions import db
from service.inbox import queries
from service.inbox.views import _can_amend, _version_arg, _visible_agreement, bp
from service.parties.models import Organisation


@bp.get("/avtal")
@login_required
def agreements() -> str:
    """List the agreements my organisations take part in, filtered by status, party and title."""
    status = request.args.get("status", "") if request.args.get("status") in STATUS_LABELS else ""
    party = queries._int(request.args.get("part"))
    q = request.args.get("q", "").strip()[:200]
    return render_template("inbox/agreements.html", agreements=queries.list_agreements(current_user, status, party, q),
                           status=status, party=party, q=q, statuses=STATUS_LABELS,
                           organisations=db.session.query(Organisation).order_by(Organisation.name).all())


@bp.get("/avtal/<int:agreement_id>")
@login_required
@access.opens_if(access.may_open_agreement)  # 404, not 403: do not reveal that the agreement exists
def agreement_page(agreement_id: int) -> str:
    """Show an agreement: a version's sections, parties and decisions, versions, related cases and the timeline."""
    agreement = _visible_agreement(agreement_id)
    shown = _version_arg(agreement, "version") or agreement.current_version or agreement.latest_version
    deviations, disputes = queries.list_related(current_user, agreement)
    case = queries.Case("agreement", agreement.id, agreement.title, agreement)
    return render_template("inbox/agreement.html", agreement=agreement, version=shown,
                           sections=sections_of(shown.sections if shown is not None else {}),
                           open_items=open_checklist_items(agreement),
                           follow_up=follow_up_terms(agreement),
                           can_amend=_can_amend(agreement), deviations=deviations, disputes=disputes,
                           can_terminate=bool(leaving.leaving_parties(current_user, agreement)),
                           timeline=queries.agreement_timeline(agreement), case=case, event_label=action_label,
                           comments=queries.list_comments(case),
                           can_comment=any(m.role != "auditor" for m in current_user.memberships))


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
