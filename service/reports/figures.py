"""The annual report's figures (of one agreement, or of a collaboration: every agreement a joint body serves),
filled in from the data: organisation (joint bodies and members), goals and
follow-ups, meetings and who came, deviations (the statistics page's own numbers, service/deviations/statistics.py),
analyses and improvement actions, disputes and their outcomes, and the coordinator's economy rows in tkr.

Everything is plain JSON (lists, dicts, strings, numbers) so that adoption can store it as it was."""

from __future__ import annotations

import copy
from dataclasses import asdict
from datetime import date
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from service.agreements.models import Agreement, FollowUp
from service.deviations.models import Deviation, ImprovementAction, ImprovementStatus
from service.deviations.statistics import Scope, Statistics, deviation_statistics
from service.disputes.models import Dispute
from service.extensions import db

ECONOMY_KINDS = {"grant": "Statsbidrag", "income": "Övriga intäkter", "cost": "Kostnad"}


def compute_figures(agreement: Agreement, year: int, economy: list[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of ``agreement``'s annual report for ``year`` as the data stands now."""
    stats = deviation_statistics(Scope(title=agreement.title, agreement_id=agreement.id, year=year))
    return {"year": year, "agreement": agreement.title, **_figures([agreement], year, stats, economy)}


def compute_collaboration_figures(body: Any, year: int, economy: list[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of the collaboration report of ``body`` (a joint body) for ``year``: the same figures as an
    agreement's, over every agreement the body serves, and the deviations per agreement."""
    agreements = list(body.agreements)
    ids = frozenset(a.id for a in agreements)
    stats = deviation_statistics(Scope(title=body.name, agreement_ids=ids, year=year))
    figures = {"year": year, "body": body.name, "body_kind": body.kind_label,
               "agreements": [a.title for a in agreements], "agreement_ids": sorted(ids),
               **_figures(agreements, year, stats, economy)}
    figures["deviations"]["by_agreement"] = [
        {"key": str(a.id), "label": a.title,
         "count": deviation_statistics(Scope(title=a.title, agreement_id=a.id, year=year)).total} for a in agreements]
    return figures


def _figures(agreements: list[Agreement], year: int, stats: Statistics, economy: list[dict[str, Any]]) -> dict[str, Any]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    ids, titles = [a.id for a in agreements], {a.id: a.title for a in agreements}
    return {
        "parties": list(dict.fromkeys(p.organisation.name for a in agreements for p in a.parties)),
        "coordinator": ", ".join(dict.fromkeys(a.coordinator_organisation.name for a in agreements)),
        "bodies": _bodies(ids, last),
        "goals": [goal for a in agreements for goal in _goals(a)],
        "follow_ups": _follow_ups(titles, year),
        "meetings": _meetings(ids, first, last),
        "deviations": _deviations(stats, titles, year),
        "disputes": _disputes(titles, year),
        "economy": economy_table(economy),
    }


def _bodies(agreement_ids: list[int], on: date) -> list[dict[str, Any]]:
    from service.bodies.models import JointBody, joint_body_agreements

    serving = select(joint_body_agreements.c.body_id).where(joint_body_agreements.c.agreement_id.in_(agreement_ids))
    bodies = db.session.scalars(select(JointBody).where(JointBody.id.in_(serving)).order_by(JointBody.name)).all()
    return [{"name": body.name, "kind": body.kind_label, "members": [
        {"name": m.user.display_name, "organisation": m.organisation.name, "mandate": m.mandate,
         "is_chair": m.is_chair, "is_secretary": m.is_secretary} for m in body.members_on(on)]} for body in bodies]


def _goals(agreement: Agreement) -> list[dict[str, str]]:
    version = agreement.current_version or agreement.latest_version
    sections = version.sections if version is not None else {}
    wanted = (("mission", "Uppdrag"), ("goals", "Mätbara mål"), ("follow_up", "Uppföljning och utvärdering"))
    return [{"title": title, "text": str((sections.get(key) or {}).get("text") or ""),
             "responsible": str((sections.get(key) or {}).get("responsible") or ""), "agreement": agreement.title}
            for key, title in wanted if (sections.get(key) or {}).get("text")]


def _follow_ups(titles: dict[int, str], year: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(FollowUp).where(FollowUp.agreement_id.in_(list(titles)))
                              .order_by(FollowUp.period_end, FollowUp.id)).all()
    return [{"period_start": f.period_start.date().isoformat(), "period_end": f.period_end.date().isoformat(),
             "deviations": f.deviations_count, "disputes": f.disputes_count,
             "process_indicators": f.process_indicators, "result_indicators": f.result_indicators,
             "action_plan": f.action_plan, "agreement": titles[f.agreement_id]} for f in rows if f.period_end.year == year]


def _meetings(agreement_ids: list[int], first: date, last: date) -> list[dict[str, Any]]:
    from service.bodies.models import Meeting, joint_body_agreements

    serving = select(joint_body_agreements.c.body_id).where(joint_body_agreements.c.agreement_id.in_(agreement_ids))
    meetings = db.session.scalars(select(Meeting).where(
        Meeting.body_id.in_(serving), Meeting.held_on >= first, Meeting.held_on <= last)
        .order_by(Meeting.held_on, Meeting.id)).all()
    return [{"body": m.body.name, "held_on": m.held_on.isoformat(),
             "present": [f"{a.member.user.display_name} ({a.member.organisation.name})" for a in m.attendances if a.is_present],
             "absent": [f"{a.member.user.display_name} ({a.member.organisation.name})" for a in m.attendances
                        if not a.is_present],
             "decisions": len(m.decisions)} for m in meetings]


def _deviations(stats: Statistics, titles: dict[int, str], year: int) -> dict[str, Any]:
    ids = select(Deviation.id).where(Deviation.agreement_id.in_(list(titles)))
    deviations = [d for d in db.session.scalars(select(Deviation).where(Deviation.id.in_(ids)))
                  if d.reported_at.year == year or (d.analysed_at is not None and d.analysed_at.year == year)]
    actions = db.session.scalars(select(ImprovementAction).where(ImprovementAction.deviation_id.in_(ids))
                                 .order_by(ImprovementAction.due_on, ImprovementAction.id)).all()
    return {
        "total": stats.total, "answered": stats.answered, "answered_late": stats.answered_late,
        "late_share_percent": stats.late_share_percent, "median_answer_days": stats.median_answer_days,
        "by_category": _rows(stats.by_category), "by_reporting": _rows(stats.by_reporting),
        "by_receiving": _rows(stats.by_receiving), "by_month": _rows(stats.by_month),
        "analysed": sum(1 for d in deviations if d.analysed_at is not None and d.analysed_at.year == year),
        "improvements": [{"case_number": a.deviation.case_number, "description": a.description, "owner": a.owner,
                          "due_on": a.due_on.isoformat(), "status": a.status_label,
                          "is_done": a.status == ImprovementStatus.DONE, "result": a.result,
                          "agreement": titles.get(a.deviation.agreement_id or 0, "")} for a in actions
                         if a.created_at.year <= year and (a.completed_at is None or a.completed_at.year >= year)],
    }


def _rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]


def _disputes(titles: dict[int, str], year: int) -> list[dict[str, Any]]:
    disputes = db.session.scalars(select(Dispute).where(Dispute.agreement_id.in_(list(titles)))
                                  .order_by(Dispute.id)).all()
    return [{"case_number": d.case_number, "question": d.question, "opened_on": d.opened_at.date().isoformat(),
             "level": d.level_label, "status": d.status_label, "decision": d.decision,
             "instruction_title": d.instruction_title, "agreement": titles[d.agreement_id]} for d in disputes
            if d.opened_at.year <= year and (d.resolved_at is None or d.resolved_at.year >= year)]


def economy_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The coordinator's rows with their kind's label, and the totals (budget and outcome, tkr)."""
    shown = [{**row, "kind_label": ECONOMY_KINDS.get(row.get("kind", ""), "")} for row in rows]
    totals: dict[str, Any] = {}
    for column in ("budget_tkr", "outcome_tkr"):
        income = sum(int(r.get(column) or 0) for r in rows if r.get("kind") in ("grant", "income"))
        cost = sum(int(r.get(column) or 0) for r in rows if r.get("kind") == "cost")
        grants = sum(int(r.get(column) or 0) for r in rows if r.get("kind") == "grant")
        totals[column] = {"income": income, "cost": cost, "grants": grants, "result": income - cost}
    return {"rows": shown, "totals": totals}


def localised(figures: dict[str, Any]) -> dict[str, Any]:
    """Adopted figures with their stored Swedish labels (categories, statuses, levels, kinds) in the reader's
    language; names and free text stay as stored."""
    shown = copy.deepcopy(figures)
    deviations = shown.get("deviations", {})
    for row in deviations.get("by_category", []):
        row["label"] = gettext(row["label"])
    for action in deviations.get("improvements", []):
        action["status"] = gettext(action["status"])
    for dispute in shown.get("disputes", []):
        dispute["level"], dispute["status"] = gettext(dispute["level"]), gettext(dispute["status"])
    for body in shown.get("bodies", []):
        body["kind"] = gettext(body["kind"])
    if "body_kind" in shown:
        shown["body_kind"] = gettext(shown["body_kind"])
    return shown
