"""Finding 2 of issue #17: the audit log cannot be rewritten unseen.

A chain anchored after every event is rewritten as the tables' owner would (a role that is not a superuser,
with the triggers switched off): every edit, deletion, reordering, truncation and re-hashed rewrite is named
by `audit verify`. The runtime role is refused each change to the chain; forged anchors are refused; the
anchor job refuses a head that went back and raises the alarm."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from service import audit
from service.audit.anchor import verify_and_anchor, write_anchor
from service.audit.anchor_file import anchor_directory
from service.audit.models import AuditChainHead, AuditEvent
from service.audit.operations import GENESIS_HASH, chain_hash
from service.notifications.models import Notification
from service.parties.models import Organisation, Role, User
from service.transactions import commit_with_retry
from tests.audit import scenarios
from tests.conftest import TEST_DATABASE, login
from tests.deviations.world import World, _user, deployed, frozen, world  # noqa: F401 (fixtures)
from tests.security.payloads import AUDIT_CHAIN_LENGTH, AUDIT_TAMPERINGS, FORGED_ANCHOR_EDITS, RUNTIME_ROLE_REFUSED

OWNER = f"{TEST_DATABASE}_owner"
RUNTIME = f"{TEST_DATABASE}_runtime"
EVENTS = AuditEvent.__table__
HEAD = AuditChainHead.__table__


@pytest.fixture
def chain(db: Any, make_organisation: Callable[..., Organisation], make_user: Callable[..., User]) -> list[Any]:
    """AUDIT_CHAIN_LENGTH events, each in its own transaction and anchored after it: the rows, by seq."""
    organisation = make_organisation()
    actor = make_user(roles=[(organisation, Role.ADMIN)])
    for n in range(AUDIT_CHAIN_LENGTH):
        commit_with_retry(lambda n=n: audit.record(actor, "test.noted", organisation, n=n))
        commit_with_retry(write_anchor)
    return rows(db)


def rows(db: Any) -> list[Any]:
    return list(db.session.execute(select(EVENTS).order_by(EVENTS.c.seq)).all())


def position(target: int) -> int:
    return target if target > 0 else AUDIT_CHAIN_LENGTH + 1 + target


@contextmanager
def as_owner(db: Any, backend: str) -> Iterator[None]:
    """In one transaction, as the audit tables' owner, a role that is not a superuser (PostgreSQL), with the
    triggers switched off as an owner may; SQLite has neither roles nor triggers."""
    if backend == "postgresql":
        _ensure_role(db, OWNER)
        for table in ("audit_events", "audit_chain_head"):
            db.session.execute(text(f'ALTER TABLE {table} OWNER TO "{OWNER}"'))
        db.session.execute(text(f'SET LOCAL ROLE "{OWNER}"'))
        assert not db.session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        db.session.execute(text("ALTER TABLE audit_chain_head DISABLE TRIGGER USER"))
    yield
    if backend == "postgresql":
        db.session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        db.session.execute(text("ALTER TABLE audit_chain_head ENABLE TRIGGER USER"))
        db.session.execute(text("RESET ROLE"))
        for table in ("audit_events", "audit_chain_head"):
            db.session.execute(text(f"ALTER TABLE {table} OWNER TO CURRENT_USER"))
    db.session.commit()


def _ensure_role(db: Any, role: str) -> None:
    if not db.session.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}):
        db.session.execute(text(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER'))
    db.session.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))  # conftest made the schema anew


def move_head(db: Any, seq: int, hash_: str) -> None:
    db.session.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=seq, hash=hash_))


def tamper(db: Any, backend: str, original: list[Any], case: dict[str, Any]) -> int:
    """Carry out one tampering of AUDIT_TAMPERINGS; the seq verify must name."""
    with as_owner(db, backend):
        return TAMPERINGS[str(case["kind"])](db, original, case)


def _edit(db: Any, original: list[Any], case: dict[str, Any]) -> int:
    seq = position(case["target"])
    db.session.execute(update(EVENTS).where(EVENTS.c.seq == seq).values({case["column"]: case["value"]}))
    return seq


def _delete(db: Any, original: list[Any], case: dict[str, Any]) -> int:
    seq = position(case["target"])
    db.session.execute(delete(EVENTS).where(EVENTS.c.seq == seq))
    return seq


def _reorder(db: Any, original: list[Any], case: dict[str, Any]) -> int:
    seq = position(case["target"])
    first, second = original[seq - 1].id, original[seq].id
    db.session.execute(update(EVENTS).where(EVENTS.c.id == first).values(seq=-1))
    db.session.execute(update(EVENTS).where(EVENTS.c.id == second).values(seq=seq))
    db.session.execute(update(EVENTS).where(EVENTS.c.id == first).values(seq=seq + 1))
    return seq


def _truncate_tail(db: Any, original: list[Any], case: dict[str, Any]) -> int:
    keep = int(case["keep"])
    db.session.execute(delete(EVENTS).where(EVENTS.c.seq > keep))
    move_head(db, keep, original[keep - 1].hash if keep else GENESIS_HASH)
    return keep + 1


def _truncate(db: Any, original: list[Any], case: dict[str, Any]) -> int:
    _empty_events(db)
    move_head(db, 0, GENESIS_HASH)
    return 1


def _rewrite(db: Any, original: list[Any], case: dict[str, Any]) -> int:
    """TRUNCATE, then every event but the dropped one inserted again, renumbered and re-hashed (one actor
    renamed), and the head moved to the new end: a chain that holds together on its own."""
    drop, rename = case["drop"], case["rename"]
    kept = [dict(row._mapping) for row in original if row.seq != drop]
    prev_hash = GENESIS_HASH
    for seq, event in enumerate(kept, start=1):
        event.pop("id")
        if event["seq"] == rename:
            event["actor_name"] = case["actor"]
        event.update(seq=seq, prev_hash=prev_hash)
        event["hash"] = prev_hash = chain_hash(prev_hash, _Row(event))
    _empty_events(db)
    db.session.execute(insert(EVENTS), kept)
    move_head(db, len(kept), prev_hash)
    return min(seq for seq in (drop, rename) if seq is not None)


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _empty_events(db: Any) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE audit_events"))
    else:
        db.session.execute(delete(EVENTS))


TAMPERINGS: dict[str, Callable[[Any, list[Any], dict[str, Any]], int]] = {
    "edit": _edit, "delete": _delete, "reorder": _reorder, "truncate_tail": _truncate_tail,
    "truncate": _truncate, "rewrite": _rewrite,
}


@pytest.mark.no_reexecution  # tampers with the events on purpose
@pytest.mark.parametrize("case", AUDIT_TAMPERINGS, ids=lambda case: "-".join(map(str, case.values()))[:60])
def test_every_tampering_is_named(app: Flask, db: Any, backend: str, chain: list[Any], case: dict[str, Any]) -> None:
    assert audit.verify().is_intact and audit.verify().anchors == AUDIT_CHAIN_LENGTH
    named = tamper(db, backend, chain, case)
    result = audit.verify()
    assert (result.is_intact, result.broken_seq) == (False, named), result
    output = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert output.exit_code == 1 and f"BRUTEN vid händelse {named}" in output.output and "obruten" not in output.output


@pytest.mark.no_reexecution
def test_the_owner_rewrite_of_the_finding_is_named(db: Any, backend: str, chain: list[Any]) -> None:
    """The finding as reported: TRUNCATE, a re-hashed chain with one event dropped and one actor renamed, the
    head updated. The chain holds together on its own; only the anchors show it, at the first changed event."""
    tamper(db, backend, chain, {"kind": "rewrite", "drop": 3, "rename": 5, "actor": "Obehörig"})
    rewritten = rows(db)
    assert [row.seq for row in rewritten] == list(range(1, AUDIT_CHAIN_LENGTH))
    assert all(row.hash == chain_hash(row.prev_hash, row) for row in rewritten)
    result = audit.verify()
    assert (result.is_intact, result.broken_seq) == (False, 3) and "ankaret" in result.reason


@pytest.mark.no_reexecution
def test_anchor_job_refuses_a_head_that_went_back_and_raises_the_alarm(
        db: Any, backend: str, chain: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    admin = db.session.scalars(select(User)).one()
    lines_before = anchor_lines()
    tamper(db, backend, chain, {"kind": "truncate_tail", "keep": 4})
    with caplog.at_level("CRITICAL"):
        result = commit_with_retry(verify_and_anchor)
    assert (result.is_intact, result.broken_seq) == (False, 5) and "bakåt" in result.reason
    assert anchor_lines() == lines_before  # no anchor of the rewritten head
    assert any(record.levelname == "CRITICAL" and "BROKEN" in record.getMessage() for record in caplog.records)
    alarm = db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).one()
    assert "händelse 5" in alarm.subject


@pytest.mark.no_reexecution
def test_anchor_command_refuses_a_broken_chain(app: Flask, db: Any, backend: str, chain: list[Any]) -> None:
    tamper(db, backend, chain, {"kind": "edit", "target": 2, "column": "actor_name", "value": "x"})
    output = app.test_cli_runner().invoke(args=["audit", "anchor"])
    assert output.exit_code == 1 and "Inget ankare skrivet" in output.output and "händelse 2" in output.output
    assert anchor_lines() == AUDIT_CHAIN_LENGTH


def anchor_lines() -> int:
    return sum(len(path.read_text().splitlines()) for path in anchor_directory().glob("anchor-*.jsonl"))


@pytest.mark.parametrize("edit", FORGED_ANCHOR_EDITS, ids=lambda edit: ",".join(edit))
def test_a_forged_anchor_line_is_refused(db: Any, chain: list[Any], edit: dict[str, Any]) -> None:
    path = next(anchor_directory().glob("anchor-*.jsonl"))
    lines = path.read_text().splitlines()
    forged = {**json.loads(lines[5]), **edit}
    path.write_text("\n".join([*lines[:5], json.dumps(forged), *lines[6:]]) + "\n")
    result = audit.verify()
    assert not result.is_intact and "MAC" in result.reason and ":6 " in result.reason


def test_anchors_signed_with_another_key_are_refused(app: Flask, db: Any, chain: list[Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_KEY", "another-key-" + "x" * 40)
    result = audit.verify()
    assert (result.is_intact, result.broken_seq) == (False, 1) and "MAC" in result.reason


def test_no_anchor_without_a_key_outside_sqlite(app: Flask, db: Any, backend: str, chain: list[Any],
                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PostgreSQL: without AUDIT_ANCHOR_KEY nothing is anchored or checked. SQLite (local default): a key is
    made once in the instance folder, readable by its owner only, and anchors verify with it."""
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_KEY", "")
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_DIR", str(tmp_path / "anchors"))
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    result = commit_with_retry(verify_and_anchor)
    if backend == "postgresql":
        assert not result.is_intact and "AUDIT_ANCHOR_KEY" in result.reason
        assert not (tmp_path / "anchors").exists()
        return
    assert result.is_intact and anchor_lines() == 1
    assert os.stat(tmp_path / "instance" / "audit_anchor_key").st_mode & 0o777 == 0o600
    assert audit.verify().is_intact and audit.verify().anchors == 1


