"""The auditors' case list: every agreement, deviation and dispute with its parties, dates and status, searched,
filtered and paged by the database in one statement per page (no query per row).

It shows titles and case numbers only, no case content, so reading it writes no access-log row
(service/history/access_hooks.py skips the history pages; the case pages log their own reads).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, String, and_, case, cast, exists, func, literal, select, union, union_all
from sqlalchemy.sql.selectable import Subquery

from service.agreements.models import STATUS_LABELS, Agreement, AgreementParty, AgreementVersion
from service.audit.models import AuditEvent
from service.deviations.models import DEVIATION_STATUS_LABELS, Deviation, DeviationReceiver
from service.disputes.models import DISPUTE_STATUS_LABELS, Dispute
from service.extensions import db
from service.parties.models import Organisation

PER_PAGE = 25
LOCAL = ZoneInfo("Europe/Stockholm")
# Status labels by case type; the status filter's values are "type:status" (types share status names).
STATUSES: dict[str, Mapping[Any, str]] = {"agreement": STATUS_LABELS, "deviation": DEVIATION_STATUS_LABELS,
                                         "dispute": DISPUTE_STATUS_LABELS}
_TABLES = {"agreement": "agreements", "deviation": "deviations", "dispute": "disputes"}
_SEPARATOR = "\n"  # between organisation names in one aggregated column (a name has no line break)


@dataclass
class CaseListFilters:
    """The list's URL parameters (Swedish, like the inbox's); ``args()`` gives them back without defaults."""

    q: str = ""
    typ: str = ""
    part: int | None = None
    status: str = ""  # "deviation:open"
    fran: date | None = None  # started on or after
    till: date | None = None  # started on or before
    sida: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseListFilters:
        """Read the parameters leniently: an unknown or malformed value is ignored, not an error."""
        status = str(args.get("status", ""))
        kind, _sep, value = status.partition(":")
        return cls(q=str(args.get("q", "")).strip()[:200], typ=args.get("typ", "") if args.get("typ") in STATUSES else "",
                   part=_int(args.get("part")), status=status if value in STATUSES.get(kind, {}) else "",
                   fran=_date(args.get("fran")), till=_date(args.get("till")), sida=max(_int(args.get("sida")) or 1, 1))

    def args(self, **changes: Any) -> dict[str, str]:
        values = {**asdict(self), **changes}
        defaults = {f.name: f.default for f in fields(self)}
        return {k: str(v) for k, v in values.items() if v not in (None, "") and v != defaults[k]}


@dataclass(frozen=True)
class CaseRow:
    case_type: str
    id: int
    title: str
    parties: list[str]
    started_at: datetime
    last_event_at: datetime
    status: str

    @property
    def type_label(self) -> str:
        from service.audit.cases import CASE_TYPE_LABELS

        return _(CASE_TYPE_LABELS[self.case_type])

    @property
    def status_label(self) -> str:
        labels = STATUSES[self.case_type]
        return _(labels[self.status]) if self.status in labels else self.status


@dataclass
class CasePage:
    rows: list[CaseRow]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)


def list_case_page(filters: CaseListFilters, per_page: int = PER_PAGE) -> CasePage:
    """One page of the cases, last event first; the total comes with the rows (COUNT(*) OVER ())."""
    query = _page_query(filters)
    number = filters.sida
    result = db.session.execute(query.limit(per_page).offset((number - 1) * per_page)).all()
    if not result and number > 1:  # a page past the end (an old link): show the last one
        total = int(db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
        number = max(math.ceil(total / per_page), 1)
        result = db.session.execute(query.limit(per_page).offset((number - 1) * per_page)).all()
    rows = [_row(found) for found in result]
    return CasePage(rows=rows, total=int(result[0].total) if result else 0, number=number, per_page=per_page)


def list_party_choices() -> list[tuple[int, str]]:
    """The organisations a case can name, for the party filter."""
    return [(row.id, row.name) for row in db.session.execute(select(Organisation.id, Organisation.name)
                                                             .order_by(Organisation.name))]


def _row(found: Any) -> CaseRow:
    parties = sorted(set((found.parties or "").split(_SEPARATOR)) - {""})
    last = found.last_event_at or found.started_at
    return CaseRow(case_type=found.case_type, id=int(found.id), title=str(found.title), parties=parties,
                   started_at=found.started_at, last_event_at=last, status=str(found.status))


def _page_query(filters: CaseListFilters) -> Select[Any]:
    cases = _cases()
    organisations = _case_organisations()
    names = (select(organisations.c.case_type, organisations.c.case_id,
                    func.aggregate_strings(Organisation.name, _SEPARATOR).label("names"))
             .join(Organisation, Organisation.id == organisations.c.organisation_id)
             .group_by(organisations.c.case_type, organisations.c.case_id).subquery())
    last = _last_events(cases)
    last_at = func.coalesce(last.c.at, cases.c.started_at)
    query = (select(cases.c.case_type, cases.c.id, cases.c.title, cases.c.started_at, cases.c.status,
                    names.c.names.label("parties"), last.c.at.label("last_event_at"),
                    func.count().over().label("total"))
             .outerjoin(names, and_(names.c.case_type == cases.c.case_type, names.c.case_id == cases.c.id))
             .outerjoin(last, and_(last.c.case_type == cases.c.case_type, last.c.case_id == cases.c.id)))
    query = query.where(*_conditions(filters, cases, organisations))
    return query.order_by(last_at.desc(), cases.c.case_type, cases.c.id.desc())


def _conditions(filters: CaseListFilters, cases: Subquery, organisations: Subquery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.q:
        conditions.append(cases.c.title.icontains(filters.q, autoescape=True))
    if filters.typ:
        conditions.append(cases.c.case_type == filters.typ)
    if filters.status:
        kind, _sep, value = filters.status.partition(":")
        conditions.append(and_(cases.c.case_type == kind, cases.c.status == value))
    if filters.part is not None:
        conditions.append(exists().where(organisations.c.case_type == cases.c.case_type,
                                         organisations.c.case_id == cases.c.id,
                                         organisations.c.organisation_id == filters.part))
    if filters.fran is not None:
        conditions.append(cases.c.started_at >= datetime.combine(filters.fran, time(), LOCAL))
    if filters.till is not None:
        conditions.append(cases.c.started_at < datetime.combine(filters.till + timedelta(days=1), time(), LOCAL))
    return conditions


def _cases() -> Subquery:
    """Every case: type, id, title (an agreement's title, a case number otherwise), start and status."""
    return union_all(
        select(literal("agreement").label("case_type"), Agreement.id.label("id"), Agreement.title.label("title"),
               Agreement.created_at.label("started_at"), Agreement.status.label("status")),
        select(literal("deviation"), Deviation.id, Deviation.case_number, Deviation.reported_at, Deviation.status),
        select(literal("dispute"), Dispute.id, Dispute.case_number, Dispute.opened_at, Dispute.status),
    ).subquery("cases")


def _case_organisations() -> Subquery:
    """The parties of each case: an agreement's parties, a deviation's reporter and receivers, and the parties
    to a dispute's agreement."""
    return union(
        select(literal("agreement").label("case_type"), AgreementParty.agreement_id.label("case_id"),
               AgreementParty.organisation_id.label("organisation_id")),
        select(literal("deviation"), Deviation.id, Deviation.reporting_organisation_id),
        select(literal("deviation"), DeviationReceiver.deviation_id, DeviationReceiver.organisation_id),
        select(literal("dispute"), Dispute.id, AgreementParty.organisation_id)
        .join(AgreementParty, AgreementParty.agreement_id == Dispute.agreement_id),
    ).subquery("case_organisations")


def _last_events(cases: Subquery) -> Subquery:
    """The moment of each case's last audit event: of its process instances or of its record
    (as service/audit/cases.case_events finds a case's events)."""
    instances = union_all(
        select(literal("agreement").label("case_type"), AgreementVersion.agreement_id.label("case_id"),
               AgreementVersion.instance_id.label("instance_id")),
        select(literal("agreement"), Agreement.id, Agreement.lifecycle_instance_id),
        select(literal("deviation"), Deviation.id, Deviation.instance_id),
        select(literal("dispute"), Dispute.id, Dispute.instance_id),
    ).subquery("case_instances")
    by_instance = (select(AuditEvent.instance_id, func.max(AuditEvent.occurred_at).label("at"))
                   .where(AuditEvent.instance_id.is_not(None)).group_by(AuditEvent.instance_id).subquery())
    by_subject = (select(AuditEvent.subject_type, AuditEvent.subject_id, func.max(AuditEvent.occurred_at).label("at"))
                  .where(AuditEvent.subject_type.in_(_TABLES.values()))
                  .group_by(AuditEvent.subject_type, AuditEvent.subject_id).subquery())
    table = _table_of(cases.c.case_type)
    moments = union_all(
        select(instances.c.case_type, instances.c.case_id, by_instance.c.at)
        .join(by_instance, by_instance.c.instance_id == instances.c.instance_id),
        select(cases.c.case_type, cases.c.id, by_subject.c.at)
        .join(by_subject, and_(by_subject.c.subject_type == table, by_subject.c.subject_id == cast(cases.c.id, String))),
    ).subquery("case_moments")
    return (select(moments.c.case_type, moments.c.case_id, func.max(moments.c.at).label("at"))
            .group_by(moments.c.case_type, moments.c.case_id).subquery("last_events"))


def _table_of(case_type: Any) -> ColumnElement[Any]:
    """The table whose rows are a case of this type (audit events name their subject by table)."""
    return case(_TABLES, value=case_type)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
