"""case numbers: one series per prefix and year (AV, TV), unique per case; repeats renumbered, old numbers audited

Until now each party had its own series, so AV-2026-0022 named a different deviation in every party's series
and two of them could share one inbox (issue #18). From here one number names one case and every party uses it.
The upgrade, on the data as it stands:

- in each of ``deviations`` and ``disputes``, the first case (lowest id) holding a number keeps it; a later case
  holding the same number gets the next free number of its prefix and year;
- every party's number (``deviation_receivers``, ``dispute_parties``) becomes its case's number;
- each case whose own or any party's number changed gets one audit event, ``deviation.renumbered`` or
  ``dispute.renumbered``, by "Systemet", with ``case_number`` (the new one), ``old_case_number`` and
  ``old_party_case_numbers`` ({organisation id: old number}); the events are appended to the hash chain exactly
  as service/audit/operations.py appends (the head locked, then seq + 1 and SHA-256 over the previous hash and
  the canonical JSON, copied below: migrations are frozen), so ``samverkan audit verify`` holds after it;
- the process instance's title and its tasks' case title name the new number;
- ``case_number_series`` is keyed by (prefix, year) and starts at the highest number in use;
- unique indexes on ``deviations.case_number`` and ``disputes.case_number`` refuse any repeat from now on.

The downgrade restores the schema only (a per-party series starting above every number in use); the old
numbers stay in the audit events.

Revision ID: d4a7e2c92320
Revises: c5d2e8f12245
Create Date: 2026-12-03

"""
import hashlib
import json
import re
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4a7e2c92320'
down_revision = 'c5d2e8f12245'
branch_labels = None
depends_on = None

NUMBER = re.compile(r"^([A-Z]+)-(\d{4})-(\d+)$")
GENESIS_HASH = "0" * 64
# (case table, parties table, the parties' column naming the case, audit subject, title word)
CASES = (("deviations", "deviation_receivers", "deviation_id", "deviation", "Avvikelse"),
         ("disputes", "dispute_parties", "dispute_id", "dispute", "Tvist"))
EVENTS = sa.table("audit_events", sa.column("seq", sa.Integer), sa.column("occurred_at", sa.DateTime(timezone=True)),
                  sa.column("actor_id", sa.Integer), sa.column("actor_name", sa.String),
                  sa.column("action", sa.String), sa.column("subject_type", sa.String),
                  sa.column("subject_id", sa.String), sa.column("instance_id", sa.Integer),
                  sa.column("data", sa.JSON), sa.column("prev_hash", sa.String), sa.column("hash", sa.String))


