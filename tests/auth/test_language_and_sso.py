"""Language (Swedish default, English chosen, Accept-Language only without a choice) and the OIDC seam."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from service.auth.oidc import user_for_claims
from tests.conftest import csrf_token, login


def _choose(client: FlaskClient, language: str, next_page: str = "/logga-in") -> Any:
    token = csrf_token(client.get("/logga-in").get_data(as_text=True))
    return client.post("/sprak", data={"csrf_token": token, "language": language, "next": next_page})


def test_swedish_by_default_with_lang_attribute(client: FlaskClient) -> None:
    page = client.get("/logga-in").get_data(as_text=True)
    assert '<html lang="sv">' in page and "<h1>Logga in</h1>" in page


def test_accept_language_counts_until_a_choice_is_made(client: FlaskClient) -> None:
    page = client.get("/logga-in", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "<h1>Sign in</h1>" in page
    _choose(client, "sv")
    page = client.get("/logga-in", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="sv">' in page


def test_choosing_english_and_back(client: FlaskClient) -> None:
    response = _choose(client, "en", "/logga-in?x=1")
    assert response.status_code == 302 and response.headers["Location"] == "/logga-in?x=1"
    assert "samverkan_lang=en" in response.headers["Set-Cookie"]
    assert "<h1>Sign in</h1>" in client.get("/logga-in").get_data(as_text=True)
    _choose(client, "sv")
    assert "<h1>Logga in</h1>" in client.get("/logga-in").get_data(as_text=True)


def test_choice_survives_login_and_refuses_unknown_languages(client: FlaskClient, make_user: Any) -> None:
    make_user([], username="kim")
    _choose(client, "en")
    login(client, "kim")
    assert "My account" in client.get("/konto").get_data(as_text=True)
    assert _choose(client, "de").status_code == 400
    assert _choose(client, "en", "https://evil.example/").headers["Location"] == "/"


def test_language_switch_needs_csrf(client: FlaskClient) -> None:
    assert client.post("/sprak", data={"language": "en"}).status_code == 400


def test_sso_is_off_by_default(client: FlaskClient) -> None:
    assert client.get("/logga-in/sso").status_code == 404
    assert "Logga in med" not in client.get("/logga-in").get_data(as_text=True)


def test_single_provider_settings_show_the_button_and_keep_the_password_form(app: Any, client: FlaskClient) -> None:
    app.config.update(OIDC_ENABLED=True, OIDC_ISSUER="https://idp.example.se", OIDC_CLIENT_ID="samverkan")
    try:
        page = client.get("/logga-in").get_data(as_text=True)
        assert "Logga in med e-legitimation" in page and 'href="/logga-in/sso/default"' in page
        assert 'name="password"' in page  # OIDC_ALLOW_LOCAL_LOGIN is on by default
    finally:
        app.config.update(OIDC_ENABLED=False, OIDC_ISSUER="", OIDC_CLIENT_ID="")


def test_claims_find_only_the_linked_enabled_user(app: Any, make_user: Any) -> None:
    app.config.update(OIDC_ENABLED=True, OIDC_ISSUER="https://idp.example.se", OIDC_CLIENT_ID="samverkan")
    try:
        kim = make_user([], username="kim", external_issuer="https://idp.example.se", external_subject="abc")
        make_user([], username="off", external_issuer="https://idp.example.se", external_subject="off", is_enabled=False)
        assert user_for_claims({"iss": "https://idp.example.se", "sub": "abc"}) == kim
        assert user_for_claims({"iss": "https://other.example", "sub": "abc"}) is None
        assert user_for_claims({"iss": "https://idp.example.se", "sub": "off"}) is None
        assert user_for_claims({"iss": "https://idp.example.se"}) is None
    finally:
        app.config.update(OIDC_ENABLED=False, OIDC_ISSUER="", OIDC_CLIENT_ID="")
