"""Read-only queries of the inbox: the task lists (from human_tasks and its indexes only, never the engine
state), the filters they offer, saved filters, the case a task belongs to, comments and an agreement's
timeline."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import aliased

from service import access
from service.agreements.models import Agreement, AgreementParty, AgreementVersion
from service.audit.models import AuditEvent
from service.columns import now
from service.deviations.models import Deviation
from service.disputes.models import Dispute
from service.extensions import db
from service.inbox.models import CaseComment, SavedFilter
from service.parties.models import ROLE_LABELS, Organisation, Role, User
from service.processes.models import HumanTask, ProcessDefinition, ProcessInstance
from service.processes.operations import visible_to

PER_PAGE = 25
DUE_SOON = timedelta(days=3)
SORTS = ("due", "created", "name", "case")
DUE_CHOICES = ("overdue", "soon", "none")


@dataclass
class InboxFilters:
    """The inbox's URL parameters; ``args()`` gives them back without defaults (links, saved filters)."""

    lista: str = "mina"  # mina | grupp
    process: str = ""
    avtal: int | None = None
    part: int | None = None
    forfaller: str = ""  # overdue | soon | none
    senast: date | None = None  # due on or before
    q: str = ""
    sortera: str = "due"
    sida: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> InboxFilters:
        """Read the parameters leniently: an unknown or malformed value is ignored, not an error."""
        return cls(lista="grupp" if args.get("lista") == "grupp" else "mina",
                   process=str(args.get("process", ""))[:200], avtal=_int(args.get("avtal")),
                   part=_int(args.get("part")),
                   forfaller=args.get("forfaller", "") if args.get("forfaller") in DUE_CHOICES else "",
                   senast=_date(args.get("senast")), q=str(args.get("q", "")).strip()[:200],
                   sortera=args.get("sortera", "due") if args.get("sortera") in SORTS else "due",
                   sida=max(_int(args.get("sida")) or 1, 1))

    def args(self, **changes: Any) -> dict[str, str]:
        values = {**asdict(self), **changes}
        defaults = {f.name: f.default for f in fields(self)}
        # The list is always named: /uppgifter without it lands on whichever list has work.
        return {k: str(v) for k, v in values.items() if v not in (None, "") and (v != defaults[k] or k == "lista")}

    @property
    def scope(self) -> str:
        return "group" if self.lista == "grupp" else "mine"


@dataclass
class InboxRow:
    id: int
    name: str
    role: str
    organisation_name: str | None
    user_id: int | None
    claimed_by_id: int | None
    claimed_by_name: str | None
    due_at: datetime | None
    created_at: datetime
    case_title: str
    process_name: str
    agreement_id: int | None
    agreement_title: str | None

    @property
    def urgency(self) -> str:
        """"overdue" past its due moment, "soon" within three days, else ""."""
        if self.due_at is None:
            return ""
        moment = now()
        return "overdue" if self.due_at < moment else "soon" if self.due_at < moment + DUE_SOON else ""


@dataclass
class Page:
    rows: list[InboxRow]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)


def list_inbox(user: User, filters: InboxFilters, per_page: int = PER_PAGE) -> Page:
    """One page of a list: the ids by an indexed query on human_tasks, then the 25 rows' details."""
    query = _filtered(user, filters)
    total = int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    number = min(filters.sida, max(math.ceil(total / per_page), 1))
    ids = list(db.session.scalars(_sorted(query, filters.sortera).limit(per_page).offset((number - 1) * per_page)))
    details = {row.id: row for row in _details(ids)}
    return Page(rows=[details[i] for i in ids if i in details], total=total, number=number, per_page=per_page)


def _filtered(user: User, filters: InboxFilters) -> Select[Any]:
    """The ids of the tasks the list shows."""
    query = select(HumanTask.id).where(visible_to(user, filters.scope))
    # The case (process instance) only for the process filter: a join costs a lookup per matching task, and
    # the COUNT matches all of them (search and order use the task's copy of the case title).
    if filters.process:
        query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id) \
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id) \
            .where(ProcessDefinition.process_id == filters.process)
    if filters.avtal is not None:
        query = query.where(HumanTask.instance_id.in_(_instances_of_agreement(filters.avtal)))
    if filters.part is not None:
        query = query.where(HumanTask.organisation_id == filters.part)
    query = _due_filter(query, filters)
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        query = query.where(or_(func.lower(HumanTask.name).like(pattern), func.lower(HumanTask.case_title).like(pattern)))
    return query


