"""Our callback refuses every ID token it must not accept, each with its Swedish message and nothing created
(issue #21). The tokens come from the fake provider of tests/auth/oidc/conftest.py, signed here; the positive
path against a real provider is in test_sso.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.auth.models import UserSession
from service.parties.models import Role, User
from tests.auth.oidc.fixtures import ORGANISATION, FakeIdp, new_key

OTHER_KEY = new_key("k1")  # same key id as the provider's, another key: a forged signature
STRAY_KEY = new_key("k9")  # a key id the provider never published


@pytest.fixture
def anna(sso_app: Flask, make_user: Any, make_organisation: Any, fake_idp: FakeIdp) -> User:
    organisation = make_organisation(name=ORGANISATION)
    return make_user([(organisation, Role.CASE_OFFICER)], username="anna", external_issuer=fake_idp.issuer,
                     external_subject="anna")  # type: ignore[no-any-return]


def _begin(client: FlaskClient) -> dict[str, str]:
    """Start at the fake provider; return the authorization request's parameters (state, nonce, ...)."""
    location = client.get("/logga-in/sso/fake").headers["Location"]
    return {name: values[0] for name, values in parse_qs(urlparse(location).query).items()}


def _claims(idp: FakeIdp, request: dict[str, str], **changes: Any) -> dict[str, Any]:
    moment = int(time.time())
    claims = {"iss": idp.issuer, "sub": "anna", "aud": "samverkan", "iat": moment, "exp": moment + 300,
              "nonce": request["nonce"], "name": "Anna Andersson"}
    claims.update(changes)
    return claims


def _refused(client: FlaskClient, db: Any, state: str | None, message: str, reason: str, signed_in: bool = False) -> None:
    """The callback answers 403 with ``message``, audits ``reason`` and opens no session (nor creates a user)."""
    sessions = db.session.scalar(select(func.count()).select_from(UserSession))
    query = "code=abc" + (f"&state={state}" if state is not None else "")
    answer = client.get(f"/logga-in/sso/fake/callback?{query}")
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (last.action, last.data["reason"]) == ("auth.sso_refused", reason), last.data
    assert answer.status_code == 403 and message in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == sessions
    assert db.session.scalar(select(func.count()).select_from(User)) <= 1  # anna, if the test made her
    assert client.get("/uppgifter").status_code == (200 if signed_in else 302)


CASES: list[tuple[str, Callable[[FakeIdp, dict[str, str]], str], str, str]] = [
    ("wrong audience", lambda idp, req: idp.sign(_claims(idp, req, aud="another-service")),
     "utfärdat för en annan tjänst", "audience"),
    ("expired", lambda idp, req: idp.sign(_claims(idp, req, iat=int(time.time()) - 3600, exp=int(time.time()) - 600)),
     "ID-token har gått ut", "expired"),
    ("bad signature", lambda idp, req: idp.sign(_claims(idp, req), key=OTHER_KEY),
     "ogiltig signatur", "signature"),
    ("key not in the JWKS", lambda idp, req: idp.sign(_claims(idp, req), key=STRAY_KEY),
     "nyckel som identitetsleverantören inte publicerar", "unknown_key"),
    ("wrong nonce", lambda idp, req: idp.sign(_claims(idp, req, nonce="from-another-sign-in")),
     "hör inte till den här inloggningen (nonce)", "nonce"),
    ("issuer not configured", lambda idp, req: idp.sign(_claims(idp, req, iss="https://idp.elsewhere.example")),
     "utfärdaren är inte konfigurerad", "issuer"),
]


def test_bad_id_tokens_are_refused(anna: User, client: FlaskClient, db: Any, fake_idp: FakeIdp) -> None:
    """One test over the cases (a database per test is the cost here): each a new sign-in, refused."""
    for name, token, message, reason in CASES:
        request = _begin(client)
        fake_idp.id_token = token(fake_idp, request)
        try:
            _refused(client, db, request["state"], message, reason)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def test_good_token_signs_in_and_its_state_cannot_be_replayed(anna: User, sso_app: Flask, client: FlaskClient,
                                                              db: Any, fake_idp: FakeIdp) -> None:
    request = _begin(client)
    assert request["code_challenge_method"] == "S256" and request["client_id"] == "samverkan"
    fake_idp.id_token = fake_idp.sign(_claims(fake_idp, request))
    answer = client.get(f"/logga-in/sso/fake/callback?code=abc&state={request['state']}")
    assert answer.status_code == 302 and answer.headers["Location"] == "/uppgifter"
    # The code was exchanged with the PKCE verifier and our client's credentials.
    assert fake_idp.token_requests[-1]["code_verifier"] and fake_idp.token_requests[-1]["code"] == ["abc"]
    # The same answer again: in this browser (its state was used) and in another one (never had it).
    _refused(client, db, request["state"], "state saknas eller är redan använt", "state", signed_in=True)
    _refused(sso_app.test_client(), db, request["state"], "state saknas eller är redan använt", "state")
    # A fresh sign-in answered without its state, or with another one.
    request = _begin(client)
    _refused(client, db, None, "state saknas eller är redan använt", "state", signed_in=True)
    _refused(client, db, "not-" + request["state"], "state saknas eller är redan använt", "state", signed_in=True)


def test_rotated_key_is_fetched_from_the_jwks(anna: User, client: FlaskClient, db: Any, fake_idp: FakeIdp) -> None:
    request = _begin(client)  # discovery and the JWKS (k1 only) are read and kept
    rotated = new_key("k2")
    fake_idp.served[:] = [fake_idp.key, rotated]
    fake_idp.id_token = fake_idp.sign(_claims(fake_idp, request), key=rotated)
    assert client.get(f"/logga-in/sso/fake/callback?code=abc&state={request['state']}").status_code == 302


def test_callback_of_a_provider_not_configured(sso_app: Flask, client: FlaskClient, db: Any) -> None:
    answer = client.get("/logga-in/sso/okand/callback?code=abc&state=x")
    assert answer.status_code == 403 and "utfärdaren är inte konfigurerad" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
