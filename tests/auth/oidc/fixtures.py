"""Identity providers on loopback for the single sign-on tests (issue #21); a plugin of tests/conftest.py, so
tests/auth/oidc and the browser test tests/browser/test_sso.py share one of each per session.

``oidc_provider``: panva's oidc-provider (OpenID Certified) run by Node from node_modules, one per test session.
``fake_idp``: a small provider served from the test process, whose discovery, JWKS and token endpoint answer
what a test sets, so a test can hand our callback ID tokens it signed itself (wrong audience, expired, ...).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

SCRIPT = Path(__file__).resolve().parent / "provider.mjs"
ROOT = SCRIPT.parents[3]
CLIENT_SECRET = "samverkan-test-client-secret-0123456789"
ORGANISATION = "Alingsås kommun"
APP_URL = "http://localhost"  # the test client's base, a redirect URI the provider's client lists


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_discovery(issuer: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"oidc-provider exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as answer:
                if json.load(answer)["issuer"] == issuer:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no discovery document at {issuer}")


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    """The real provider's issuer URL (started once, stopped at the end of the session)."""
    port = free_port()
    process = subprocess.Popen(["node", str(SCRIPT), str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_for_discovery(issuer, process)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class FakeIdp:
    """What the fake provider answers: its keys (``served`` in the JWKS) and the next token response's ID token."""

    issuer: str
    key: RSAKey
    served: list[RSAKey]
    id_token: str = ""
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None, kid: str | None = None) -> str:
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": kid or str(key.kid)}, claims, key)

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/auth",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/session/end",
                "id_token_signing_alg_values_supported": ["RS256"]}


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid})


@pytest.fixture(scope="session")
def fake_idp() -> Iterator[FakeIdp]:
    """A provider served from this process: discovery, JWKS (``served``) and a token endpoint (``id_token``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeHandler)
    key = new_key("k1")
    idp = FakeIdp(issuer=f"http://127.0.0.1:{server.server_port}", key=key, served=[key])
    server.idp = idp  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        thread.join(timeout=10)


class _FakeHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        idp: FakeIdp = self.server.idp  # type: ignore[attr-defined]
        path = urlparse(self.path).path
        if path == "/.well-known/openid-configuration":
            self._json(idp.metadata())
        elif path == "/jwks":
            self._json(KeySet(idp.served).as_dict(private=False))
        else:
            self._json({"error": "not_found"}, 404)

    def do_POST(self) -> None:
        idp: FakeIdp = self.server.idp  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        idp.token_requests.append(parse_qs(body))
        self._json({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": idp.id_token})

    def _json(self, data: Any, status: int = 200) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def provider_settings(oidc_issuer: str, fake_issuer: str) -> list[dict[str, Any]]:
    """The providers the tests configure: the real one (linked accounts only), the real one with accounts and
    roles from a claim, and the fake one; each tied to Alingsås kommun."""
    real = {"issuer": oidc_issuer, "client_id": "samverkan", "client_secret": CLIENT_SECRET,
            "scopes": "openid profile email roles", "organisations": [ORGANISATION]}
    return [
        {**real, "key": "test", "name": "Testleverantören", "email_domains": ["alingsas.example"]},
        {**real, "key": "jit", "name": "Testleverantören (nya konton)", "create_accounts": True,
         "roles_claim": "roles", "role_map": {"handlaggare": "case_officer"}},
        {"key": "fake", "name": "Egen", "issuer": fake_issuer, "client_id": "samverkan", "client_secret": "s",
         "organisations": [ORGANISATION]},
    ]


@pytest.fixture
def sso_app(app: Flask, oidc_provider: str, fake_idp: FakeIdp) -> Iterator[Flask]:
    """The app with the three test providers configured (and local login on)."""
    before = {key: app.config[key] for key in ("OIDC_ENABLED", "OIDC_PROVIDERS")}
    app.config.update(OIDC_ENABLED=True, OIDC_PROVIDERS=json.dumps(provider_settings(oidc_provider, fake_idp.issuer)))
    try:
        yield app
    finally:
        app.config.update(before)
        fake_idp.served[:] = [fake_idp.key]


def through_provider(client: FlaskClient, start: str) -> Any:
    """Start at ``start`` on our side, let the real provider sign in (its auto-approving interaction) and
    answer our callback; returns our callback's response."""
    location = client.get(start).headers["Location"]
    browser = requests.Session()
    while not location.startswith(APP_URL):
        answer = browser.get(location, allow_redirects=False, timeout=10)
        assert answer.status_code in (302, 303), answer.text[:500]
        location = urljoin(location, answer.headers["Location"])
    return client.get(location[len(APP_URL):])