@pytest.mark.no_reexecution
def test_truncate_is_refused_even_to_the_owner_with_triggers_on(db: Any, backend: str, chain: list[Any]) -> None:
    """PostgreSQL refuses TRUNCATE and a head moved back even to the owner while the triggers are on; SQLite
    refuses nothing (a local file), but the anchors name what was emptied."""
    if backend == "sqlite":
        db.session.execute(delete(EVENTS))
        db.session.commit()
        assert audit.verify().broken_seq == 1
        return
    for statement in ("TRUNCATE audit_events", "TRUNCATE audit_chain_head", "DELETE FROM audit_chain_head",
                      "UPDATE audit_chain_head SET seq = seq - 1"):
        with pytest.raises(DBAPIError, match=r"append-only|only moves forward"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert audit.verify().is_intact


def test_runtime_role_only_appends_and_moves_the_head_forward(app: Flask, db: Any, backend: str,
                                                              chain: list[Any]) -> None:
    """`samverkan audit grant-runtime-role` makes the role the service runs as (PostgreSQL): it records events,
    and is refused every statement of RUNTIME_ROLE_REFUSED. SQLite has no roles, and the command says so."""
    output = app.test_cli_runner().invoke(args=["audit", "grant-runtime-role", RUNTIME])
    if backend == "sqlite":
        assert output.exit_code == 2 and "SQLite har inga databasroller" in output.output
        return
    assert output.exit_code == 0, output.output
    db.session.rollback()  # a transaction begun before the GRANT may not see the schema yet
    try:
        for statement in RUNTIME_ROLE_REFUSED:
            db.session.execute(text(f'SET LOCAL ROLE "{RUNTIME}"'))
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner|append-only|only moves forward"):
                db.session.execute(text(statement))
            db.session.rollback()
        organisation = db.session.scalars(select(Organisation)).one()

        def as_runtime() -> None:
            db.session.execute(text(f'SET LOCAL ROLE "{RUNTIME}"'))
            audit.record(None, "test.noted", organisation, n="runtime")

        commit_with_retry(as_runtime)
    finally:
        db.session.rollback()
        db.session.execute(text(f'DROP OWNED BY "{RUNTIME}"'))
        db.session.commit()
    assert db.session.scalar(select(func.max(EVENTS.c.seq))) == AUDIT_CHAIN_LENGTH + 1
    assert audit.verify().is_intact


def test_grant_runtime_role_refuses_sqlite_and_bad_names(app: Flask, db: Any, backend: str) -> None:
    runner = app.test_cli_runner()
    for role in ("Robert'); DROP TABLE audit_events;--", "postgres" if backend == "postgresql" else "x"):
        output = runner.invoke(args=["audit", "grant-runtime-role", role])
        assert output.exit_code == 2 and "ROLE" in output.output, output.output


def test_verify_keeps_the_callers_objects_attached(db: Any, make_organisation: Callable[..., Organisation],
                                                   make_user: Callable[..., User]) -> None:
    """Issue #18: verify() over more than one batch (1000 events) detached every object of the session,
    the signed-in user among them, and the printable report failed afterwards."""
    organisation, user = make_organisation(), make_user()

    def many() -> None:
        for n in range(1001):
            audit.record(None, "test.noted", organisation, n=n)

    commit_with_retry(many)
    user = db.session.get(User, user.id)
    result = audit.verify()
    assert result.is_intact and result.checked == 1001
    assert user in db.session and user.display_name


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_install_the_guards(backend: str, tmp_path: Path) -> None:
    """A migrated database (not create_all) gets the same guards on PostgreSQL, and the runtime role's grants
    leave it the schema's version to read only; on SQLite the migration changes nothing."""
    from flask_migrate import upgrade

    from service.app import create_app
    from service.extensions import db as database
    from tests.conftest import database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(backend, tmp_path, f"{TEST_DATABASE}_migrations"),
                      "SECRET_KEY": "audit-migrations-test-key-8d3f1a6c9e2b7d4f0a5c"})
    with app.app_context(), database.engine.begin() as connection:
        if backend == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    with app.app_context():
        upgrade()
        try:
            with database.engine.connect() as connection:
                triggers = set(connection.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))) \
                    if backend == "postgresql" else set()
            output = app.test_cli_runner().invoke(args=["audit", "grant-runtime-role", RUNTIME])
            if backend == "postgresql":
                with database.engine.begin() as connection:
                    connection.execute(text(f'SET LOCAL ROLE "{RUNTIME}"'))
                    with pytest.raises(DBAPIError, match="permission denied"):
                        connection.execute(text("UPDATE alembic_version SET version_num = 'x'"))
        finally:
            if backend == "postgresql":
                with database.engine.begin() as connection:
                    connection.execute(text(f'DROP OWNED BY "{RUNTIME}"'))
            database.engine.dispose()
    if backend == "sqlite":
        assert output.exit_code == 2 and triggers == set()
        return
    assert output.exit_code == 0, output.output
    assert {"audit_events_append_only", "audit_events_no_truncate", "audit_chain_head_forward_only",
            "audit_chain_head_no_truncate"} <= triggers


