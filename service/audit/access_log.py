"""The access log: who read which case, when. Kept apart from the hash chain and for at least five years.

Every read of a case's content writes a row: the web pages (service/history/access_hooks.py), the API
(service/api/access_logging.py) and the exports and archive packages, on the web and from the command line.
A case is an agreement, deviation or dispute, or ("instance", id) for a process instance that belongs to none.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from service.audit.models import AccessLogEntry
from service.columns import now
from service.extensions import db
from service.parties.models import User

MINIMUM_RETENTION_YEARS = 5


CaseKey = tuple[str, int]
# URL arguments that name a case directly.
_CASE_ARGS = {"agreement_id": "agreement", "deviation_id": "deviation", "dispute_id": "dispute"}
_CASE_TYPES = frozenset(_CASE_ARGS.values())
# Audit events whose subject is a case record (the others belong to a case through their instance).
_CASE_TABLES = {"agreements": "agreement", "deviations": "deviation", "disputes": "dispute"}


def record_access(user: User | None, case_type: str, case_id: int, what: str, path: str = "",
                  user_name: str | None = None) -> AccessLogEntry:
    """Log that ``user`` read a case (in the caller's transaction)."""
    entry = AccessLogEntry(accessed_at=now(), user_id=getattr(user, "id", None),
                           user_name=user_name or getattr(user, "display_name", None) or "okänd", case_type=case_type,
                           case_id=case_id, what=what, path=path[:500])
    db.session.add(entry)
    return entry


def record_case_reads(user: User | None, cases: Iterable[CaseKey], what: str, path: str = "",
                      user_name: str | None = None) -> int:
    """Log one read of each case (each once, whatever the order); returns how many rows."""
    unique = dict.fromkeys(cases)
    for case_type, case_id in unique:
        record_access(user, case_type, case_id, what, path, user_name)
    return len(unique)


def command_line_user() -> str:
    """Who ran a command: the operating-system account (a command has no signed-in person)."""
    try:
        return f"kommandoraden ({getpass.getuser()})"[:200]
    except (KeyError, OSError):  # no passwd entry for the uid, e.g. in a container
        return "kommandoraden"


def case_named_by(view_args: Mapping[str, Any]) -> CaseKey | None:
    """The case a page or API route shows, from its URL arguments: a case type and id, an agreement,
    deviation or dispute id, or a task, attachment, incident or process instance id (the case of the instance)."""
    case_type, case_id = view_args.get("case_type"), view_args.get("case_id")
    if isinstance(case_type, str) and isinstance(case_id, int):
        return (case_type, case_id) if case_type in _CASE_TYPES else None
    for name, kind in _CASE_ARGS.items():
        if isinstance(view_args.get(name), int):
            return kind, int(view_args[name])
    instance_id = view_args.get("instance_id")
    for name, row_id in view_args.items():
        if name in _ROWS_OF_AN_INSTANCE and isinstance(row_id, int):
            instance_id = _instance_of(name, row_id)
    return case_of_instance_key(instance_id) if isinstance(instance_id, int) else None


def cases_named_by(view_args: Mapping[str, Any]) -> list[CaseKey]:
    """The cases a page or API route shows: the case its URL names (case_named_by), or for a joint body's or one
    meeting's page the agreements, deviations and disputes on the meetings' agendas and decisions (their texts)."""
    case = case_named_by(view_args)
    if case is not None:
        return [case]
    body_id, meeting_id = view_args.get("body_id"), view_args.get("meeting_id")
    if isinstance(body_id, int) or isinstance(meeting_id, int):
        return _cases_on_meetings(body_id if isinstance(body_id, int) else None,
                                  meeting_id if isinstance(meeting_id, int) else None)
    return []


def _cases_on_meetings(body_id: int | None, meeting_id: int | None) -> list[CaseKey]:
    from service.bodies.models import AgendaItem, Meeting, MeetingDecision

    found: dict[CaseKey, None] = {}
    for model in (AgendaItem, MeetingDecision):
        query = select(model.case_type, model.case_id).join(Meeting, Meeting.id == model.meeting_id).where(
            model.case_type.in_(_CASE_TYPES), model.case_id.is_not(None)).order_by(model.id)
        query = query.where(Meeting.body_id == body_id) if body_id is not None else query.where(Meeting.id == meeting_id)
        for case_type, case_id in db.session.execute(query):
            if case_id is not None:
                found[(str(case_type), int(case_id))] = None
    return list(found)


# URL arguments naming a row of a process instance that shows its data: a task, an attachment, an incident.
_ROWS_OF_AN_INSTANCE = ("task_id", "attachment_id", "incident_id")


def _instance_of(name: str, row_id: int) -> int | None:
    from service.inbox.models import Attachment
    from service.processes.models import HumanTask, ProcessIncident

    model: Any = {"task_id": HumanTask, "attachment_id": Attachment, "incident_id": ProcessIncident}[name]
    return db.session.scalar(select(model.instance_id).where(model.id == row_id))


def case_of_instance_key(instance_id: int) -> CaseKey:
    """The agreement, deviation or dispute an instance belongs to, or the instance itself."""
    from service.audit.cases import case_of_instance

    case = case_of_instance(instance_id)
    return (case.case_type, case.id) if case is not None else ("instance", instance_id)


def cases_of_events(events: Iterable[Mapping[str, Any]]) -> list[CaseKey]:
    """The cases a list of audit events (as exported: subject_type, subject_id, instance_id) shows, in order."""
    found: dict[CaseKey, None] = {}
    by_instance: dict[int, CaseKey] = {}
    for event in events:
        kind = _CASE_TABLES.get(str(event.get("subject_type")))
        instance_id = event.get("instance_id")
        if kind is not None and str(event.get("subject_id", "")).isdigit():
            found[(kind, int(event["subject_id"]))] = None
        elif isinstance(instance_id, int):
            if instance_id not in by_instance:
                by_instance[instance_id] = case_of_instance_key(instance_id)
            found[by_instance[instance_id]] = None
    return list(found)


def list_accesses(case_type: str, case_id: int, limit: int = 1000) -> list[AccessLogEntry]:
    """A case's accesses, newest first."""
    return list(db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.case_type == case_type, AccessLogEntry.case_id == case_id)
        .order_by(AccessLogEntry.accessed_at.desc(), AccessLogEntry.id.desc()).limit(limit)))


def retention_years() -> int:
    """``ACCESS_LOG_RETENTION_YEARS`` (default 5); a shorter setting is refused, not silently raised."""
    years = int(current_app.config.get("ACCESS_LOG_RETENTION_YEARS", MINIMUM_RETENTION_YEARS))
    if years < MINIMUM_RETENTION_YEARS:
        raise ValueError(f"ACCESS_LOG_RETENTION_YEARS={years}: åtkomstloggen ska sparas minst "
                         f"{MINIMUM_RETENTION_YEARS} år")
    return years


def purge_expired() -> int:
    """Remove access-log rows older than the retention period; returns how many."""
    cutoff = now() - timedelta(days=366 * retention_years())
    result = db.session.execute(delete(AccessLogEntry).where(AccessLogEntry.accessed_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
