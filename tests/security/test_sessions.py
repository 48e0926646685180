"""Issue #17, finding 6: sessions end on the server; no weak secret key; a throttle that counts exactly.

A copied session cookie (the attacker's browser) must stop working when its owner logs out, changes the
password, or an admin disables the account or resets the password.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from service.parties import operations as parties
from service.parties.models import Role, User
from service.transactions import commit_with_retry
from tests.conftest import PASSWORD, csrf_token, login

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
