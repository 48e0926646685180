"""An agreement's follow-ups as its pages and the API show them (recorded by service/agreements/lifecycle.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from service.agreements.models import AgreementVersion, FollowUp
from service.extensions import db
from service.parties.models import User


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


def list_follow_ups(agreement_id: int) -> list[FollowUpView]:
    """The agreement's follow-ups, newest first."""
    rows = db.session.execute(select(FollowUp, AgreementVersion.number, User.display_name)
                              .join(AgreementVersion, AgreementVersion.id == FollowUp.version_id)
                              .join(User, User.id == FollowUp.recorded_by_id)
                              .where(FollowUp.agreement_id == agreement_id)
                              .order_by(FollowUp.period_end.desc(), FollowUp.id.desc())).all()
    return [FollowUpView(f.id, number, f.period_start, f.period_end, f.deviations_count, f.disputes_count,
                         f.process_indicators, f.result_indicators, f.user_influence, f.action_plan, name,
                         f.recorded_at, f.amendment_version_id) for f, number, name in rows]
