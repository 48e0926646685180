"""Multi-process tests: PostgreSQL only (gunicorn workers and scheduler processes share the database; SQLite's
one-writer file is not the deployment this proves)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from flask import Flask


@pytest.fixture
def postgres(app: Flask, db: Any, backend: str) -> str:
    if backend != "postgresql":
        pytest.skip("multi-process test: PostgreSQL only")
    return str(app.config["SQLALCHEMY_DATABASE_URI"])


@pytest.fixture
def process_log() -> Iterator[IO[bytes]]:
    """Where the subprocesses write; shown when a test fails."""
    with tempfile.TemporaryFile() as log:
        yield log


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    return tmp_path / "metrics"


def tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-4000:]
