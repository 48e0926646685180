"""The access log: who read which case, when. Kept apart from the hash chain and for at least five years."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from service.audit.models import AccessLogEntry
from service.columns import now
from service.extensions import db
from service.parties.models import User

MINIMUM_RETENTION_YEARS = 5


def record_access(user: User | None, case_type: str, case_id: int, what: str, path: str = "") -> AccessLogEntry:
    """Log that ``user`` read a case (in the caller's transaction)."""
    entry = AccessLogEntry(accessed_at=now(), user_id=getattr(user, "id", None),
                           user_name=getattr(user, "display_name", None) or "okänd", case_type=case_type,
                           case_id=case_id, what=what, path=path[:500])
    db.session.add(entry)
    return entry


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
