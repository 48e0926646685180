"""Swedish working days: weekends, public holidays and the de facto holidays public bodies close on
(julafton, midsommarafton, nyårsafton). Deadlines such as "svar inom 10 arbetsdagar" use this."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from service import clock

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MAX_WORKING_DAYS = 2_600  # ten years
APPEAL_PERIOD_DAYS = 21  # KL 13 kap. 6 §: tre veckor från tillkännagivandet på anslagstavlan


@lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("SE", years=year, language="sv", categories=("public", "de_facto"))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def holiday_name(day: date) -> str | None:
    name = _holidays(day.year).get(day)
    return str(name) if name else None


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (``start`` itself never counts)."""
    if count < 0:
        raise ValueError("antalet arbetsdagar kan inte vara negativt")
    if count > MAX_WORKING_DAYS:  # scripts call this in-process (costs.py): its work must stay bounded
        raise ValueError(f"högst {MAX_WORKING_DAYS} arbetsdagar")
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_deadline(start: datetime, count: int) -> datetime:
    """End of the working day (23:59:59 Stockholm) ``count`` working days after ``start``, in UTC."""
    local_day = start.astimezone(STOCKHOLM).date()
    end = datetime.combine(add_working_days(local_day, count), time(23, 59, 59), STOCKHOLM)
    return end.astimezone(clock.now().tzinfo)


def working_days(count: int) -> str:
    """Script helper for timer expressions: ``<bpmn:timeDate>working_days(10)</bpmn:timeDate>``."""
    return working_days_deadline(clock.now(), int(count)).isoformat()


def last_day_of_period(start: date, days: int) -> date:
    """The last day of a statutory period of ``days`` days counted from ``start``. Lag (1930:173) om beräkning
    av lagstadgad tid 2 § moves a last day that falls on a Saturday, Sunday, other allmän helgdag,
    midsommarafton, julafton or nyårsafton to the next vardag: exactly the days is_working_day refuses."""
    day = start + timedelta(days=int(days))
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def appeal_period_end(posted_on: str) -> str:
    """Script helper: the end (Stockholm) of the last day to appeal a decision. KL 13 kap. 6 §: three weeks
    from the day the justering was announced on the anslagstavla, moved by lag (1930:173)."""
    return _end_of(last_day_of_period(date.fromisoformat(posted_on), APPEAL_PERIOD_DAYS))


def end_of_day_after(day: str, days: int) -> str:
    """Script helper: the end of the last day of a statutory period of ``days`` days from ``day`` (ISO date),
    moved by lag (1930:173) like appeal_period_end. Versions of agreement_adoption.bpmn deployed before
    December 2026 time the appeal with ``end_of_day_after(posted_on, 21)``; their running cases keep this name."""
    return _end_of(last_day_of_period(date.fromisoformat(day), int(days)))


def end_of_day(day: str) -> str:
    """Script helper: the end of an ISO date in Stockholm, e.g. a consultation's last day (a date the
    coordinator chose, not a statutory period: never moved)."""
    return _end_of(date.fromisoformat(day))


def _end_of(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), STOCKHOLM).isoformat()


def add_period(start: str, duration: str, times: int) -> str:
    """Script helper: ``start`` (ISO moment) plus ``times`` × ``duration`` (ISO 8601, calendar-aware), e.g. the
    n-th yearly follow-up counted from activation: exact anniversaries, however late earlier ones were done."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    moment = datetime.fromisoformat(start)
    if moment.tzinfo is None:
        raise ValueError(f"add_period: '{start}' saknar tidszon")
    parts = TimerEventDefinition.parse_iso_duration(duration)
    scaled = {unit: value * int(times) for unit, value in parts.items()}
    return (moment + TimerEventDefinition.get_timedelta_from_start(scaled, moment)).isoformat()
