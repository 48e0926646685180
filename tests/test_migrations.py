"""Alembic builds the whole schema from empty on both databases, and it matches the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from service.app import create_app
from service.extensions import db
from tests.conftest import database_url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_from_empty_matches_models(backend: str, tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(backend, tmp_path, "samverkan_migrations"),
                      "SECRET_KEY": "test"})
    with app.app_context():
        _empty(backend)
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            head = connection.execute(text("SELECT seq, hash FROM audit_chain_head")).one()
        db.engine.dispose()
    assert differences == []
    assert head == (0, "0" * 64)


def _empty(backend: str) -> Any:
    with db.engine.begin() as connection:
        if backend == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
