"""The daily anchor: the chain head written outside the database (a file, optionally an e-mail), so that
rewriting history would also need the anchors that left the system."""

from __future__ import annotations

import json
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from service.audit.models import AuditChainHead
from service.audit.operations import Verification, verify
from service.columns import now
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import User


def anchor_directory() -> Path:
    """``AUDIT_ANCHOR_DIR``, by default ``audit-anchors`` in the instance folder."""
    configured = current_app.config.get("AUDIT_ANCHOR_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-anchors"


def write_anchor() -> Path:
    """Append today's chain head to ``anchor-YYYY-MM-DD.jsonl`` and, if ``AUDIT_ANCHOR_EMAIL`` names users,
    put it in their notification outbox (sent by the mail job). The caller commits."""
    head = db.session.get(AuditChainHead, 1)
    moment = now()
    line = {"date": moment.date().isoformat(), "written_at": moment.isoformat(),
            "seq": head.seq if head else 0, "hash": head.hash if head else None}
    directory = anchor_directory()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"anchor-{line['date']}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
    usernames = [name.strip() for name in str(current_app.config.get("AUDIT_ANCHOR_EMAIL", "")).split(",") if name.strip()]
    if usernames:
        users = list(db.session.scalars(select(User).where(User.username.in_(usernames))))
        notify(users, NotificationKind.OTHER, f"Granskningsloggens ankare {line['date']}",
               f"Kedjans huvud: händelse {line['seq']}, hash {line['hash']}.\nSpara meddelandet utanför systemet.")
    return path


def verify_and_anchor() -> Verification:
    """The periodic job's work: verify the whole chain, then anchor its head. Logs a broken chain loudly."""
    result = verify()
    if not result.is_intact:
        current_app.logger.error("audit chain BROKEN at event %s: %s", result.broken_seq, result.reason)
    write_anchor()
    return result


def daily_job() -> None:
    """APScheduler entry point: in the app the scheduler bound, one transaction."""
    from service.scheduler.jobs import in_app

    in_app(verify_and_anchor)
