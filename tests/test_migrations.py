"""Alembic builds the whole schema from empty on both databases, and it matches the models."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from service.app import create_app
from service.extensions import db
from tests.conftest import TEST_DATABASE, TEST_SECRET_KEY, database_url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_from_empty_matches_models(backend: str, tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(backend, tmp_path, f"{TEST_DATABASE}_migrations_check"),
                      "SECRET_KEY": TEST_SECRET_KEY})
    service_loggers = [logging.getLogger(name) for name in ("service.notifications.sender", "service.audit")]
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
    assert [logger.disabled for logger in service_loggers] == [False, False]  # the upgrade's log set-up spares ours


def _empty(backend: str) -> Any:
    with db.engine.begin() as connection:
        if backend == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_tasks_get_their_case_title_on_upgrade(backend: str, tmp_path: Path) -> None:
    """0650 copies each case's title onto its existing tasks (the inbox searches and sorts by the copy)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(backend, tmp_path, f"{TEST_DATABASE}_migrations_check"),
                      "SECRET_KEY": TEST_SECRET_KEY})
    with app.app_context():
        _empty(backend)
        upgrade(revision="a1b2c3d40645")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO process_definitions (id, process_id, version, name, filename, bpmn_xml, forms, sha256,"
                " comment, deployed_at) VALUES (1, 'p', 1, 'P', 'p.bpmn', '', '{}', 'x', '', CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO process_instances (id, definition_id, title, status, state, lock_version, started_at,"
                " updated_at) VALUES (1, 1, 'Avtal om färdtjänst', 'running', '{}', 1, CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO human_tasks (instance_id, task_id, bpmn_id, name, form, role, status, created_at)"
                " VALUES (1, 't1', 'decide', 'Besluta', '', 'manager', 'ready', CURRENT_TIMESTAMP)"))
        upgrade()
        with db.engine.connect() as connection:
            titles = connection.execute(text("SELECT case_title FROM human_tasks")).scalars().all()
        db.engine.dispose()
    assert titles == ["Avtal om färdtjänst"]
