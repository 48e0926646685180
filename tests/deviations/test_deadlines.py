"""Answer periods per agreement and party, in calendar units or Swedish working days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.deviations.deadlines import Deadline, parse_period, period_label
from service.errors import ValidationFailed

WEDNESDAY_BEFORE_MIDSOMMAR = datetime(2026, 6, 17, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("period", "due"), [
    ("P10D", datetime(2026, 6, 27, 9, 0, tzinfo=UTC)),
    # 18, 22, 23, 24, 25, 26, 29, 30 June, 1, 2 July: midsommarafton and weekends do not count;
    # the end of 2 July in Stockholm (CEST) is 21:59:59 UTC.
    ("P10WD", datetime(2026, 7, 2, 21, 59, 59, tzinfo=UTC)),
])
def test_due_in_calendar_or_working_days(period: str, due: datetime) -> None:
    assert Deadline(period, 0).due_from(WEDNESDAY_BEFORE_MIDSOMMAR) == due


def test_working_days_are_a_unit_of_their_own() -> None:
    assert parse_period(10, "WD") == "P10WD"
    assert period_label("P10WD") == "10 arbetsdagar" and period_label("P1WD") == "1 arbetsdag"
    with pytest.raises(ValidationFailed):
        parse_period(10, "X")
