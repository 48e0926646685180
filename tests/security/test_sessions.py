"""Issue #17, finding 6: sessions end on the server; no weak secret key; a throttle that counts exactly.

A copied session cookie (the attacker's browser) must stop working when its owner logs out, changes the
password, or an admin disables the account or resets the password. The service refuses to start with a
missing (outside local SQLite), weak or published SECRET_KEY, in one line. Parallel guesses get exactly the
allowed number of password checks, and guessing cannot keep the owner out.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select

from service import config
from service.auth import sessions
from service.auth.models import LoginAttempt, LoginOutcome
from service.auth.secret_key import SecretKeyRefused, weakness
from service.parties import operations as parties
from service.parties.models import Role, User
from service.transactions import commit_with_retry
from tests.conftest import PASSWORD, ROOT, csrf_token, login
from tests.security.payloads import WEAK_SECRET_KEYS

COOKIE = "samverkan_session"


@pytest.fixture
def kim(make_user: Any) -> User:
    user: User = make_user([], username="kim")
    return user


@pytest.fixture
def admin(make_user: Any, make_organisation: Any) -> User:
    user: User = make_user([(make_organisation(), Role.ADMIN)], username="admin")
    return user


def signed_in(app: Flask, username: str = "kim") -> FlaskClient:
    browser = app.test_client()
    assert login(browser, username).status_code == 302
    assert browser.get("/konto").status_code == 200
    return browser


def copy_of(app: Flask, browser: FlaskClient) -> FlaskClient:
    """The attacker's browser, holding a copy of the victim's session cookie."""
    cookie = browser.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    assert thief.get("/konto").status_code == 200  # the copy works as long as the session does
    return thief


def is_signed_in(browser: FlaskClient) -> bool:
    return browser.get("/konto").status_code == 200


def test_copied_cookie_stops_working_after_logout(app: Flask, db: Any, kim: User) -> None:
    browser = signed_in(app)
    thief = copy_of(app, browser)
    token = csrf_token(browser.get("/konto").get_data(as_text=True))
    assert browser.post("/logga-ut", data={"csrf_token": token}).status_code == 302
    assert not is_signed_in(browser)
    assert not is_signed_in(thief)


def test_password_change_ends_every_other_session_and_renews_this_one(app: Flask, db: Any, kim: User) -> None:
    browser = signed_in(app)
    other_device = signed_in(app)
    thief = copy_of(app, browser)
    before = browser.get_cookie(COOKIE).value  # type: ignore[union-attr]
    token = csrf_token(browser.get("/konto").get_data(as_text=True))
    response = browser.post("/konto/losenord", data={"current_password": PASSWORD, "new_password": "ett-nytt-lösenord-2",
                                                     "repeat_password": "ett-nytt-lösenord-2", "csrf_token": token})
    assert response.status_code == 302
    assert is_signed_in(browser)  # on a fresh session
    assert browser.get_cookie(COOKIE).value != before  # type: ignore[union-attr]
    assert not is_signed_in(thief)
    assert not is_signed_in(other_device)


def test_refused_password_change_ends_nothing(app: Flask, db: Any, kim: User) -> None:
    browser = signed_in(app)
    thief = copy_of(app, browser)
    token = csrf_token(browser.get("/konto").get_data(as_text=True))
    response = browser.post("/konto/losenord", data={"current_password": "fel", "new_password": "ett-nytt-lösenord-2",
                                                     "repeat_password": "ett-nytt-lösenord-2", "csrf_token": token})
    assert response.status_code == 422
    assert is_signed_in(browser) and is_signed_in(thief)


def test_disabling_an_account_ends_its_sessions(app: Flask, db: Any, kim: User, admin: User) -> None:
    browser = signed_in(app)
    thief = copy_of(app, browser)
    administrator = signed_in(app, "admin")
    token = csrf_token(administrator.get("/konto").get_data(as_text=True))
    response = administrator.post(f"/admin/anvandare/{kim.id}/aktiv", data={"is_enabled": "0", "csrf_token": token})
    assert response.status_code == 302
    assert not is_signed_in(browser)
    assert not is_signed_in(thief)
    assert is_signed_in(administrator)


def test_admin_password_reset_ends_the_sessions(app: Flask, db: Any, kim: User, admin: User) -> None:
    browser = signed_in(app)
    commit_with_retry(lambda: parties.reset_password(db.session.get(User, kim.id), by=db.session.get(User, admin.id)))
    assert not is_signed_in(browser)


def test_other_users_sessions_are_untouched(app: Flask, db: Any, kim: User, make_user: Any) -> None:
    make_user([], username="alex")
    alex = signed_in(app, "alex")
    browser = signed_in(app)
    token = csrf_token(browser.get("/konto").get_data(as_text=True))
    browser.post("/logga-ut", data={"csrf_token": token})
    assert is_signed_in(alex)


def test_a_session_ends_on_the_server_after_its_lifetime(app: Flask, db: Any, kim: User,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight hours on the wall clock (not the service clock, which tests of deadlines move)."""
    browser = signed_in(app)
    thief = copy_of(app, browser)
    later = datetime.now(UTC) + app.permanent_session_lifetime + timedelta(seconds=1)
    monkeypatch.setattr(sessions, "_wall_clock", lambda: later)
    assert not is_signed_in(thief)


