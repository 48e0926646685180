"""Configuration: the secret key is generated once with owner-only permissions; URLs are normalised."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from service import config
from tests.conftest import TEST_SECRET_KEY


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.load(tmp_path)["SECRET_KEY"]
    assert len(first) == 64
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert config.load(tmp_path)["SECRET_KEY"] == first


def test_secret_key_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    assert config.load(tmp_path)["SECRET_KEY"] == TEST_SECRET_KEY
    assert not (tmp_path / "secret_key").exists()


def test_database_url_default_and_postgres_normalised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.load(tmp_path)["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'samverkan.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)  # required outside the local SQLite default
    assert config.load(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
