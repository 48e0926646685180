"""The annual report's figures, filled in from the data: organisation (joint bodies and members), goals and
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
    first, last = date(year, 1, 1), date(year, 12, 31)
    stats = deviation_statistics(Scope(title=agreement.title, agreement_id=agreement.id, year=year))
    return {
        "year": year, "agreement": agreement.title,
        "parties": [p.organisation.name for p in agreement.parties],
        "coordinator": agreement.coordinator_organisation.name,
        "bodies": _bodies(agreement, last),
        "goals": _goals(agreement),
        "follow_ups": _follow_ups(agreement, year),
        "meetings": _meetings(agreement, first, last),
        "deviations": _deviations(stats, agreement.id, year),
        "disputes": _disputes(agreement.id, year),
        "economy": economy_table(economy),
    }


def _bodies(agreement: Agreement, on: date) -> list[dict[str, Any]]:
    from service.bodies.models import JointBody, joint_body_agreements

    bodies = db.session.scalars(select(JointBody).join(joint_body_agreements).where(
        joint_body_agreements.c.agreement_id == agreement.id).order_by(JointBody.name)).all()
    return [{"name": body.name, "kind": body.kind_label, "members": [
        {"name": m.user.display_name, "organisation": m.organisation.name, "mandate": m.mandate,
         "is_chair": m.is_chair, "is_secretary": m.is_secretary} for m in body.members_on(on)]} for body in bodies]


def _goals(agreement: Agreement) -> list[dict[str, str]]:
    version = agreement.current_version or agreement.latest_version
    sections = version.sections if version is not None else {}
    wanted = (("mission", "Uppdrag"), ("goals", "Mätbara mål"), ("follow_up", "Uppföljning och utvärdering"))
    return [{"title": title, "text": str((sections.get(key) or {}).get("text") or ""),
             "responsible": str((sections.get(key) or {}).get("responsible") or "")}
            for key, title in wanted if (sections.get(key) or {}).get("text")]


def _follow_ups(agreement: Agreement, year: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(FollowUp).where(FollowUp.agreement_id == agreement.id)
                              .order_by(FollowUp.period_end)).all()
    return [{"period_start": f.period_start.date().isoformat(), "period_end": f.period_end.date().isoformat(),
             "deviations": f.deviations_count, "disputes": f.disputes_count,
             "process_indicators": f.process_indicators, "result_indicators": f.result_indicators,
             "action_plan": f.action_plan} for f in rows if f.period_end.year == year]


def _meetings(agreement: Agreement, first: date, last: date) -> list[dict[str, Any]]:
    from service.bodies.models import JointBody, Meeting, joint_body_agreements

    meetings = db.session.scalars(select(Meeting).join(JointBody).join(joint_body_agreements).where(
        joint_body_agreements.c.agreement_id == agreement.id, Meeting.held_on >= first, Meeting.held_on <= last)
        .order_by(Meeting.held_on, Meeting.id)).all()
    return [{"body": m.body.name, "held_on": m.held_on.isoformat(),
             "present": [f"{a.member.user.display_name} ({a.member.organisation.name})" for a in m.attendances if a.is_present],
             "absent": [f"{a.member.user.display_name} ({a.member.organisation.name})" for a in m.attendances
                        if not a.is_present],
             "decisions": len(m.decisions)} for m in meetings]


def _deviations(stats: Statistics, agreement_id: int, year: int) -> dict[str, Any]:
    ids = select(Deviation.id).where(Deviation.agreement_id == agreement_id)
    deviations = [d for d in db.session.scalars(select(Deviation).where(Deviation.id.in_(ids)))
                  if d.reported_at.year == year or (d.analysed_at is not None and d.analysed_at.year == year)]
    actions = db.session.scalars(select(ImprovementAction).where(ImprovementAction.deviation_id.in_(ids))
                                 .order_by(ImprovementAction.due_on)).all()
    return {
        "total": stats.total, "answered": stats.answered, "answered_late": stats.answered_late,
        "late_share_percent": stats.late_share_percent, "median_answer_days": stats.median_answer_days,
        "by_category": _rows(stats.by_category), "by_reporting": _rows(stats.by_reporting),
        "by_receiving": _rows(stats.by_receiving), "by_month": _rows(stats.by_month),
        "analysed": sum(1 for d in deviations if d.analysed_at is not None and d.analysed_at.year == year),
        "improvements": [{"case_number": a.deviation.case_number, "description": a.description, "owner": a.owner,
                          "due_on": a.due_on.isoformat(), "status": a.status_label,
                          "is_done": a.status == ImprovementStatus.DONE, "result": a.result} for a in actions
                         if a.created_at.year <= year and (a.completed_at is None or a.completed_at.year >= year)],
    }


def _rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]


def _disputes(agreement_id: int, year: int) -> list[dict[str, Any]]:
    disputes = db.session.scalars(select(Dispute).where(Dispute.agreement_id == agreement_id).order_by(Dispute.id)).all()
    return [{"case_number": d.case_number, "question": d.question, "opened_on": d.opened_at.date().isoformat(),
             "level": d.level_label, "status": d.status_label, "decision": d.decision,
             "instruction_title": d.instruction_title} for d in disputes
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
    return shown
