"""Login, logout and throttling: wrong passwords are counted in the database and refused with 429."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, inspect, select

from service import clock
from service.audit.models import AuditEvent
from service.auth.models import LoginAttempt, LoginOutcome
from service.parties.models import Role
from service.parties.operations import load_user
from tests.conftest import PASSWORD, csrf_token, login


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def person(make_organisation: Any, make_user: Any) -> Any:
    return make_user([], username="kim")


def _wrong(client: FlaskClient, username: str = "kim", times: int = 1) -> Any:
    response = None
    for _ in range(times):
        response = login(client, username, "fel-lösenord")
    return response


def _actions(db: Any) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_right_password_signs_in_and_is_audited(client: FlaskClient, person: Any, db: Any) -> None:
    response = login(client, "kim")
    assert response.status_code == 302
    assert client.get("/konto").status_code == 200
    assert _actions(db) == ["auth.login"]


def test_wrong_password_is_refused_in_swedish_and_audited(client: FlaskClient, person: Any, db: Any) -> None:
    response = _wrong(client)
    assert response.status_code == 401
    assert "Fel användarnamn eller lösenord." in response.get_data(as_text=True)
    assert _actions(db) == ["auth.login_failed"]
    assert client.get("/konto").status_code == 302  # still anonymous


def test_fifth_wrong_password_locks_the_username_with_429(client: FlaskClient, person: Any, db: Any) -> None:
    assert _wrong(client, times=5).status_code == 401
    refused = login(client, "kim", PASSWORD)  # even the right password: it is not checked while locked
    assert refused.status_code == 429
    assert "För många felaktiga inloggningsförsök" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60 + 1
    assert client.get("/konto").status_code == 302
    assert _actions(db)[-1] == "auth.login_throttled"


def test_lock_is_per_username_not_for_others(client: FlaskClient, person: Any, make_user: Any) -> None:
    make_user([], username="alex")
    _wrong(client, times=5)
    assert login(client, "alex").status_code == 302


def test_lock_holds_across_app_processes_because_it_is_in_the_database(app: Any, client: FlaskClient, person: Any,
                                                                       db: Any) -> None:
    _wrong(client, times=5)
    other_process = app.test_client()  # a new client shares nothing with the first but the database
    assert login(other_process, "kim", PASSWORD).status_code == 429


def test_lock_ends_when_the_window_has_passed(client: FlaskClient, person: Any) -> None:
    _wrong(client, times=5)
    clock.advance(timedelta(minutes=16))
    assert login(client, "kim", PASSWORD).status_code == 302


def test_successful_login_resets_the_count(client: FlaskClient, person: Any) -> None:
    _wrong(client, times=4)
    assert login(client, "kim").status_code == 302
    client.post("/logga-ut", data={"csrf_token": csrf_token(client.get("/konto").get_data(as_text=True))})
    assert _wrong(client, times=4).status_code == 401  # 4 new failures: below the limit again
    assert login(client, "kim").status_code == 302


def test_unknown_usernames_from_one_address_lock_the_address(app: Any, client: FlaskClient, person: Any, db: Any) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    try:
        for name in ("a1", "a2", "a3"):
            assert _wrong(client, name).status_code == 401
        assert login(client, "kim", PASSWORD).status_code == 429
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 20
    counted = db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.outcome == LoginOutcome.FAILED))
    assert counted == 3


def test_disabled_account_cannot_sign_in(client: FlaskClient, make_user: Any) -> None:
    make_user([], username="borta", is_enabled=False)
    assert login(client, "borta").status_code == 401


def test_post_without_csrf_token_is_refused_and_records_nothing(client: FlaskClient, person: Any, db: Any) -> None:
    response = client.post("/logga-in", data={"username": "kim", "password": PASSWORD})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
    assert client.get("/konto").status_code == 302


def test_logout_is_a_post_with_csrf_and_audited(client: FlaskClient, person: Any, db: Any) -> None:
    login(client, "kim")
    assert client.get("/logga-ut").status_code == 405
    assert client.post("/logga-ut").status_code == 400  # no token
    assert client.get("/konto").status_code == 200
    token = csrf_token(client.get("/konto").get_data(as_text=True))
    assert client.post("/logga-ut", data={"csrf_token": token}).status_code == 302
    assert client.get("/konto").status_code == 302
    assert _actions(db) == ["auth.login", "auth.logout"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_login_never_redirects_off_site(client: FlaskClient, person: Any, target: str) -> None:
    token = csrf_token(client.get("/logga-in").get_data(as_text=True))
    response = client.post(f"/logga-in?next={target}", data={"username": "kim", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/uppgifter"


def test_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient, person: Any) -> None:
    response = login(client, "kim")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests


def test_session_cookie_is_secure_over_https(app: Any, person: Any, db: Any) -> None:
    client = app.test_client()
    page = client.get("/logga-in", base_url="https://samverkan.example")
    response = client.post("/logga-in", base_url="https://samverkan.example", data={
        "username": "kim", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))},
        headers={"Referer": "https://samverkan.example/logga-in"})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]



def test_the_signed_in_person_comes_with_their_memberships_in_one_statement(db: Any, make_organisation: Any,
                                                                             make_user: Any) -> None:
    kommun = make_organisation()
    kommun_id, user_id = kommun.id, make_user([(kommun, Role.CASE_OFFICER), (kommun, Role.MANAGER)]).id
    db.session.expunge_all()
    statements: list[str] = []

    def count(_connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
        statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        user = load_user(user_id)
        assert user is not None and "memberships" not in inspect(user).unloaded
        assert user.has_role(kommun_id, Role.MANAGER) and not user.has_role(kommun_id, Role.BODY_SECRETARY)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert load_user(user_id + 1000) is None
