"""OpenID Connect single sign-on: the configuration seam (the sign-in flow itself is not implemented).

Swedish public bodies usually sign in through an identity provider speaking OpenID Connect (e.g. a
municipality's Azure AD / Entra ID, or a federation broker in front of SITHS / Freja eID). Switching it on:

    SAMVERKAN_OIDC_ENABLED=true
    SAMVERKAN_OIDC_ISSUER=https://idp.example.se/realms/kommun   (discovery at /.well-known/openid-configuration)
    SAMVERKAN_OIDC_CLIENT_ID=samverkan
    SAMVERKAN_OIDC_CLIENT_SECRET=...
    SAMVERKAN_OIDC_SCOPES="openid profile email"
    SAMVERKAN_OIDC_PROVIDER_NAME=e-legitimation      (the button text: "Logga in med …")
    SAMVERKAN_OIDC_ALLOW_LOCAL_LOGIN=true             (false hides the password form)

A person is linked to an identity by (issuer, subject) on the User row (``external_issuer``,
``external_subject``; unique together), set by an admin on the user's page. The redirect, the code
exchange and the ID token's signature check need a maintained library (Authlib); it is not installed, so
``/logga-in/sso`` answers 501 while the flow is missing. What the flow must call once it holds verified
claims is here: :func:`user_for_claims`, then the same ``login_user`` and audit event as a password login.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select

from service.extensions import db
from service.parties.models import User


def is_enabled() -> bool:
    """Whether single sign-on is configured (enabled, with an issuer and a client id)."""
    config = current_app.config
    return bool(config["OIDC_ENABLED"]) and bool(config["OIDC_ISSUER"]) and bool(config["OIDC_CLIENT_ID"])


def user_for_claims(claims: Mapping[str, Any]) -> User | None:
    """The enabled user linked to the verified ID token's issuer and subject, or None (no account is created)."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not issuer or not subject or issuer != current_app.config["OIDC_ISSUER"]:
        return None
    user = db.session.scalar(select(User).where(User.external_issuer == issuer, User.external_subject == str(subject)))
    return user if user is not None and user.is_active else None