def test_a_cookie_signed_with_the_key_alone_signs_no_one_in(app: Flask, db: Any, kim: User) -> None:
    """What the forged admin session of the finding was: a cookie naming a user id, signed with the key."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    forged = serializer.dumps({"_user_id": str(kim.id), "_fresh": True, "session_token": "guessed"})
    browser = app.test_client()
    browser.set_cookie(COOKIE, forged)
    assert not is_signed_in(browser)
    bare = serializer.dumps({"_user_id": str(kim.id), "_fresh": True})
    browser.set_cookie(COOKIE, bare)
    assert not is_signed_in(browser)


# --- Login throttling: an atomic count, and a lock that does not keep the owner out ---

def post_login(browser: FlaskClient, password: str, address: str, username: str = "kim") -> Any:
    page = browser.get("/logga-in", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    return browser.post("/logga-in", environ_base={"REMOTE_ADDR": address},
                        data={"username": username, "password": password, "csrf_token": csrf_token(page)})


def outcomes(db: Any) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(LoginAttempt.outcome)))


@pytest.fixture
def counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check, slowed down so that parallel attempts really overlap."""
    checks: list[str] = []
    original = User.check_password

    def slow_check(user: User, password: str) -> bool:
        checks.append(password)  # list.append is atomic under the GIL
        time.sleep(0.05)
        return original(user, password)

    monkeypatch.setattr(User, "check_password", slow_check)
    return checks


@pytest.mark.parametrize("spread", ["one address", "many addresses"])
def test_parallel_burst_gets_exactly_the_allowed_checks(app: Flask, db: Any, kim: User, counted_checks: list[str],
                                                        spread: str) -> None:
    """30 guesses at once: exactly LOGIN_MAX_FAILURES (one address) or LOGIN_MAX_FAILURES_PER_USERNAME (one
    address each) passwords are checked, every other guess is refused with 429."""
    limit_key = "LOGIN_MAX_FAILURES" if spread == "one address" else "LOGIN_MAX_FAILURES_PER_USERNAME"
    previous, app.config[limit_key] = app.config[limit_key], 5
    limit = 5
    addresses = [f"203.0.113.{i if spread == 'many addresses' else 1}" for i in range(1, 31)]
    browsers = [app.test_client() for _ in addresses]
    tokens = [csrf_token(b.get("/logga-in").get_data(as_text=True)) for b in browsers]
    barrier = threading.Barrier(len(browsers))
    statuses: list[int] = [0] * len(browsers)

    def guess(index: int) -> None:
        barrier.wait()
        statuses[index] = browsers[index].post("/logga-in", environ_base={"REMOTE_ADDR": addresses[index]}, data={
            "username": "kim", "password": f"gissning-{index}", "csrf_token": tokens[index]}).status_code

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(browsers))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        app.config[limit_key] = previous
    assert len(counted_checks) == limit
    assert sorted(statuses) == [401] * limit + [429] * (len(browsers) - limit)
    assert outcomes(db).count(LoginOutcome.FAILED) == limit


