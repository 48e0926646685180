"""The numbers the steering and development groups follow: deviations by category, party, month and quarter,
time to answer, late answers, open disputes by level. Read from our tables only (never from workflow state)."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select

from service.deviations.models import CATEGORY_LABELS, Deviation, DeviationCategory, DeviationReceiver
from service.disputes.models import LEVEL_LABELS, LEVELS, Dispute, DisputeParty, DisputeStatus
from service.extensions import db
from service.parties.models import Organisation

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


@dataclass(frozen=True)
class Scope:
    """An agreement's deviations, several agreements' (a collaboration's: ``agreement_ids``), or those a party
    sent or received; optionally one calendar year."""

    title: str
    agreement_id: int | None = None
    agreement_ids: frozenset[int] | None = None
    organisation_id: int | None = None
    year: int | None = None


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int


@dataclass
class Statistics:
    scope: Scope
    total: int = 0
    by_category: list[Row] = field(default_factory=list)
    by_reporting: list[Row] = field(default_factory=list)
    by_receiving: list[Row] = field(default_factory=list)
    by_month: list[Row] = field(default_factory=list)
    by_quarter: list[Row] = field(default_factory=list)
    answered: int = 0
    answered_late: int = 0
    median_answer_days: float | None = None
    open_disputes_by_level: list[Row] = field(default_factory=list)

    @property
    def late_share_percent(self) -> float | None:
        return round(100 * self.answered_late / self.answered, 1) if self.answered else None

    @property
    def open_disputes(self) -> int:
        return sum(row.count for row in self.open_disputes_by_level)


def deviation_statistics(scope: Scope) -> Statistics:
    """Every figure of the statistics page for ``scope``."""
    deviations = db.session.execute(_deviation_query(scope)).all()
    receivers = list(db.session.scalars(_receiver_query(scope)))
    names = _organisation_names()
    result = Statistics(scope=scope, total=len(deviations))
    result.by_category = _categories(Counter(final or first for _, first, final, _, _ in deviations))
    result.by_reporting = _parties(Counter(reporting for _, _, _, reporting, _ in deviations), names)
    result.by_receiving = _parties(Counter(r.organisation_id for r in receivers), names)
    moments = [_local(row[4]) for row in deviations]
    result.by_month, result.by_quarter = _months(moments, scope.year), _quarters(moments, scope.year)
    _answer_times(result, [r for r in receivers if scope.organisation_id in (None, r.organisation_id)])
    result.open_disputes_by_level = _open_disputes(scope)
    return result


# One row per deviation: (id, category, final_category, reporting_organisation_id, reported_at).
_COLUMNS = (Deviation.id, Deviation.category, Deviation.final_category, Deviation.reporting_organisation_id,
            Deviation.reported_at)


def _deviation_query(scope: Scope) -> Select[int, str, str | None, int, datetime]:
    query = select(*_COLUMNS)
    if scope.agreement_id is not None:
        query = query.where(Deviation.agreement_id == scope.agreement_id)
    if scope.agreement_ids is not None:
        query = query.where(Deviation.agreement_id.in_(sorted(scope.agreement_ids)))
    if scope.organisation_id is not None:
        received = select(DeviationReceiver.deviation_id).where(DeviationReceiver.organisation_id == scope.organisation_id)
        query = query.where(or_(Deviation.reporting_organisation_id == scope.organisation_id, Deviation.id.in_(received)))
    if scope.year is not None:
        start, end = _year_bounds(scope.year)
        query = query.where(Deviation.reported_at >= start, Deviation.reported_at < end)
    return query


def _receiver_query(scope: Scope) -> Select[Any]:
    ids = _deviation_query(scope).with_only_columns(Deviation.id)
    return select(DeviationReceiver).where(DeviationReceiver.deviation_id.in_(ids))


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=STOCKHOLM).astimezone(UTC)
    return start, datetime(year + 1, 1, 1, tzinfo=STOCKHOLM).astimezone(UTC)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(STOCKHOLM)


def _organisation_names() -> dict[int, str]:
    return dict(db.session.execute(select(Organisation.id, Organisation.name)).all())


def _categories(counts: Counter[str]) -> list[Row]:
    return [Row(str(c), _(CATEGORY_LABELS[c]), counts.get(str(c), 0)) for c in DeviationCategory]


def _parties(counts: Counter[int], names: dict[int, str]) -> list[Row]:
    return sorted((Row(str(i), names.get(i, str(i)), n) for i, n in counts.items()), key=lambda r: (-r.count, r.label))


def _months(moments: Iterable[datetime], year: int | None) -> list[Row]:
    counts = Counter((m.year, m.month) for m in moments)
    keys = [(year, month) for month in range(1, 13)] if year is not None else _month_range(sorted(counts))
    return [Row(f"{y}-{m:02d}", f"{MONTHS[m - 1]} {y}", counts.get((y, m), 0)) for y, m in keys]


def _month_range(present: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not present:
        return []
    (year, month), last = present[0], present[-1]
    keys = []
    while (year, month) <= last:
        keys.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def _quarters(moments: Iterable[datetime], year: int | None) -> list[Row]:
    counts = Counter((m.year, (m.month - 1) // 3 + 1) for m in moments)
    keys = [(year, q) for q in range(1, 5)] if year is not None else sorted(counts)
    return [Row(f"{y}-Q{q}", f"K{q} {y}", counts.get((y, q), 0)) for y, q in keys]


def _answer_times(result: Statistics, receivers: list[DeviationReceiver]) -> None:
    answered = [r for r in receivers if r.first_answered_at is not None]
    result.answered = len(answered)
    result.answered_late = sum(1 for r in answered if r.is_answered_late)
    days = [(r.first_answered_at - r.sent_at).total_seconds() / 86400 for r in answered if r.first_answered_at]
    result.median_answer_days = round(statistics.median(days), 1) if days else None


def _open_disputes(scope: Scope) -> list[Row]:
    query = select(Dispute.level, func.count()).where(Dispute.status == DisputeStatus.OPEN).group_by(Dispute.level)
    if scope.agreement_id is not None:
        query = query.where(Dispute.agreement_id == scope.agreement_id)
    if scope.agreement_ids is not None:
        query = query.where(Dispute.agreement_id.in_(sorted(scope.agreement_ids)))
    if scope.organisation_id is not None:
        parties = select(DisputeParty.dispute_id).where(DisputeParty.organisation_id == scope.organisation_id)
        query = query.where(Dispute.id.in_(parties))
    counts = dict(db.session.execute(query).all())
    return [Row(str(level), _(LEVEL_LABELS[level]), int(counts.get(str(level), 0))) for level in LEVELS]


def swedish_number(value: float | None) -> str:
    """12.5 -> '12,5' (and '–' for no value)."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def to_csv(result: Statistics) -> str:
    """The figures as semicolon-separated CSV (what Excel expects in Sweden), one figure per line."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Avsnitt", "Nyckel", "Benämning", "Värde"])
    writer.writerow(["Totalt", "avvikelser", "Antal avvikelser", result.total])
    sections = (("Kategori", result.by_category), ("Rapporterande part", result.by_reporting),
                ("Mottagande part", result.by_receiving), ("Månad", result.by_month), ("Kvartal", result.by_quarter),
                ("Öppna tvister per nivå", result.open_disputes_by_level))
    for section, rows in sections:
        writer.writerows([section, row.key, row.label, row.count] for row in rows)
    writer.writerow(["Svarstid", "besvarade", "Besvarade (mottagande part)", result.answered])
    writer.writerow(["Svarstid", "sena", "Besvarade efter sista svarsdag", result.answered_late])
    writer.writerow(["Svarstid", "andel_sena_procent", "Andel sena svar (%)", swedish_number(result.late_share_percent)])
    writer.writerow(["Svarstid", "median_dagar", "Median antal dagar till svar", swedish_number(result.median_answer_days)])
    return out.getvalue()
