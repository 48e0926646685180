"""The PostgreSQL connection pool: a connection is pinged only after sitting idle, and one that a database
restart closed is replaced, either by that ping or by commit_with_retry running the work again.

PostgreSQL only: SQLite is a file, its pool is never pinged and has no server to lose. A restart is
simulated by terminating the pool's server processes (pg_terminate_backend), which closes their
connections as a restart does, on a database of its own so that no other test's connection is touched.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.app import create_app
from service.extensions import db
from service.transactions import commit_with_retry
from tests.conftest import POSTGRES_ADMIN_URL, TEST_DATABASE, TEST_SECRET_KEY, postgres_url

DATABASE = f"{TEST_DATABASE}_pool"


def pool_app(ping_after_idle: float) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": postgres_url(DATABASE), "TESTING": True,
                       "SECRET_KEY": TEST_SECRET_KEY, "DB_PING_AFTER_IDLE_SECONDS": ping_after_idle})


def restart_database() -> None:
    """Close every connection to the pool's database from the server side, as a restart does."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        closed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = %s AND pid <> pg_backend_pid()", (DATABASE,)).fetchone()
    assert closed is not None and closed[0] >= 1, "no pooled connection to close"


def one_request(app: Flask) -> int:
    """A request's worth of database work: check a connection out, use it, give it back."""
    with app.app_context():
        try:
            return int(db.session.execute(text("SELECT 1")).scalar_one())
        finally:
            db.session.remove()


def counting(ping: Any, sent: list[Any]) -> Any:
    def counted(connection: Any) -> Any:
        sent.append(connection)
        return ping(connection)
    return counted


def test_a_busy_connection_is_not_pinged_and_an_idle_one_is(monkeypatch: pytest.MonkeyPatch) -> None:
    for idle, expected in ((3600, 0), (0, 2)):  # the first request opens the connection: nothing to ping
        app = pool_app(idle)
        sent: list[Any] = []
        with app.app_context():
            dialect = db.engine.dialect
            monkeypatch.setattr(dialect, "do_ping", counting(dialect.do_ping, sent))
        assert [one_request(app) for _ in range(3)] == [1, 1, 1]
        assert len(sent) == expected, f"idle after {idle} s: {len(sent)} pings"
        with app.app_context():
            db.engine.dispose()


def test_an_idle_connection_closed_by_a_restart_is_replaced_before_use() -> None:
    app = pool_app(0.2)
    assert one_request(app) == 1
    restart_database()
    time.sleep(0.3)
    assert one_request(app) == 1  # the ping found the connection closed; the pool opened a new one
    with app.app_context():
        db.engine.dispose()


def test_work_on_a_busy_connection_closed_by_a_restart_runs_again_on_a_new_one() -> None:
    app = pool_app(3600)
    assert one_request(app) == 1
    restart_database()
    runs: list[int] = []

    def work() -> int:
        runs.append(1)
        return int(db.session.execute(text("SELECT 1")).scalar_one())

    with app.app_context():
        assert commit_with_retry(work) == 1
        db.session.remove()
        assert len(runs) == 2, "the first run should have met the closed connection"
        restart_database()
        with pytest.raises(OperationalError):  # outside commit_with_retry the statement fails, once
            db.session.execute(text("SELECT 1"))
        db.session.remove()
        assert one_request(app) == 1  # the pool was invalidated: the next request has a new connection
        db.engine.dispose()


def test_a_request_on_a_connection_closed_by_a_restart_is_answered_503_with_nothing_written() -> None:
    app = pool_app(3600)
    app.add_url_rule("/prov/databas", "prov_databas", lambda: str(db.session.execute(text("SELECT 1")).scalar_one()))
    with app.app_context():
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        db.create_all()  # the API's key lookup reads api_tokens
        db.session.remove()
    client = app.test_client()
    api = {"Authorization": "Bearer ingen-sådan-nyckel", "Accept": "application/json"}
    for path, headers, answer in (("/prov/databas", {}, 200), ("/api/v1/tasks", api, 401)):
        assert client.get(path, headers=headers).status_code == answer
        restart_database()
        refused = client.get(path, headers=headers)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1", (path, refused.data[:300])
        said = refused.json["detail"] if refused.is_json else refused.get_data(as_text=True)
        assert "Databasen gick inte att nå. Inget har sparats." in said, said
        assert client.get(path, headers=headers).status_code == answer  # the pool was invalidated: a new connection
    with app.app_context():
        db.engine.dispose()
