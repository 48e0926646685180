"""Single sign-on pages: start at a provider, its callback, and where logout sends the browser (issue #21)."""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from requests import RequestException
from werkzeug.wrappers import Response as BaseResponse

from service.auth import oidc
from service.auth.redirects import safe_next
from service.auth.sessions import start_session
from service.auth.sso import SsoRefused, record_refusal, sign_in
from service.extensions import db
from service.parties.models import Organisation
from service.transactions import commit_with_retry

bp = Blueprint("sso", __name__)
NEXT_KEY, ORGANISATION_KEY, PROVIDER_KEY = "sso_next", "sso_organisation", "sso_provider"
# A wrong audience fails Authlib's aud or azp check (azp is required of a token not issued to this client alone).
_CLAIM_REASONS = {"aud": "audience", "azp": "audience", "iss": "issuer", "nonce": "nonce", "exp": "expired"}


@bp.app_template_global("sso_providers")
def sso_providers() -> list[oidc.Provider]:
    """In templates: the providers the login page offers."""
    return oidc.providers()


@bp.app_template_global("local_login_shown")
def local_login_shown() -> bool:
    """In templates: whether the login page shows the password form (``?lokal=1``: the break-glass form)."""
    return oidc.is_local_login_allowed() or request.args.get("lokal") == "1"


@bp.get("/logga-in/sso")
def choose() -> BaseResponse:
    """Start single sign-on at the provider of the e-mail domain typed, or the only provider configured."""
    providers = oidc.providers()
    email = request.args.get("email", "").strip()
    provider = oidc.provider_for_email(email) if email else (providers[0] if len(providers) == 1 else None)
    if not providers:
        abort(404)
    if provider is None:
        error = _("Ingen identitetsleverantör är konfigurerad för den e-postadressen.")
        return render_template("inbox/login.html", error=error), 404  # type: ignore[return-value]
    return _start(provider, login_hint=email or None)


@bp.get("/logga-in/sso/<key>")
def start(key: str) -> BaseResponse:
    """Send the browser to the provider ``key`` (authorization code flow with PKCE, state and nonce)."""
    provider = oidc.get_provider(key)
    if provider is None:
        abort(404)
    return _start(provider, login_hint=request.args.get("login_hint") or None)


def _start(provider: oidc.Provider, login_hint: str | None) -> BaseResponse:
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    session[ORGANISATION_KEY] = request.args.get("organisation", "")
    extra = {"login_hint": login_hint} if login_hint else {}
    redirect_uri = url_for("sso.callback", key=provider.key, _external=True)
    try:
        return oidc.client_for(provider).authorize_redirect(redirect_uri, **extra)  # type: ignore[no-any-return]
    except RequestException:  # discovery unreachable
        error = _("Identitetsleverantören svarar inte. Försök igen om en stund.")
        return render_template("inbox/login.html", error=error), 502  # type: ignore[return-value]


@bp.get("/logga-in/sso/<key>/callback")
def callback(key: str) -> BaseResponse | tuple[str, int]:
    """Finish single sign-on: verify the provider's answer, sign the linked person in, or refuse and say why."""
    provider, address = oidc.get_provider(key), request.remote_addr or "okänd"
    try:
        if provider is None:
            raise SsoRefused("issuer", provider_key=key)
        claims = _verified_claims(provider)
        organisation = _chosen_organisation()
        user, token = commit_with_retry(lambda: sign_in(provider, claims, address, organisation))
    except SsoRefused as refusal:
        refused = refusal
        commit_with_retry(lambda: record_refusal(provider, refused, address))
        return render_template("inbox/login.html", error=refused.message), 403
    target = safe_next(session.get(NEXT_KEY))
    start_session(user, token)
    session[PROVIDER_KEY] = provider.key
    return redirect(target)


def _verified_claims(provider: oidc.Provider) -> dict[str, Any]:
    """The ID token's claims, checked by Authlib; every failure a refusal with its reason."""
    try:
        token = oidc.client_for(provider).authorize_access_token()
    except MismatchingStateError as exc:
        raise SsoRefused("state") from exc
    except ExpiredTokenError as exc:
        raise SsoRefused("expired") from exc
    except ClaimError as exc:
        raise SsoRefused(_CLAIM_REASONS.get(exc.claim, "token"), claim=exc.claim) from exc
    except BadSignatureError as exc:
        raise SsoRefused("signature") from exc
    except InvalidKeyIdError as exc:
        raise SsoRefused("unknown_key") from exc
    except JoseError as exc:
        raise SsoRefused("token", error=type(exc).__name__) from exc
    except (OAuthError, RequestException) as exc:
        raise SsoRefused("provider", error=type(exc).__name__) from exc
    if not token.get("userinfo"):
        raise SsoRefused("token", error="no id_token")
    return dict(token["userinfo"])


def _chosen_organisation() -> Organisation | None:
    chosen = str(session.pop(ORGANISATION_KEY, "") or "")
    return db.session.get(Organisation, int(chosen)) if chosen.isdigit() else None


def provider_logout_url(key: str | None) -> str | None:
    """Where our logout sends the browser when the session came from provider ``key``: our page that goes on
    to the provider's end-session endpoint (a POST's redirect may not leave our origin: CSP form-action)."""
    provider = oidc.get_provider(key) if key else None
    return url_for("sso.provider_logout", key=provider.key) if provider is not None else None


@bp.get("/logga-ut/sso/<key>")
def provider_logout(key: str) -> BaseResponse | tuple[str, int, dict[str, str]]:
    """After our logout, end the session at the provider too (RP-initiated logout), where it offers one."""
    provider = oidc.get_provider(key)
    try:
        target = str(oidc.client_for(provider).create_logout_url(
            post_logout_redirect_uri=url_for("inbox.login", _external=True), client_id=provider.client_id)["url"]
        ) if provider is not None else ""
    except (RuntimeError, RequestException):
        target = ""
    if not target:
        return redirect(url_for("inbox.login"))
    page = render_template("auth/provider_logout.html", provider=provider, target=target)
    return page, 200, {"Refresh": f"0; url={target}"}