def upgrade():
    bind = op.get_bind()
    events = [event for case in CASES for event in _renumber(bind, *case)]
    _append_to_audit_chain(bind, events)
    highest = _highest_numbers(bind)
    op.drop_table('case_number_series')
    series = op.create_table(
        'case_number_series',
        sa.Column('prefix', sa.String(length=8), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_case_number_series')))
    op.bulk_insert(series, [{"prefix": p, "year": y, "last_number": n} for (p, y), n in sorted(highest.items())])
    op.create_index(op.f('ix_deviations_case_number'), 'deviations', ['case_number'], unique=True)
    op.create_index(op.f('ix_disputes_case_number'), 'disputes', ['case_number'], unique=True)


def downgrade():
    bind = op.get_bind()
    highest = _highest_numbers(bind)
    organisations = [row[0] for row in bind.execute(sa.text("SELECT id FROM organisations ORDER BY id"))]
    op.drop_index(op.f('ix_disputes_case_number'), table_name='disputes')
    op.drop_index(op.f('ix_deviations_case_number'), table_name='deviations')
    op.drop_table('case_number_series')
    series = op.create_table(
        'case_number_series',
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('prefix', sa.String(length=8), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_case_number_series_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('organisation_id', 'prefix', 'year', name=op.f('pk_case_number_series')))
    op.bulk_insert(series, [{"organisation_id": o, "prefix": p, "year": y, "last_number": n}
                            for o in organisations for (p, y), n in sorted(highest.items())])


def _renumber(bind, table, parties_table, case_column, subject, word):
    """Give every case a number of its own and its parties that number; return the audit events to write."""
    cases = bind.execute(sa.text(f"SELECT id, case_number, instance_id FROM {table} ORDER BY id")).all()
    parties = defaultdict(list)
    for row in bind.execute(sa.text(f"SELECT {case_column}, organisation_id, case_number FROM {parties_table}")):
        parties[row[0]].append((row[1], row[2]))
    numbers = _unique_numbers([(case.id, case.case_number) for case in cases])
    events = []
    for case in cases:
        number = numbers[case.id]
        old_parties = {str(org): old for org, old in sorted(parties[case.id]) if old != number}
        if number == case.case_number and not old_parties:
            continue
        if number != case.case_number:
            bind.execute(sa.text(f"UPDATE {table} SET case_number = :number WHERE id = :id"),
                         {"number": number, "id": case.id})
            _retitle(bind, case.instance_id, f"{word} {case.case_number}:", f"{word} {number}:")
        bind.execute(sa.text(f"UPDATE {parties_table} SET case_number = :number WHERE {case_column} = :id"),
                     {"number": number, "id": case.id})
        events.append({"action": f"{subject}.renumbered", "subject_type": table, "subject_id": str(case.id),
                       "instance_id": case.instance_id,
                       "data": {"case_number": number, "old_case_number": case.case_number,
                                "old_party_case_numbers": old_parties}})
    return events


def _unique_numbers(cases):
    """{case id: number}: the lowest id keeps a repeated number, later ones get the next free of prefix and year."""
    highest, seen, numbers, repeats = defaultdict(int), set(), {}, []
    for case_id, number in cases:
        match = NUMBER.match(number or "")
        if match:
            key = (match[1], int(match[2]))
            highest[key] = max(highest[key], int(match[3]))
        if number in seen:
            repeats.append((case_id, number, match))
        else:
            seen.add(number)
            numbers[case_id] = number
    for case_id, number, match in repeats:
        if match is None:  # not ours: keep it recognisable
            numbers[case_id] = f"{number}-{case_id}"
            continue
        key = (match[1], int(match[2]))
        highest[key] += 1
        numbers[case_id] = f"{key[0]}-{key[1]}-{highest[key]:04d}"
    return numbers


def _retitle(bind, instance_id, old, new):
    if instance_id is None:
        return
    for table, column, key in (("process_instances", "title", "id"), ("human_tasks", "case_title", "instance_id")):
        rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {key} = :id"), {"id": instance_id}).all()
        for row_id, title in rows:
            if title and title.startswith(old):
                bind.execute(sa.text(f"UPDATE {table} SET {column} = :title WHERE id = :id"),
                             {"title": new + title[len(old):], "id": row_id})


def _highest_numbers(bind):
    highest = defaultdict(int)
    for table in ("deviations", "disputes"):
        for (number,) in bind.execute(sa.text(f"SELECT case_number FROM {table}")):
            match = NUMBER.match(number or "")
            if match:
                key = (match[1], int(match[2]))
                highest[key] = max(highest[key], int(match[3]))
    return highest


def _append_to_audit_chain(bind, events):
    """Append the events to the hash chain as service/audit/operations.record does, in this transaction."""
    if not events:
        return
    head = bind.execute(sa.text("UPDATE audit_chain_head SET seq = seq WHERE id = 1 RETURNING seq, hash")).first()
    seq, chain_hash = (int(head[0]), str(head[1])) if head is not None else (0, GENESIS_HASH)
    for event in events:
        seq += 1
        row = {"seq": seq, "occurred_at": datetime.now(UTC), "actor_id": None, "actor_name": "Systemet", **event}
        row["prev_hash"], row["hash"] = chain_hash, _chain_hash(chain_hash, row)
        bind.execute(EVENTS.insert().values(**row))
        chain_hash = row["hash"]
    if head is None:
        bind.execute(sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :seq, :hash)"),
                     {"seq": seq, "hash": chain_hash})
    else:
        bind.execute(sa.text("UPDATE audit_chain_head SET seq = :seq, hash = :hash WHERE id = 1"),
                     {"seq": seq, "hash": chain_hash})


def _chain_hash(prev_hash, event):
    """service/audit/operations.chain_hash over service/audit/operations.canonical (frozen copy)."""
    content = {
        "seq": event["seq"], "occurred_at": event["occurred_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": event["actor_id"], "actor_name": event["actor_name"], "action": event["action"],
        "subject_type": event["subject_type"], "subject_id": event["subject_id"],
        "instance_id": event["instance_id"], "data": event["data"],
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()
