"""An agreement's follow-ups as its pages and the API show them (recorded by service/agreements/lifecycle.py), and
a follow-up as a case a joint body takes up at a meeting (issue #20, item 2): put on the agenda of a body serving
the agreement, its decision (§) lands on the follow-up, shown with it on the agreement page and in the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from service import audit
from service.agreements.models import Agreement, AgreementVersion, FollowUp
from service.bodies.models import JointBody, Meeting, MeetingDecision
from service.bodies.operations import CaseType, register_case_type
from service.errors import InvalidTransition
from service.extensions import db
from service.parties.models import N_, User

CASE_TYPE = "follow_up"


@dataclass(frozen=True)
class FollowUpView:
    id: int
    version_number: int
    period_start: datetime
    period_end: datetime
    deviations_count: int
    disputes_count: int
    process_indicators: str
    result_indicators: str
    user_influence: str
    action_plan: str
    recorded_by: str
    recorded_at: datetime
    amendment_version_id: int | None
    # The joint bodies' decisions on it: "Styrgruppen 2027-03-02 § 4: Uppföljningen läggs till handlingarna."
    meeting_decisions: tuple[str, ...] = ()


def list_follow_ups(agreement_id: int) -> list[FollowUpView]:
    """The agreement's follow-ups, newest first."""
    rows = db.session.execute(select(FollowUp, AgreementVersion.number, User.display_name)
                              .join(AgreementVersion, AgreementVersion.id == FollowUp.version_id)
                              .join(User, User.id == FollowUp.recorded_by_id)
                              .where(FollowUp.agreement_id == agreement_id)
                              .order_by(FollowUp.period_end.desc(), FollowUp.id.desc())).all()
    decided = _decisions_on([f.id for f, _number, _name in rows])
    return [FollowUpView(f.id, number, f.period_start, f.period_end, f.deviations_count, f.disputes_count,
                         f.process_indicators, f.result_indicators, f.user_influence, f.action_plan, name,
                         f.recorded_at, f.amendment_version_id, tuple(decided.get(f.id, ())))
            for f, number, name in rows]


def _decisions_on(follow_up_ids: list[int]) -> dict[int, list[str]]:
    rows = db.session.execute(select(MeetingDecision, Meeting.held_on, JointBody.name)
                              .join(Meeting, Meeting.id == MeetingDecision.meeting_id)
                              .join(JointBody, JointBody.id == Meeting.body_id)
                              .where(MeetingDecision.case_type == CASE_TYPE, MeetingDecision.case_id.in_(follow_up_ids))
                              .order_by(Meeting.held_on, MeetingDecision.paragraph)).all()
    found: dict[int, list[str]] = {}
    for decision, held_on, body in rows:
        found.setdefault(int(decision.case_id or 0), []).append(
            f"{body} {held_on.isoformat()} § {decision.paragraph}: {decision.text}")
    return found


# --- a follow-up on a meeting's agenda ----------------------------------------------------------------------

def land_decision(decision: MeetingDecision, by: User) -> None:
    """The body has treated the follow-up: recorded on the agreement's history (the decision shows with it)."""
    follow_up = db.session.get(FollowUp, decision.case_id)
    meeting = decision.meeting
    if follow_up is None or follow_up.agreement_id not in {a.id for a in meeting.body.agreements}:
        raise InvalidTransition(_("Uppföljningen hör inte till ett avtal som organet arbetar för."))
    audit.record(by, "agreement.follow_up_treated", db.session.get_one(Agreement, follow_up.agreement_id),
                 follow_up_id=follow_up.id, meeting_id=meeting.id, decision_id=decision.id,
                 paragraph=decision.paragraph)


def _label(follow_up: FollowUp, title: str) -> str:
    return (f"{_('Uppföljning')} {follow_up.period_start.date().isoformat()}–{follow_up.period_end.date().isoformat()}: "
            f"{title}")


def _title(follow_up_id: int) -> str | None:
    follow_up = db.session.get(FollowUp, follow_up_id)
    return None if follow_up is None else _label(follow_up, db.session.get_one(Agreement, follow_up.agreement_id).title)


def _url(follow_up_id: int) -> str | None:
    follow_up = db.session.get(FollowUp, follow_up_id)
    return None if follow_up is None else url_for("inbox.agreement_page", agreement_id=follow_up.agreement_id)


def _candidates(meeting: Meeting) -> list[tuple[int, str]]:
    """The follow-ups of the body's agreements that no meeting has decided on yet."""
    decided = select(MeetingDecision.case_id).where(MeetingDecision.case_type == CASE_TYPE,
                                                    MeetingDecision.case_id.is_not(None))
    titles = {a.id: a.title for a in meeting.body.agreements}
    follow_ups = db.session.scalars(select(FollowUp).where(FollowUp.agreement_id.in_(list(titles)),
                                                           FollowUp.id.not_in(decided)).order_by(FollowUp.id))
    return [(f.id, _label(f, titles[f.agreement_id])) for f in follow_ups]


def register() -> None:
    """Let meetings take up the agreements' follow-ups."""
    register_case_type(CASE_TYPE, CaseType(label=N_("Uppföljning"), title=_title, land=land_decision, url=_url,
                                           candidates=_candidates))
