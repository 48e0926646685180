"""Cookie and login settings from the environment: typed values, Secure cookies for an https service."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import config
from tests.conftest import TEST_SECRET_KEY


def test_https_public_url_makes_cookies_secure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    assert config.load(tmp_path)["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("SAMVERKAN_PUBLIC_URL", "https://samverkan.example.se")
    loaded = config.load(tmp_path)
    assert loaded["SESSION_COOKIE_SECURE"] is True and loaded["REMEMBER_COOKIE_SECURE"] is True


def test_explicit_setting_wins_over_the_https_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("SAMVERKAN_PUBLIC_URL", "https://samverkan.example.se")
    monkeypatch.setenv("SAMVERKAN_SESSION_COOKIE_SECURE", "false")
    assert config.load(tmp_path)["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("SAMVERKAN_OIDC_ENABLED", "true", True), ("SAMVERKAN_OIDC_ENABLED", "0", False), ("SAMVERKAN_OIDC_ENABLED", "off", False),
    ("SAMVERKAN_LOGIN_MAX_FAILURES", "3", 3), ("SAMVERKAN_OIDC_ISSUER", "https://idp.example.se", "https://idp.example.se"),
])
def test_environment_values_take_the_default_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                                  expected: object) -> None:
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv(name, value)
    assert config.load(tmp_path)[name.removeprefix("SAMVERKAN_")] == expected
