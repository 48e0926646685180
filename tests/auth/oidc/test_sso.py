"""Single sign-on through a real OpenID provider (oidc-provider on loopback): link, accounts, roles, logout,
and local login switched off with a break-glass account (issue #21)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.auth.models import UserSession
from service.auth.sessions import revoke_user_sessions
from service.parties.models import Membership, Role, User
from tests.auth.oidc.fixtures import APP_URL, ORGANISATION, free_port, through_provider
from tests.conftest import csrf_token, login


def _actions(db: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(event.action, event.data) for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def _linked(make_user: Any, make_organisation: Any, issuer: str, subject: str = "anna", **overrides: Any) -> User:
    organisation = make_organisation(name=ORGANISATION)
    return make_user([(organisation, Role.CASE_OFFICER)], username=subject, external_issuer=issuer,
                     external_subject=subject, **overrides)


def test_login_page_offers_each_provider_and_finds_one_by_email_domain(sso_app: Flask, client: FlaskClient) -> None:
    page = client.get("/logga-in?next=/avtal").get_data(as_text=True)
    assert "Logga in med Testleverantören" in page and "Logga in med Egen" in page
    assert 'href="/logga-in/sso/test?next=/avtal"' in page and 'name="password"' in page
    answer = client.get("/logga-in/sso?email=anna@Alingsas.example")
    query = parse_qs(urlparse(answer.headers["Location"]).query)
    assert answer.headers["Location"].startswith(sso_app.config["OIDC_PROVIDERS"].split('"issuer": "')[1].split('"')[0])
    assert query["login_hint"] == ["anna@Alingsas.example"] and query["code_challenge_method"] == ["S256"]
    assert query["state"] and query["nonce"] and query["code_challenge"]
    elsewhere = client.get("/logga-in/sso?email=x@elsewhere.example")
    assert elsewhere.status_code == 404 and "Ingen identitetsleverantör är konfigurerad" in elsewhere.get_data(as_text=True)
    assert client.get("/logga-in/sso/okand").status_code == 404


def test_linked_person_signs_in_with_a_revocable_server_side_session_and_rp_logout(
        sso_app: Flask, client: FlaskClient, db: Any, make_user: Any, make_organisation: Any, oidc_provider: str) -> None:
    anna = _linked(make_user, make_organisation, oidc_provider)
    answer = through_provider(client, "/logga-in/sso/test?next=/avtal")
    assert answer.status_code == 302 and answer.headers["Location"] == "/avtal"
    assert client.get("/uppgifter").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == anna.id)) == 1
    assert ("auth.sso_login", {"provider": "test", "address": "127.0.0.1"}) in _actions(db)
    # Revocable on the server like a password session (an admin disabling the account, a password reset).
    revoke_user_sessions(anna)
    db.session.commit()
    assert client.get("/uppgifter").status_code == 302
    assert through_provider(client, "/logga-in/sso/test").status_code == 302
    # RP-initiated logout: our session ends, then the provider's end-session endpoint.
    token = csrf_token(client.get("/konto").get_data(as_text=True))
    out = client.post("/logga-ut", data={"csrf_token": token})
    assert out.headers["Location"] == "/logga-ut/sso/test"  # our page, then on: CSP form-action keeps a POST here
    onward = client.get("/logga-ut/sso/test")
    target = onward.headers["Refresh"].removeprefix("0; url=")
    assert target.startswith(f"{oidc_provider}/session/end?") and target.replace("&", "&amp;") in onward.get_data(as_text=True)
    query = parse_qs(urlparse(target).query)
    assert query["client_id"] == ["samverkan"] and query["post_logout_redirect_uri"] == [f"{APP_URL}/logga-in"]
    assert client.get("/uppgifter").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))) == 0


def test_unlinked_subject_is_refused_and_nothing_created(sso_app: Flask, client: FlaskClient, db: Any,
                                                         make_organisation: Any) -> None:
    make_organisation(name=ORGANISATION)
    answer = through_provider(client, "/logga-in/sso/test?login_hint=bert")
    assert answer.status_code == 403
    assert "Ingen användare i Samverkan är kopplad till den här identiteten" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert [a for a, data in _actions(db)] == ["auth.sso_refused"] and _actions(db)[0][1]["reason"] == "unlinked"
    assert client.get("/uppgifter").status_code == 302


def test_just_in_time_account_with_roles_from_the_claim(sso_app: Flask, client: FlaskClient, db: Any,
                                                        make_organisation: Any, oidc_provider: str) -> None:
    alingsas = make_organisation(name=ORGANISATION)
    answer = through_provider(client, "/logga-in/sso/jit?login_hint=nils")
    assert answer.status_code == 302
    nils = db.session.scalar(select(User).where(User.external_subject == "nils"))
    assert (nils.username, nils.display_name, nils.email, nils.external_issuer) == (
        "nils", "Nils Ny", "nils@alingsas.example", oidc_provider)
    # "handlaggare" maps to case officer in the provider's organisation; "okand-roll" maps to nothing.
    assert [(m.organisation_id, m.role) for m in nils.memberships] == [(alingsas.id, Role.CASE_OFFICER.value)]
    assert [a for a, _ in _actions(db)] == ["auth.sso_account_created", "auth.sso_roles_set", "auth.sso_login"]


def test_just_in_time_account_without_role_claim_waits_for_an_admin(
        sso_app: Flask, client: FlaskClient, db: Any, make_organisation: Any) -> None:
    make_organisation(name=ORGANISATION)
    assert through_provider(client, "/logga-in/sso/jit?login_hint=bert").status_code == 302
    bert = db.session.scalar(select(User).where(User.external_subject == "bert"))
    assert bert.memberships == [] and not bert.check_password("")
    assert client.get("/uppgifter").status_code == 200


def test_disabled_user_is_refused(sso_app: Flask, client: FlaskClient, db: Any, make_user: Any,
                                  make_organisation: Any, oidc_provider: str) -> None:
    _linked(make_user, make_organisation, oidc_provider, is_enabled=False)
    answer = through_provider(client, "/logga-in/sso/test")
    assert answer.status_code == 403 and "Kontot är avstängt" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert _actions(db)[-1][1]["reason"] == "disabled"


def test_provider_used_for_an_organisation_it_is_not_tied_to(
        sso_app: Flask, client: FlaskClient, db: Any, make_user: Any, make_organisation: Any, oidc_provider: str) -> None:
    _linked(make_user, make_organisation, oidc_provider)
    other = make_organisation(name="Borås stad")
    # Chosen on the login page: the provider does not sign in for Borås.
    answer = through_provider(client, f"/logga-in/sso/test?organisation={other.id}")
    assert answer.status_code == 403
    assert "får inte användas för att logga in för den organisationen" in answer.get_data(as_text=True)
    # A person of Borås only, linked at this provider: refused too, and their memberships untouched.
    make_user([(other, Role.MANAGER)], username="bert", external_issuer=oidc_provider, external_subject="bert")
    assert through_provider(client, "/logga-in/sso/test?login_hint=bert").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert [data["reason"] for action, data in _actions(db)] == ["organisation", "organisation"]
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 2


def test_local_login_off_keeps_only_the_audited_break_glass_account(
        sso_app: Flask, client: FlaskClient, db: Any, make_user: Any) -> None:
    make_user([], username="kim")
    make_user([], username="nod")
    sso_app.config.update(OIDC_ALLOW_LOCAL_LOGIN=False, OIDC_BREAK_GLASS_USERS="nod")
    try:
        assert 'name="password"' not in client.get("/logga-in").get_data(as_text=True)
        assert 'name="password"' in client.get("/logga-in?lokal=1").get_data(as_text=True)
        refused = login(client, "kim")
        assert refused.status_code == 403 and "Inloggning med lösenord är avstängd" in refused.get_data(as_text=True)
        assert client.get("/uppgifter").status_code == 302
        assert login(client, "nod").status_code == 302 and client.get("/uppgifter").status_code == 200
        assert [a for a, _ in _actions(db)] == ["auth.local_login_refused", "auth.login", "auth.break_glass_login"]
    finally:
        sso_app.config.update(OIDC_ALLOW_LOCAL_LOGIN=True, OIDC_BREAK_GLASS_USERS="")


def test_unreachable_provider_is_named_not_a_server_error(sso_app: Flask, client: FlaskClient) -> None:
    providers = json.loads(sso_app.config["OIDC_PROVIDERS"])
    providers.append({"key": "nere", "issuer": f"http://127.0.0.1:{free_port()}", "client_id": "samverkan"})
    sso_app.config["OIDC_PROVIDERS"] = json.dumps(providers)  # sso_app puts the list back
    answer = client.get("/logga-in/sso/nere")
    assert answer.status_code == 502 and "Identitetsleverantören svarar inte" in answer.get_data(as_text=True)
