"""Issue #17, finding 4: no ``next`` sends the browser off the site, and none gives a 500.

Every payload of tests/security/payloads.py (OPEN_REDIRECTS) goes through the helper that every ``next`` passes
(login, language switch, claim and comment forms) and through the login and the language switch over HTTP; the
Location that comes back must be the fallback path, which no browser reads as another host (no scheme, no netloc,
not protocol-relative after dropping tabs and line breaks).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from service.auth.redirects import is_same_site_path, safe_next
from tests.conftest import PASSWORD, csrf_token
from tests.security.payloads import OPEN_REDIRECTS, SAME_SITE_PATHS


def assert_same_site(location: str) -> None:
    """What a browser does with a Location: drop tab/CR/LF, read "\\" as "/"; then it must be a local path."""
    as_browser = location.replace("\t", "").replace("\r", "").replace("\n", "").replace("\\", "/").strip()
    parts = urlsplit(as_browser)
    assert not parts.scheme and not parts.netloc, location
    assert as_browser.startswith("/") and not as_browser.startswith("//"), location


def lands_on(response: Any, fallback: str) -> bool:
    """Redirected to the fallback, or refused as bad input (NUL bytes: service/security/limits.py); never a 500."""
    if response.status_code == 400:
        return "Location" not in response.headers
    if response.status_code != 302 or response.headers["Location"] != fallback:
        return False
    assert_same_site(response.headers["Location"])
    return True


def test_there_are_enough_known_bypasses() -> None:
    assert len(OPEN_REDIRECTS) >= 20


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_helper_refuses_every_known_bypass(app: Any, target: str) -> None:
    assert not is_same_site_path(target)
    with app.test_request_context():
        assert safe_next(target) == "/uppgifter"
        assert safe_next(target, "/") == "/"


@pytest.mark.parametrize("target", SAME_SITE_PATHS)
def test_helper_keeps_same_site_paths(app: Any, target: str) -> None:
    with app.test_request_context():
        assert safe_next(target) == target


def test_login_never_redirects_off_site_nor_fails(app: Any, client: FlaskClient, make_user: Any) -> None:
    make_user([], username="kim")
    wrong = []
    for target in OPEN_REDIRECTS:
        browser = app.test_client()
        token = csrf_token(browser.get("/logga-in").get_data(as_text=True))
        response = browser.post("/logga-in", query_string={"next": target},
                                data={"username": "kim", "password": PASSWORD, "csrf_token": token})
        if not lands_on(response, "/uppgifter"):
            wrong.append((target, response.status_code, response.headers.get("Location")))
    assert wrong == []


def test_login_follows_a_same_site_next(client: FlaskClient, make_user: Any) -> None:
    make_user([], username="kim")
    token = csrf_token(client.get("/logga-in").get_data(as_text=True))
    response = client.post("/logga-in", query_string={"next": "/avtal/12?flik=2"},
                           data={"username": "kim", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/avtal/12?flik=2"


def test_language_switch_never_redirects_off_site_nor_fails(client: FlaskClient) -> None:
    token = csrf_token(client.get("/logga-in").get_data(as_text=True))
    wrong = []
    for target in OPEN_REDIRECTS:
        response = client.post("/sprak", data={"language": "en", "next": target, "csrf_token": token})
        if not lands_on(response, "/"):
            wrong.append((target, response.status_code, response.headers.get("Location")))
    assert wrong == []
    kept = client.post("/sprak", data={"language": "sv", "next": "/uppgifter?sida=2", "csrf_token": token})
    assert kept.headers["Location"] == "/uppgifter?sida=2"

