"""The appeal period against the law, with the law's calendar written here and not taken from the app.

KL 13 kap. 6 §: an appeal must arrive within three weeks from the day the justering was announced on the
anslagstavla. Lag (1930:173) om beräkning av lagstadgad tid 2 §: a last day on a Saturday, Sunday, other
allmän helgdag, midsommarafton, julafton or nyårsafton moves to the next vardag. Allmänna helgdagar are those
of lag (1989:253) om allmänna helgdagar; Easter comes from the Gregorian computus.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service import clock
from service.engine import calendar
from tests.engine.test_agreement_adoption import PARTIES, Case, text

YEARS = (2026, 2027, 2028)


def easter_sunday(year: int) -> date:
    """The anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _weekday_between(year: int, month: int, first: int, last: int, weekday: int) -> date:
    return next(date(year, month, day) for day in range(first, last + 1) if date(year, month, day).weekday() == weekday)


def closed_days(year: int) -> set[date]:
    """Allmänna helgdagar (1989:253) and the three aftnar of lag 1930:173, for one year."""
    easter = easter_sunday(year)
    midsommardagen = _weekday_between(year, 6, 20, 26, 5)  # the Saturday 20–26 June
    alla_helgons_dag = next(day for day in (date(year, 10, 31) + timedelta(days=n) for n in range(7)) if day.weekday() == 5)
    return {
        date(year, 1, 1), date(year, 1, 6), easter - timedelta(days=2), easter, easter + timedelta(days=1),
        date(year, 5, 1), easter + timedelta(days=39), date(year, 6, 6), easter + timedelta(days=49),
        midsommardagen, alla_helgons_dag, date(year, 12, 25), date(year, 12, 26),
        midsommardagen - timedelta(days=1), date(year, 12, 24), date(year, 12, 31),
    }


CLOSED = set().union(*(closed_days(year) for year in (*YEARS, YEARS[-1] + 1)))


def last_day_by_law(posted_on: date) -> date:
    day = posted_on + timedelta(weeks=3)
    while day.weekday() >= 5 or day in CLOSED:
        day += timedelta(days=1)
    return day


def test_the_oracle_knows_easter_and_midsummer() -> None:
    assert [easter_sunday(year) for year in YEARS] == [date(2026, 4, 5), date(2027, 3, 28), date(2028, 4, 16)]
    assert date(2026, 6, 19) in CLOSED and date(2027, 6, 25) in CLOSED and date(2028, 6, 23) in CLOSED


def test_every_anslag_day_of_2026_to_2028_gives_the_law_s_last_day() -> None:
    posted = [date(YEARS[0], 1, 1) + timedelta(days=n) for n in range((date(YEARS[-1], 12, 31) - date(YEARS[0], 1, 1)).days + 1)]
    wrong = []
    moved = 0
    for day in posted:
        expected = last_day_by_law(day)
        moved += expected != day + timedelta(weeks=3)
        end = datetime.fromisoformat(calendar.appeal_period_end(day.isoformat()))
        if end.date() != expected or (end.hour, end.minute, end.second) != (23, 59, 59):
            wrong.append((day, end, expected))
    assert not wrong, wrong[:5]
    assert moved > 300  # the rule matters on about a third of the days: the oracle is not the naive sum


@pytest.mark.parametrize(("posted_on", "last_day"), [
    ("2026-12-11", "2027-01-04"),  # nyårsdagen (Friday), then a weekend
    ("2026-12-03", "2026-12-28"),  # julafton, juldagen, annandag jul, then a Sunday (2026-12-27)
    ("2027-06-04", "2027-06-28"),  # midsommarafton, midsommardagen, Sunday
    ("2028-04-21", "2028-05-12"),  # an ordinary Friday stays (21 days later, Friday 12 May)
])
def test_known_cases(posted_on: str, last_day: str) -> None:
    assert calendar.appeal_period_end(posted_on).startswith(last_day + "T23:59:59")
    assert calendar.end_of_day_after(posted_on, 21) == calendar.appeal_period_end(posted_on)


def test_the_adoption_diagram_waits_until_the_end_of_the_moved_last_day() -> None:
    clock.freeze(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    try:
        case = Case()
        case.complete("draft", text(parties={"1": PARTIES["1"]}))
        case.complete("receive_proposal", {"received_on": "2026-12-01", "diarienummer": "1/26",
                                             "with_preparation": False}, 1)
        case.complete("decide", {"outcome": "adopted", "route": "decision_with_posting", "reason": None}, 1)
        case.complete("record_minutes", {"minutes_approved_on": "2026-12-10", "posted_on": "2026-12-11"}, 1)
        due = {t.bpmn_id: t.due_at for t in case.waiting()}["appeal_period_over"]
        assert due == datetime(2027, 1, 4, 23, 59, 59, tzinfo=ZoneInfo("Europe/Stockholm"))
        clock.freeze(datetime(2027, 1, 4, 22, 0, tzinfo=UTC))  # 23:00 on the last day: appeals still come in
        assert case.fire_timers() == []
        clock.freeze(datetime(2027, 1, 4, 23, 0, tzinfo=UTC))  # the first moment of 5 January in Stockholm
        assert "agreement_adopted" in case.fire_timers()
    finally:
        clock.reset()