@pytest.mark.parametrize("key", ["kort-nyckel", "change-me-to-64-random-hex-characters"])
def test_a_weak_anchor_key_is_refused(app: Flask, db: Any, chain: list[Any], key: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_KEY", key)
    result = commit_with_retry(verify_and_anchor)
    assert not result.is_intact and "AUDIT_ANCHOR_KEY" in result.reason and anchor_lines() == AUDIT_CHAIN_LENGTH


def test_the_printable_report_survives_a_chain_of_more_than_one_batch(world: World) -> None:  # noqa: F811
    """Issue #18: /granskning/<type>/<id>/rapport answered 500 once the chain held more than 1000 events
    (verify() detached the signed-in user while it walked the chain)."""
    dispute = scenarios.dispute_to_county(world)
    reader = _user(world.db, "granskare", world.county, [Role.AUDITOR])

    def filler() -> None:
        for n in range(1001):
            audit.record(None, "test.noted", reader, n=n)

    commit_with_retry(filler)
    page = world.browser("granskare").get(f"/granskning/dispute/{dispute.id}/rapport")
    assert page.status_code == 200 and "obruten" in page.get_data(as_text=True)


def test_verify_page_names_forged_anchors_and_a_missing_key(app: Flask, db: Any, backend: str, chain: list[Any],
                                                           make_user: Callable[..., User], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    organisation = db.session.scalars(select(Organisation)).one()
    make_user(username="granskare", roles=[(organisation, Role.AUDITOR)])
    client = app.test_client()
    assert login(client, "granskare").status_code == 302
    assert "Hashkedjan är obruten" in client.get("/granskning/verifiera").get_data(as_text=True)
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_KEY", "")  # SQLite: a new key of its own, not the anchors'
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    page = client.get("/granskning/verifiera").get_data(as_text=True)
    if backend == "postgresql":
        assert "Hashkedjan kan inte kontrolleras: AUDIT_ANCHOR_KEY saknas" in page
    else:
        assert "Hashkedjan är BRUTEN vid händelse 1: ankaret anchor-" in page and "fel MAC" in page


def test_events_appended_while_verify_walks_are_no_break(app: Flask, db: Any, chain: list[Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An event committed (head and all) by another transaction after the walk read the last row is walked
    too, not reported as a head beyond the chain: the anchor job must not raise a false alarm under load."""
    from service.audit import verification

    organisation_id = db.session.scalars(select(Organisation.id)).one()
    walk = verification._events_in_order

    def append_elsewhere() -> None:
        with app.app_context():
            commit_with_retry(lambda: audit.record(None, "test.noted", db.session.get(Organisation, organisation_id)))

    def walk_then_append(after: int | None) -> Iterator[Any]:
        yield from walk(after)
        if after is None:
            writer = threading.Thread(target=append_elsewhere)
            writer.start()
            writer.join()

    monkeypatch.setattr(verification, "_events_in_order", walk_then_append)
    result = audit.verify()
    assert (result.is_intact, result.checked) == (True, AUDIT_CHAIN_LENGTH + 1), result
