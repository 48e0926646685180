"""Mitt konto: password change with the current password, the new one twice and a minimum length."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.parties.models import User
from tests.conftest import PASSWORD, csrf_token, login


@pytest.fixture
def signed_in(client: FlaskClient, make_organisation: Any, make_user: Any) -> FlaskClient:
    make_user([(make_organisation(name="Lerums kommun"), "case_officer")], username="kim", display_name="Kim Ek")
    login(client, "kim")
    return client


def _change(client: FlaskClient, current: str, new: str, repeated: str) -> Any:
    token = csrf_token(client.get("/konto").get_data(as_text=True))
    return client.post("/konto/losenord", data={"csrf_token": token, "current_password": current,
                                                "new_password": new, "repeat_password": repeated})


def test_account_page_shows_name_and_roles(signed_in: FlaskClient) -> None:
    page = signed_in.get("/konto").get_data(as_text=True)
    assert "Kim Ek" in page and "Lerums kommun: Handläggare" in page
    assert '<label for="new_password">Nytt lösenord</label>' in page


def test_password_change_works_and_is_audited(signed_in: FlaskClient, db: Any) -> None:
    response = _change(signed_in, PASSWORD, "ett-nytt-lösenord", "ett-nytt-lösenord")
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "kim"))
    assert user.check_password("ett-nytt-lösenord") and user.password_changed_at is not None
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)) == "auth.password_changed"


@pytest.mark.parametrize(("current", "new", "repeated", "field", "message"), [
    ("fel", "ett-nytt-lösenord", "ett-nytt-lösenord", "current_password", "Det nuvarande lösenordet stämmer inte."),
    (PASSWORD, "kort", "kort", "new_password", "Lösenordet måste ha minst 10 tecken."),
    (PASSWORD, "ett-nytt-lösenord", "ett-annat-lösenord", "repeat_password", "Lösenorden är inte likadana."),
])
def test_refused_change_names_the_field_and_changes_nothing(signed_in: FlaskClient, db: Any, current: str, new: str,
                                                            repeated: str, field: str, message: str) -> None:
    response = _change(signed_in, current, new, repeated)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in page
    user = db.session.scalar(select(User).where(User.username == "kim"))
    assert user.check_password(PASSWORD)
    assert "auth.password_changed" not in db.session.scalars(select(AuditEvent.action)).all()


def test_password_change_without_csrf_is_refused(signed_in: FlaskClient, db: Any) -> None:
    response = signed_in.post("/konto/losenord", data={"current_password": PASSWORD, "new_password": "ett-nytt-lösenord",
                                                       "repeat_password": "ett-nytt-lösenord"})
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.username == "kim")).check_password(PASSWORD)
