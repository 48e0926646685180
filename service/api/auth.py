"""Who is calling the API: a Bearer token (read or read+write scope), or for reads only the browser session.

Writes never accept the session cookie: the API is CSRF-exempt, so a cookie must not be able to change anything.
"""

from __future__ import annotations

from flask import Response, g, request
from flask_login import current_user

from service import access
from service.api.errors import ApiProblem
from service.api.tokens import find_usable_token
from service.parties.models import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = 'Bearer realm="samverkan"'


def authenticate() -> None:
    """Before every API request: set ``g.api_user`` and ``g.api_scopes`` or refuse with 401."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        token = find_usable_token(secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
        if token is None:
            raise ApiProblem(401, "invalid-token", "API-nyckeln är ogiltig, återkallad eller har gått ut.",
                             headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})
        g.api_user, g.api_scopes = token.user, token.scope_set
        g._login_user = token.user  # current_user is the token's user for the rest of the request
        g.api_token_login = True
        return
    if request.method in SAFE_METHODS and current_user.is_authenticated:
        g.api_user, g.api_scopes = current_user._get_current_object(), frozenset({"read"})
        return
    detail = ("Ändringar via API:t kräver en API-nyckel (Authorization: Bearer …)." if current_user.is_authenticated
              else "Ange en API-nyckel: Authorization: Bearer <nyckel>.")
    raise ApiProblem(401, "unauthorized", detail, headers={"WWW-Authenticate": CHALLENGE})


def api_user() -> User:
    user: User = g.api_user
    return user


def require_write() -> User:
    """The caller, if their token has the write scope (and they are not only an auditor: auditors change nothing)."""
    if access.is_read_only(api_user()):
        raise ApiProblem(403, "read-only-role", "Granskare har läsbehörighet och kan inte ändra något.")
    if "write" not in g.api_scopes:
        raise ApiProblem(403, "insufficient-scope", "API-nyckeln har bara läsbehörighet.",
                         headers={"WWW-Authenticate": CHALLENGE + ', error="insufficient_scope", scope="write"'})
    return api_user()


def forget_token_user(response: Response) -> Response:
    """After the request: the token's user must not outlive it (tests share one app context, hence ``g``)."""
    if g.pop("api_token_login", False):
        g.pop("_login_user", None)
    return response
