"""Tokens: hashed, scoped, expiring, revocable; the session cookie reads but never writes; the settings page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service.api.models import ApiToken
from service.api.tokens import hash_secret
from service.columns import now
from tests.api.conftest import ApiClient, ApiWorld
from tests.conftest import csrf_token, login

START = {"process_id": "api_simple", "title": "x", "data": {}}


def test_only_the_hash_is_stored(api: ApiWorld, db: Any) -> None:
    secret = api.tokens["officer_a"]
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert hash_secret(secret) in stored and secret not in stored


def test_missing_malformed_and_unknown_tokens_get_401(api: ApiWorld) -> None:
    client = api.app.test_client()
    assert client.get("/api/v1/tasks").status_code == 401
    for header in ("Bearer", "Basic abc", "Bearer svk_unknown"):
        response = client.get("/api/v1/tasks", headers={"Authorization": header})
        assert response.status_code == 401 and "WWW-Authenticate" in response.headers


def test_expired_and_revoked_tokens_are_refused(api: ApiWorld, db: Any) -> None:
    expired, revoked = api.token(api.users["officer_a"], {"read"}), api.token(api.users["officer_a"], {"read"})
    rows = {row.token_hash: row for row in db.session.scalars(select(ApiToken))}
    rows[hash_secret(expired)].expires_at = now() - timedelta(seconds=1)
    rows[hash_secret(revoked)].revoked_at = now()
    db.session.commit()
    for secret in (expired, revoked):
        assert ApiClient(api.app.test_client(), secret).get("/api/v1/tasks").status_code == 401
    assert ApiClient(api.app.test_client(), api.read_token).get("/api/v1/tasks").status_code == 200


def test_read_token_is_refused_on_every_write(api: ApiWorld) -> None:
    client = api.client("officer_a", read_only=True)
    for method, url in (("post", "/api/v1/instances"), ("post", "/api/v1/deviations"), ("post", "/api/v1/disputes"),
                        ("post", "/api/v1/agreements"), ("post", "/api/v1/tasks/1/complete"), ("put", "/api/v1/tasks/1/draft")):
        response = getattr(client, method)(url, json={})
        assert response.status_code in (403, 422), (url, response.status_code)
        if response.status_code == 403:
            assert response.get_json()["type"].endswith("insufficient-scope")


def test_session_cookie_reads_but_never_writes(api: ApiWorld) -> None:
    browser = api.app.test_client()
    assert login(browser, "officer_a").status_code == 302
    assert browser.get("/api/v1/tasks").status_code == 200
    response = browser.post("/api/v1/instances", json=START)
    assert response.status_code == 401 and "API-nyckel" in response.get_json()["detail"]


def test_settings_page_creates_shows_once_and_revokes(api: ApiWorld, db: Any) -> None:
    browser = api.app.test_client()
    login(browser, "officer_b")
    page = browser.get("/konto/api-nycklar")
    assert page.status_code == 200
    created = browser.post("/konto/api-nycklar", data={"name": "Diariet", "scope": "write", "days": "30",
                                                        "csrf_token": csrf_token(page.get_data(as_text=True))})
    html = created.get_data(as_text=True)
    secret = html.split('id="secret" type="text" readonly size="60" value="')[1].split('"')[0]
    assert secret.startswith("svk_") and secret not in browser.get("/konto/api-nycklar").get_data(as_text=True)
    api_client = ApiClient(api.app.test_client(), secret)
    assert api_client.get("/api/v1/tasks").status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "Diariet"))
    token_id = token.id
    revoked = browser.post(f"/konto/api-nycklar/{token_id}/aterkalla", data={"csrf_token": csrf_token(html)})
    assert revoked.status_code == 302
    assert api_client.get("/api/v1/tasks").status_code == 401


def test_settings_page_refuses_bad_input_and_others_tokens(api: ApiWorld, db: Any) -> None:
    browser = api.app.test_client()
    login(browser, "officer_b")
    html = browser.get("/konto/api-nycklar").get_data(as_text=True)
    bad = browser.post("/konto/api-nycklar", data={"name": "", "scope": "read", "days": "9999", "csrf_token": csrf_token(html)})
    assert bad.status_code == 422
    others = db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_secret(api.tokens["officer_a"])))
    assert browser.post(f"/konto/api-nycklar/{others}/aterkalla", data={"csrf_token": csrf_token(html)}).status_code == 404
    assert api.client("officer_a").get("/api/v1/tasks").status_code == 200


def test_an_api_key_from_the_command_line(api: ApiWorld, app: Any) -> None:
    runner = app.test_cli_runner()
    issued = runner.invoke(args=["api-key", "officer_a", "--write", "--days", "7"])
    assert issued.exit_code == 0, issued.output
    secret = issued.output.strip()
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.get_json()["total"] == 0
    unknown = runner.invoke(args=["api-key", "nobody"])
    assert unknown.exit_code == 1 and "finns inte" in unknown.output
    too_long = runner.invoke(args=["api-key", "officer_a", "--days", "999"])
    assert too_long.exit_code == 1 and "365" in too_long.output