def _due_filter(query: Select[Any], filters: InboxFilters) -> Select[Any]:
    moment = now()
    if filters.forfaller == "overdue":
        query = query.where(HumanTask.due_at < moment)
    elif filters.forfaller == "soon":
        query = query.where(HumanTask.due_at >= moment, HumanTask.due_at < moment + DUE_SOON)
    elif filters.forfaller == "none":
        query = query.where(HumanTask.due_at.is_(None))
    if filters.senast is not None:
        end = datetime.combine(filters.senast + timedelta(days=1), time(), ZoneInfo("Europe/Stockholm"))
        query = query.where(HumanTask.due_at < end)
    return query


def _sorted(query: Select[Any], sort: str) -> Select[Any]:
    if sort == "created":
        return query.order_by(HumanTask.created_at.desc(), HumanTask.id.desc())
    if sort == "name":
        return query.order_by(HumanTask.name, HumanTask.id)
    if sort == "case":
        return query.order_by(HumanTask.case_title, HumanTask.id)
    return query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)


def _instances_of_agreement(agreement_id: int) -> Any:
    """Every process instance of an agreement's cases: its versions' adoptions, its lifecycle, its
    deviations and disputes (each lookup by an indexed or unique column)."""
    return union_all(
        select(AgreementVersion.instance_id).where(AgreementVersion.agreement_id == agreement_id),
        select(Agreement.lifecycle_instance_id).where(Agreement.id == agreement_id),
        select(Deviation.instance_id).where(Deviation.agreement_id == agreement_id),
        select(Dispute.instance_id).where(Dispute.agreement_id == agreement_id),
    )


def _details(ids: list[int]) -> list[InboxRow]:
    if not ids:
        return []
    claimer, lifecycle = aliased(User), aliased(Agreement)
    agreement_id = func.coalesce(AgreementVersion.agreement_id, lifecycle.id, Deviation.agreement_id,
                                 Dispute.agreement_id)
    titled = aliased(Agreement)
    query = (
        select(HumanTask.id, HumanTask.name, HumanTask.role, Organisation.name, HumanTask.user_id,
               HumanTask.claimed_by_id, claimer.display_name, HumanTask.due_at, HumanTask.created_at,
               ProcessInstance.title, ProcessDefinition.name, agreement_id, titled.title)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .outerjoin(Organisation, Organisation.id == HumanTask.organisation_id)
        .outerjoin(claimer, claimer.id == HumanTask.claimed_by_id)
        .outerjoin(AgreementVersion, AgreementVersion.instance_id == HumanTask.instance_id)
        .outerjoin(lifecycle, lifecycle.lifecycle_instance_id == HumanTask.instance_id)
        .outerjoin(Deviation, Deviation.instance_id == HumanTask.instance_id)
        .outerjoin(Dispute, Dispute.instance_id == HumanTask.instance_id)
        .outerjoin(titled, titled.id == agreement_id)
        .where(HumanTask.id.in_(ids)))
    return [InboxRow(*row) for row in db.session.execute(query)]  # type: ignore[call-arg]


def filter_choices(user: User) -> dict[str, list[tuple[Any, str]]]:
    """What the filter form offers: processes, the user's agreements, the organisations of their groups."""
    processes = db.session.execute(select(ProcessDefinition.process_id, func.max(ProcessDefinition.name))
                                   .group_by(ProcessDefinition.process_id).order_by(func.max(ProcessDefinition.name)))
    organisation_ids = {m.organisation_id for m in user.memberships}
    party_of = select(AgreementParty.agreement_id).where(AgreementParty.organisation_id.in_(organisation_ids))
    agreements = db.session.execute(select(Agreement.id, Agreement.title).where(or_(
        Agreement.coordinator_organisation_id.in_(organisation_ids), Agreement.id.in_(party_of)))
        .order_by(Agreement.title).limit(500))
    organisations = db.session.execute(select(Organisation.id, Organisation.name)
                                       .where(Organisation.id.in_(organisation_ids)).order_by(Organisation.name))
    return {"processes": [(r[0], str(r[1])) for r in processes], "agreements": [(r[0], r[1]) for r in agreements],
            "parties": [(r[0], r[1]) for r in organisations]}


def list_saved_filters(user: User) -> list[SavedFilter]:
    """The user's own filters and those shared with a group they belong to."""
    groups = sorted(user.groups())
    shared = tuple_(SavedFilter.shared_organisation_id, SavedFilter.shared_role).in_(groups) if groups else literal(False)
    return list(db.session.scalars(select(SavedFilter).where(or_(SavedFilter.owner_id == user.id, shared))
                                   .order_by(SavedFilter.name, SavedFilter.id)))


@dataclass(frozen=True)
class Case:
    """What a process instance is about: ``kind`` agreement, deviation, dispute or instance."""

    kind: str
    id: int
    title: str
    subject: Any


