"""OpenID Connect single sign-on: the identity providers a deployment trusts, and their Authlib clients.

Several providers, each tied to the organisations it may sign in for (issue #21). ``OIDC_PROVIDERS`` is a
JSON list (``SAMVERKAN_OIDC_PROVIDERS``), one object per provider::

    [{"key": "vgr", "name": "Västra Götalandsregionen", "issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
      "client_id": "...", "client_secret": "...", "scopes": "openid profile email",
      "organisations": ["Västra Götalandsregionen"], "email_domains": ["vgregion.se"],
      "create_accounts": false, "roles_claim": "", "role_map": {}}]

``create_accounts`` (off by default) creates an unknown person as a user with no roles, waiting for an admin;
``roles_claim`` with ``role_map`` (off by default) sets the person's roles in the provider's organisations
from a claim at every sign-in. The older single-provider settings (``OIDC_ISSUER``, ``OIDC_CLIENT_ID``, …)
still work and make one provider keyed ``default``. docs/accounts.md shows Entra ID, Keycloak and a broker.

A person is linked to an identity by (issuer, subject) on the User row; Authlib does discovery, the
authorization code flow with PKCE, ``state`` and ``nonce``, and the ID token's signature (JWKS fetched again
when a token names an unknown key: rotation), ``iss``, ``aud`` and ``exp``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import current_app
from sqlalchemy import select

from service.extensions import db
from service.parties.models import User

_CLIENTS_KEY = "samverkan_oidc_clients"


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    issuer: str
    client_id: str
    client_secret: str = ""
    scopes: str = "openid profile email"
    organisations: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    create_accounts: bool = False
    roles_claim: str = ""
    role_map: tuple[tuple[str, str], ...] = field(default=())
    # Where discovery is read; the issuer's /.well-known/openid-configuration unless given.
    metadata_url: str = ""

    @property
    def discovery_url(self) -> str:
        return self.metadata_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def providers() -> list[Provider]:
    """Every configured provider (OIDC_PROVIDERS, then the single-provider settings as ``default``)."""
    config = current_app.config
    if not config["OIDC_ENABLED"]:
        return []
    raw = config["OIDC_PROVIDERS"]
    listed = [_provider(entry) for entry in (json.loads(raw) if isinstance(raw, str) and raw.strip() else raw or [])]
    if config["OIDC_ISSUER"] and config["OIDC_CLIENT_ID"]:
        listed.append(Provider(key="default", name=config["OIDC_PROVIDER_NAME"], issuer=config["OIDC_ISSUER"],
                               client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
                               scopes=config["OIDC_SCOPES"]))
    return listed


def _provider(entry: Mapping[str, Any]) -> Provider:
    return Provider(
        key=str(entry["key"]), name=str(entry.get("name") or entry["key"]), issuer=str(entry["issuer"]),
        client_id=str(entry["client_id"]), client_secret=str(entry.get("client_secret", "")),
        scopes=str(entry.get("scopes", "openid profile email")),
        organisations=tuple(entry.get("organisations", ())),
        email_domains=tuple(domain.lower() for domain in entry.get("email_domains", ())),
        create_accounts=bool(entry.get("create_accounts", False)), roles_claim=str(entry.get("roles_claim", "")),
        role_map=tuple(sorted(dict(entry.get("role_map", {})).items())), metadata_url=str(entry.get("metadata_url", "")))


def is_enabled() -> bool:
    """Whether single sign-on is configured (enabled, with at least one provider)."""
    return bool(providers())


def get_provider(key: str) -> Provider | None:
    """The provider configured under ``key``, or None."""
    return next((provider for provider in providers() if provider.key == key), None)


def provider_for_email(email: str) -> Provider | None:
    """The provider whose e-mail domains include the address's domain, or None."""
    domain = email.strip().lower().rpartition("@")[2]
    return next((p for p in providers() if domain and domain in p.email_domains), None)


def is_local_login_allowed(username: str | None = None) -> bool:
    """Whether a password login is possible (always without SSO; else by OIDC_ALLOW_LOCAL_LOGIN or break-glass)."""
    if not is_enabled() or current_app.config["OIDC_ALLOW_LOCAL_LOGIN"]:
        return True
    return username is not None and is_break_glass(username)


def is_break_glass(username: str) -> bool:
    """Whether ``username`` is a break-glass local account (OIDC_BREAK_GLASS_USERS), kept when local login is off."""
    names = {name.strip().lower() for name in str(current_app.config["OIDC_BREAK_GLASS_USERS"]).split(",")}
    return bool(username.strip()) and username.strip().lower() in names


def client_for(provider: Provider) -> Any:
    """The Authlib client of ``provider`` (kept per configuration, so discovery and JWKS are fetched once)."""
    clients: dict[Provider, Any] = current_app.extensions.setdefault(_CLIENTS_KEY, {})
    if provider not in clients:
        oauth = OAuth(current_app)
        clients[provider] = oauth.register(
            name=f"oidc_{provider.key}", client_id=provider.client_id, client_secret=provider.client_secret or None,
            server_metadata_url=provider.discovery_url,
            client_kwargs={"scope": provider.scopes, "code_challenge_method": "S256"})
    return clients[provider]


def user_for_claims(claims: Mapping[str, Any]) -> User | None:
    """The enabled user linked to the verified ID token's issuer and subject, or None (no account is created)."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not issuer or not subject or issuer not in {provider.issuer for provider in providers()}:
        return None
    user = linked_user(str(issuer), str(subject))
    return user if user is not None and user.is_active else None


def linked_user(issuer: str, subject: str) -> User | None:
    """The user linked to (issuer, subject), enabled or not."""
    return db.session.scalar(select(User).where(User.external_issuer == issuer, User.external_subject == subject))
