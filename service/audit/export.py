"""Export a case's history: JSON with its hash-chain entries (verifiable by bin/verify-audit-export), and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select

from service.audit.cases import Case, case_events
from service.audit.history import local_time
from service.audit.labels import action_label
from service.audit.models import AuditChainHead, AuditEvent
from service.audit.operations import GENESIS_HASH
from service.columns import now
from service.extensions import db

EXPORT_FORMAT = "samverkan-audit-export/1"


def event_content(event: AuditEvent) -> dict[str, Any]:
    """The fields the event's hash covers, exactly as ``operations.canonical`` writes them, plus the links."""
    return {
        "seq": event.seq, "occurred_at": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": event.actor_id, "actor_name": event.actor_name, "action": event.action,
        "subject_type": event.subject_type, "subject_id": event.subject_id, "instance_id": event.instance_id,
        "data": event.data, "prev_hash": event.prev_hash, "hash": event.hash,
    }


def export_json(case: Case) -> dict[str, Any]:
    """The case's events in full, and the links (seq, prev_hash, hash) of every other event from its first
    event to the chain head, so a verifier can follow the chain without seeing other cases' content."""
    events = case_events(case)
    own = {event.seq for event in events}
    links: list[dict[str, Any]] = []
    if events:
        rows = db.session.execute(select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)
                                  .where(AuditEvent.seq >= events[0].seq).order_by(AuditEvent.seq))
        links = [{"seq": seq, "prev_hash": prev, "hash": digest} for seq, prev, digest in rows if seq not in own]
    head = db.session.get(AuditChainHead, 1)
    return {
        "format": EXPORT_FORMAT, "exported_at": now().isoformat(),
        "case": {"type": case.case_type, "id": case.id, "title": case.title, "instances": list(case.instance_ids)},
        "hash": {"algorithm": "SHA-256", "genesis": GENESIS_HASH,
                 "rule": "hash = sha256(prev_hash + canonical JSON of seq, occurred_at, actor_id, actor_name, "
                         "action, subject_type, subject_id, instance_id, data; sorted keys, no spaces, UTF-8)"},
        "head": {"seq": head.seq, "hash": head.hash} if head is not None else None,
        "events": [event_content(event) for event in events],
        "links": links,
    }


def export_json_text(case: Case) -> str:
    return json.dumps(export_json(case), ensure_ascii=False, indent=1)


CSV_COLUMNS = ("seq", "tid (Stockholm)", "vem", "händelse", "beskrivning", "objekt", "processinstans", "data", "hash")


def export_csv(case: Case) -> str:
    """One row per event (semicolon separated, as Swedish spreadsheet programs expect)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for event in case_events(case):
        writer.writerow([event.seq, local_time(event.occurred_at), event.actor_name, event.action,
                         action_label(event.action), f"{event.subject_type}:{event.subject_id}",
                         event.instance_id or "", json.dumps(event.data, ensure_ascii=False, sort_keys=True), event.hash])
    return buffer.getvalue()
