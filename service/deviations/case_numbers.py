"""Case numbers, PREFIX-YEAR-NNNN: one series per prefix (AV deviations, TV disputes) and year, gap-free.

One number names one case, and every party to it uses that number (issue #18: with a series per party, two
different deviations were both AV-2026-0022 in one inbox). The unique constraints on ``deviations`` and
``disputes`` refuse a repeat; migration d4a7e2c92320 renumbered the repeats made before, keeping the old
numbers in the audit log.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from service.deviations.models import CaseNumberSeries
from service.extensions import db

DEVIATION_PREFIX = "AV"
DISPUTE_PREFIX = "TV"


def next_case_number(prefix: str, year: int) -> str:
    """Take the next number of the series and year.

    One INSERT … ON CONFLICT DO UPDATE … RETURNING, the same statement on PostgreSQL and SQLite: the first
    number of a year creates the row, later ones move it, and the row stays locked (PostgreSQL) or the database
    written (SQLite) until commit, so two transactions never take one number; a rolled-back case gives its
    number back."""
    table = CaseNumberSeries.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(table).values(prefix=prefix, year=year, last_number=1)
                 .on_conflict_do_update(index_elements=[table.c.prefix, table.c.year],
                                        set_={"last_number": table.c.last_number + 1})
                 .returning(table.c.last_number))
    number = int(db.session.execute(statement).scalar_one())
    return f"{prefix}-{year}-{number:04d}"