def case_of(instance: ProcessInstance) -> Case:
    version = db.session.scalar(select(AgreementVersion).where(AgreementVersion.instance_id == instance.id))
    agreement = version.agreement if version is not None else db.session.scalar(
        select(Agreement).where(Agreement.lifecycle_instance_id == instance.id))
    if agreement is not None:
        return Case("agreement", agreement.id, agreement.title, agreement)
    deviation = db.session.scalar(select(Deviation).where(Deviation.instance_id == instance.id))
    if deviation is not None:
        return Case("deviation", deviation.id, deviation.case_number, deviation)
    dispute = db.session.scalar(select(Dispute).where(Dispute.instance_id == instance.id))
    if dispute is not None:
        return Case("dispute", dispute.id, dispute.case_number, dispute)
    return Case("instance", instance.id, instance.title, instance)


def get_case(kind: str, case_id: int) -> Case | None:
    model = {"agreement": Agreement, "deviation": Deviation, "dispute": Dispute, "instance": ProcessInstance}.get(kind)
    subject = db.session.get(model, case_id) if model is not None else None
    if subject is None:
        return None
    title = getattr(subject, "title", None) or getattr(subject, "case_number", "")
    return Case(kind, case_id, str(title), subject)


def can_view_case(user: User, case: Case) -> bool:
    """Everyone with access to the case: its parties (the domain's rule), auditors, and whoever has a task in it."""
    rule = {"agreement": access.can_view_agreement, "deviation": access.can_view_deviation,
            "dispute": access.can_view_dispute}.get(case.kind)
    if rule is not None and rule(user, case.subject):
        return True
    if case.kind == "instance":
        instance_ids = [case.id]
    elif case.kind == "agreement":
        instance_ids = [i for i in db.session.scalars(_instances_of_agreement(case.id)) if i is not None]
    else:
        instance_ids = [case.subject.instance_id] if case.subject.instance_id else []
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids)))
    return access.can_read_everything(user) or any(access.can_view_task(user, task) for task in tasks)


def list_comments(case: Case) -> list[CaseComment]:
    return list(db.session.scalars(select(CaseComment).where(
        CaseComment.case_type == case.kind, CaseComment.case_id == case.id).order_by(CaseComment.created_at, CaseComment.id)))


def agreement_timeline(agreement: Agreement, limit: int = 300) -> list[AuditEvent]:
    """The audit events of the agreement and of every process instance of it, oldest first."""
    instance_ids = [i for i in db.session.scalars(
        select(AgreementVersion.instance_id).where(AgreementVersion.agreement_id == agreement.id)) if i is not None]
    if agreement.lifecycle_instance_id is not None:
        instance_ids.append(agreement.lifecycle_instance_id)
    return list(db.session.scalars(select(AuditEvent).where(or_(
        AuditEvent.instance_id.in_(instance_ids),
        and_(AuditEvent.subject_type == Agreement.__tablename__, AuditEvent.subject_id == str(agreement.id))))
        .order_by(AuditEvent.seq).limit(limit)))


def list_related(user: User, agreement: Agreement) -> tuple[list[Deviation], list[Dispute]]:
    """The agreement's deviations and disputes that ``user`` may see."""
    deviations = db.session.scalars(select(Deviation).where(Deviation.agreement_id == agreement.id)
                                    .order_by(Deviation.reported_at.desc()).limit(200))
    disputes = db.session.scalars(select(Dispute).where(Dispute.agreement_id == agreement.id)
                                  .order_by(Dispute.opened_at.desc()).limit(200))
    return ([d for d in deviations if access.can_view_deviation(user, d)],
            [d for d in disputes if access.can_view_dispute(user, d)])


def list_agreements(user: User, status: str = "", party: int | None = None, q: str = "") -> list[Agreement]:
    """The agreements ``user`` may see (auditors: all), filtered by status, party and words of the title."""
    query = select(Agreement)
    if not access.can_read_everything(user):
        organisation_ids = {m.organisation_id for m in user.memberships}
        party_of = select(AgreementParty.agreement_id).where(AgreementParty.organisation_id.in_(organisation_ids))
        query = query.where(or_(Agreement.coordinator_organisation_id.in_(organisation_ids), Agreement.id.in_(party_of)))
    if status:
        query = query.where(Agreement.status == status)
    if party is not None:
        query = query.where(Agreement.id.in_(select(AgreementParty.agreement_id).where(AgreementParty.organisation_id == party)))
    if q:
        query = query.where(func.lower(Agreement.title).like(f"%{q.lower()}%"))
    return list(db.session.scalars(query.order_by(Agreement.created_at.desc(), Agreement.id.desc()).limit(500)))


def group_choices(user: User) -> list[tuple[str, str]]:
    """The user's groups as form choices "organisation_id:role"."""
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)).all())
    return [(f"{org}:{role}", f"{_(ROLE_LABELS[Role(role)])}, {names.get(org, org)}") for org, role in sorted(user.groups())]


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None