def test_guessing_from_one_address_does_not_lock_the_owner_out_elsewhere(app: Flask, db: Any, kim: User) -> None:
    attacker = app.test_client()
    for _ in range(int(app.config["LOGIN_MAX_FAILURES"])):
        assert post_login(attacker, "fel-lösenord", "203.0.113.66").status_code == 401
    assert post_login(attacker, PASSWORD, "203.0.113.66").status_code == 429  # the guesser is locked out
    assert post_login(app.test_client(), PASSWORD, "198.51.100.7").status_code == 302  # the owner is not


def test_guessing_from_many_addresses_leaves_the_owners_known_address_open(app: Flask, db: Any, kim: User) -> None:
    assert post_login(app.test_client(), PASSWORD, "198.51.100.7").status_code == 302  # kim's usual place
    previous, app.config["LOGIN_MAX_FAILURES_PER_USERNAME"] = app.config["LOGIN_MAX_FAILURES_PER_USERNAME"], 4
    try:
        for i in range(4):
            assert post_login(app.test_client(), "fel-lösenord", f"203.0.113.{i + 1}").status_code == 401
        assert post_login(app.test_client(), PASSWORD, "203.0.113.99").status_code == 429  # a new address: refused
        assert post_login(app.test_client(), PASSWORD, "198.51.100.7").status_code == 302  # known: checked
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_USERNAME"] = previous


def test_a_successful_login_gives_back_its_count(app: Flask, db: Any, kim: User) -> None:
    """Signing in many times from one office address never locks it (only failures stay counted)."""
    previous, app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"], 3
    try:
        for _ in range(5):
            assert post_login(app.test_client(), PASSWORD, "192.0.2.10").status_code == 302
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = previous


# --- SECRET_KEY: required and strong outside the local SQLite default ---

POSTGRES = "postgresql://postgres@127.0.0.1:5432/samverkan_never_connected"


def published_examples() -> list[str]:
    """Every SECRET_KEY=value written in deploy/, docs/ and README.md (a shell substitution makes its own)."""
    files = [ROOT / "README.md", *sorted((ROOT / "deploy").iterdir()), *sorted((ROOT / "docs").glob("*.md"))]
    values = set()
    for path in files:
        for value in re.findall(r"SECRET_KEY=([^\s`'\"]+)", path.read_text(encoding="utf-8")):
            if not value.startswith("$"):
                values.add(value)
    return sorted(values)


def test_the_deploy_example_is_found_among_the_published_ones() -> None:
    assert "change-me-to-64-random-hex-characters" in published_examples()


@pytest.mark.parametrize("value", WEAK_SECRET_KEYS + published_examples())
@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_weak_or_published_secret_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str,
                                                 database: str) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    uri = POSTGRES if database == "postgresql" else f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(SecretKeyRefused) as refused:
        config.load(tmp_path, {"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": value})
    assert "\n" not in str(refused.value.code) and "secrets.token_urlsafe" in str(refused.value.code)
    monkeypatch.setenv("SECRET_KEY", value)
    with pytest.raises(SecretKeyRefused):
        config.load(tmp_path, {"SQLALCHEMY_DATABASE_URI": uri})


def test_missing_secret_key_is_refused_outside_local_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SecretKeyRefused):
        config.load(tmp_path, {"SQLALCHEMY_DATABASE_URI": POSTGRES})
    assert not (tmp_path / "secret_key").exists()
    generated = config.load(tmp_path, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"})["SECRET_KEY"]
    assert (tmp_path / "secret_key").read_text() == generated and weakness(generated) is None


# Fresh keys every run, named by their kind (test ids must be the same in every pytest-xdist worker).
@pytest.mark.parametrize("value", [secrets.token_urlsafe(48), secrets.token_hex(32), secrets.token_urlsafe(24)],
                         ids=["urlsafe-48", "hex-32", "urlsafe-24"])
def test_a_strong_secret_key_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert config.load(tmp_path, {"SQLALCHEMY_DATABASE_URI": POSTGRES, "SECRET_KEY": value})["SECRET_KEY"] == value


@pytest.mark.parametrize("value", [None, "x", "change-me-to-64-random-hex-characters"])
def test_the_command_refuses_to_start_in_one_line(tmp_path: Path, value: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"DATABASE_URL": POSTGRES}
    if value is not None:
        env["SECRET_KEY"] = value
    done = subprocess.run([sys.executable, "-c", "from service.cli import main; main()", "create-database"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("SECRET_KEY")
