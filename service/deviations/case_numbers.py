"""Diarienummer in each party's own series: PREFIX-YEAR-NNNN, numbered without gaps per party and year."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from service.deviations.models import CaseNumberSeries
from service.extensions import db

DEVIATION_PREFIX = "AV"
DISPUTE_PREFIX = "TV"


def next_case_number(organisation_id: int, prefix: str, year: int) -> str:
    """Take the next number in the party's series; the row stays locked until commit (no duplicates)."""
    _ensure_series(organisation_id, prefix, year)
    statement = (update(CaseNumberSeries)
                 .where(CaseNumberSeries.organisation_id == organisation_id, CaseNumberSeries.prefix == prefix,
                        CaseNumberSeries.year == year)
                 .values(last_number=CaseNumberSeries.last_number + 1)
                 .returning(CaseNumberSeries.last_number)
                 .execution_options(synchronize_session=False))
    number = int(db.session.execute(statement).scalar_one())
    return f"{prefix}-{year}-{number:04d}"


def _ensure_series(organisation_id: int, prefix: str, year: int) -> None:
    # A savepoint: when two first reports of a year race, the loser's insert fails alone and it
    # then waits on the winner's row lock in the UPDATE above.
    if db.session.get(CaseNumberSeries, (organisation_id, prefix, year)) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(CaseNumberSeries(organisation_id=organisation_id, prefix=prefix, year=year, last_number=0))
    except IntegrityError:
        pass
