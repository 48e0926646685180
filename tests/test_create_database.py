"""`samverkan create-database` (the first step of `make run`): creates the PostgreSQL database DATABASE_URL
names when it is missing, leaves an existing one alone, and refuses with a message, not a traceback, when
the server cannot be reached. SQLite needs nothing."""

from __future__ import annotations

import psycopg
from click.testing import Result
from flask import Flask

from service.app import create_app
from tests.conftest import POSTGRES_ADMIN_URL, TEST_DATABASE, TEST_SECRET_KEY

CREATED = f"{TEST_DATABASE}_created"


def invoke(url: str) -> Result:
    app: Flask = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": TEST_SECRET_KEY})
    with app.app_context():  # as the `samverkan` command gives every command
        return app.test_cli_runner().invoke(args=["create-database"])


def server_url(database: str, port: int = 5432) -> str:
    host = POSTGRES_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0].split(":")[0]
    user = POSTGRES_ADMIN_URL.split("://", 1)[1].split("@", 1)[0]
    return f"postgresql+psycopg://{user}@{host}:{port}/{database}"


def exists(database: str) -> bool:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None


def test_a_missing_postgresql_database_is_created_once() -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{CREATED}"')
    first = invoke(server_url(CREATED))
    assert first.exit_code == 0 and f"Databasen {CREATED} är skapad." in first.output, first.output
    assert exists(CREATED)
    again = invoke(server_url(CREATED))
    assert again.exit_code == 0 and f"Databasen {CREATED} finns redan." in again.output, again.output


def test_an_unreachable_server_is_refused_with_a_message() -> None:
    result = invoke(server_url(CREATED, port=1))  # nothing listens on port 1
    assert result.exit_code == 1
    assert f"Databasen {CREATED} kunde inte nås eller skapas:" in result.output
    assert "Traceback" not in result.output


def test_sqlite_needs_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ny.sqlite3"
    result = invoke(f"sqlite:///{path}")
    assert result.exit_code == 0 and "SQLite" in result.output
    assert not path.exists()  # created on first use, by `db upgrade`
