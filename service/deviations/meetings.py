"""A deviation taken up at a meeting of a joint body (issue #20, item 2).

The agreement's analysis group (or steering group) puts a deviation waiting for analysis on its agenda; the
body's decision (§) lands on the deviation as a line of its history that every party sees ("Beslut vid möte",
with the body, the date and the §), with an audit event. The analysis itself (final category, root cause,
improvement action) is still recorded in the analysis task, whose form the decision does not replace.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from service import audit
from service.bodies.models import Meeting, MeetingDecision
from service.bodies.operations import CaseType, register_case_type
from service.deviations.models import Deviation, DeviationEntry, DeviationStatus, EntryKind
from service.errors import InvalidTransition
from service.extensions import db
from service.parties.models import N_, User

CASE_TYPE = "deviation"


def land_decision(decision: MeetingDecision, by: User) -> None:
    """Write the meeting's decision into the deviation's history, for the body of one of its agreement's."""
    deviation = db.session.get(Deviation, decision.case_id)
    meeting = decision.meeting
    if deviation is None or deviation.agreement_id not in {a.id for a in meeting.body.agreements}:
        raise InvalidTransition(_("Avvikelsen hör inte till ett avtal som organet arbetar för."))
    text = f"{meeting.body.name} {meeting.held_on.isoformat()} § {decision.paragraph}: {decision.text}"
    deviation.entries.append(DeviationEntry(kind=EntryKind.MEETING_DECISION, text=text, author_id=by.id,
                                            created_at=decision.recorded_at))
    audit.record(by, "deviation.meeting_decision", deviation, instance_id=deviation.instance_id,
                 meeting_id=meeting.id, decision_id=decision.id, paragraph=decision.paragraph)


def _title(deviation_id: int) -> str | None:
    deviation = db.session.get(Deviation, deviation_id)
    return None if deviation is None else f"{_('Avvikelse')} {deviation.case_number}: {deviation.category_label}"


def _url(deviation_id: int) -> str:
    from flask import url_for

    return url_for("deviations.deviation_page", deviation_id=deviation_id)


def _candidates(meeting: Meeting) -> list[tuple[int, str]]:
    """The deviations of the body's agreements that wait for their analysis."""
    agreement_ids = [a.id for a in meeting.body.agreements]
    deviations = db.session.scalars(select(Deviation).where(
        Deviation.agreement_id.in_(agreement_ids), Deviation.status == DeviationStatus.IN_ANALYSIS).order_by(Deviation.id))
    return [(d.id, f"{d.case_number}: {d.category_label}") for d in deviations]


def register() -> None:
    """Let meetings take up deviations for analysis."""
    register_case_type(CASE_TYPE, CaseType(label=N_("Avvikelse"), title=_title, land=land_decision, url=_url,
                                           candidates=_candidates))
