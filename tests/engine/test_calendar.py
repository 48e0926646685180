"""Swedish working days: weekends, public holidays, and the eves public bodies close on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from service.engine import calendar


@pytest.mark.parametrize(("start", "count", "expected"), [
    (date(2026, 6, 17), 2, date(2026, 6, 22)),    # midsommarafton (Fri) and the weekend are skipped
    (date(2026, 12, 18), 10, date(2027, 1, 8)),   # julafton, juldagen, annandag, nyårsafton, nyårsdagen, trettondagen
    (date(2026, 4, 1), 2, date(2026, 4, 7)),      # långfredagen and annandag påsk
    (date(2026, 5, 13), 1, date(2026, 5, 15)),    # Kristi himmelsfärdsdag
    (date(2026, 11, 23), 5, date(2026, 11, 30)),  # an ordinary week
    (date(2026, 11, 23), 0, date(2026, 11, 23)),
])
def test_add_working_days(start: date, count: int, expected: date) -> None:
    assert calendar.add_working_days(start, count) == expected


@pytest.mark.parametrize(("day", "is_working"), [
    (date(2026, 6, 19), False), (date(2026, 12, 24), False), (date(2026, 12, 31), False),
    (date(2026, 6, 6), False), (date(2026, 6, 18), True), (date(2026, 12, 23), True),
])
def test_is_working_day(day: date, is_working: bool) -> None:
    assert calendar.is_working_day(day) is is_working


def test_deadline_is_end_of_day_in_stockholm() -> None:
    # Winter time (UTC+1): 23:59:59 in Stockholm is 22:59:59 UTC.
    assert calendar.working_days_deadline(datetime(2026, 12, 18, 15, 0, tzinfo=UTC), 10) == datetime(
        2027, 1, 8, 22, 59, 59, tzinfo=UTC)
    assert calendar.holiday_name(date(2026, 6, 19)) == "Midsommarafton"


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 1, 1), -1)
