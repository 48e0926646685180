"""How long a receiving party has to answer a deviation: configurable per agreement and party.

Areas differ (60 days in one, two months in another, "10 arbetsdagar" in a third), so the period is an
ISO 8601 duration in days, weeks or months, or ``P<n>WD`` (our extension): n Swedish working days, the
deadline being the end of that day in Stockholm. Lookup: the agreement's row for the party, else the
party's own row, else 60 days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from service import audit
from service.columns import now
from service.deviations.models import AnswerDeadline
from service.engine.calendar import working_days_deadline
from service.engine.specs import due_at
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import User

DEFAULT_ANSWER_PERIOD = "P60D"
DEFAULT_REMINDER_DAYS = 7
PERIOD_HELP = "Ange 1–999 dagar, arbetsdagar, veckor eller månader."
_PERIOD = re.compile(r"^P([1-9]\d{0,2})(WD|D|W|M)$")
_UNITS = {"D": ("%(count)s dag", "%(count)s dagar"), "W": ("%(count)s vecka", "%(count)s veckor"),
          "M": ("%(count)s månad", "%(count)s månader"), "WD": ("%(count)s arbetsdag", "%(count)s arbetsdagar")}


@dataclass(frozen=True)
class Deadline:
    """The answer period and reminder lead that apply to one receiving party."""

    answer_period: str
    reminder_days: int

    def due_from(self, start: datetime) -> datetime:
        if self.answer_period.endswith("WD"):
            return working_days_deadline(start, int(self.answer_period[1:-2]))
        return due_at(self.answer_period, start)

    def remind_from(self, start: datetime) -> datetime:
        """The reminder moment: ``reminder_days`` before due, but never before ``start``."""
        return max(start, self.due_from(start) - timedelta(days=self.reminder_days))


def deadline_for(organisation_id: int, agreement_id: int | None) -> Deadline:
    """The deadline that applies to ``organisation_id`` answering a deviation about ``agreement_id``."""
    rows = db.session.scalars(select(AnswerDeadline).where(AnswerDeadline.organisation_id == organisation_id)).all()
    row = next((r for r in rows if agreement_id is not None and r.agreement_id == agreement_id), None) or next(
        (r for r in rows if r.agreement_id is None), None)
    if row is None:
        return Deadline(DEFAULT_ANSWER_PERIOD, DEFAULT_REMINDER_DAYS)
    return Deadline(row.answer_period, row.reminder_days)


def period_label(period: str) -> str:
    """'P60D' -> '60 dagar', 'P2M' -> '2 månader' (in the reader's language)."""
    match = _PERIOD.match(period)
    if match is None:
        return period
    count, unit = int(match[1]), match[2]
    return gettext(_UNITS[unit][0 if count == 1 else 1], count=count)


def parse_period(count: int, unit: str) -> str:
    """An ISO period from a number and a unit (D, W or M); ValidationFailed if out of range."""
    period = f"P{count}{unit}"
    if _PERIOD.match(period) is None:
        raise ValidationFailed("Svarstiden är ogiltig.", {"answer_period": [PERIOD_HELP]})
    return period


def set_answer_deadline(organisation_id: int, agreement_id: int | None, answer_period: str, reminder_days: int,
                        *, by: User) -> AnswerDeadline:
    """Set the party's answer period (for one agreement, or for all its deviations)."""
    if _PERIOD.match(answer_period) is None:
        raise ValidationFailed("Svarstiden är ogiltig.", {"answer_period": [PERIOD_HELP]})
    if not 0 <= reminder_days <= 60:
        raise ValidationFailed("Påminnelsen är ogiltig.", {"reminder_days": ["Ange 0–60 dagar."]})
    row = db.session.scalar(select(AnswerDeadline).where(
        AnswerDeadline.organisation_id == organisation_id,
        AnswerDeadline.agreement_id.is_(None) if agreement_id is None else AnswerDeadline.agreement_id == agreement_id))
    if row is None:
        row = AnswerDeadline(organisation_id=organisation_id, agreement_id=agreement_id)
        db.session.add(row)
    row.answer_period, row.reminder_days, row.updated_at, row.updated_by_id = answer_period, reminder_days, now(), by.id
    db.session.flush()
    audit.record(by, "deviation.deadline_set", row, organisation_id=organisation_id, agreement_id=agreement_id,
                 answer_period=answer_period, reminder_days=reminder_days)
    return row


def list_answer_deadlines(organisation_ids: set[int]) -> list[AnswerDeadline]:
    """The configured deadlines of these parties."""
    return list(db.session.scalars(select(AnswerDeadline).where(AnswerDeadline.organisation_id.in_(organisation_ids))
                                   .order_by(AnswerDeadline.organisation_id, AnswerDeadline.agreement_id)))
