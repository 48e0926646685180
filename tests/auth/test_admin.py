"""Admin pages: organisations, bodies, users and memberships; validated with field errors, audited, admin only."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.parties.models import AuthorisedBody, Membership, Organisation, Role, User
from service.parties.validation import normalise_org_number
from tests.conftest import PASSWORD, csrf_token, login


@pytest.fixture
def region(make_organisation: Any) -> Organisation:
    return make_organisation(name="Västra Götalandsregionen", kind="region")


@pytest.fixture
def admin(client: FlaskClient, region: Organisation, make_user: Any) -> FlaskClient:
    make_user([(region, Role.ADMIN)], username="admin")
    login(client, "admin")
    return client


def _post(client: FlaskClient, url: str, page: str, **data: str) -> Any:
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _last_action(db: Any) -> str:
    return str(db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)))


@pytest.mark.parametrize(("value", "expected"), [
    ("212000-1355", "212000-1355"), ("2120001355", "212000-1355"), ("212000-1356", None), ("21200-1355", None),
])
def test_org_number_format_and_check_digit(value: str, expected: str | None) -> None:
    assert normalise_org_number(value) == expected


def test_admin_adds_an_organisation_with_kind_and_number(admin: FlaskClient, db: Any) -> None:
    response = _post(admin, "/admin/organisationer", "/admin/organisationer", name="Göteborgs Stad", kind="kommun",
                     org_number="2120001355")
    assert response.status_code == 302
    found = db.session.scalar(select(Organisation).where(Organisation.name == "Göteborgs Stad"))
    assert (found.kind, found.org_number) == ("kommun", "212000-1355")
    assert _last_action(db) == "organisation.created"


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "", "kind": "kommun", "org_number": ""}, "name"),
    ({"name": "Västra Götalandsregionen", "kind": "region", "org_number": ""}, "name"),
    ({"name": "Ny kommun", "kind": "stad", "org_number": ""}, "kind"),
    ({"name": "Ny kommun", "kind": "kommun", "org_number": "212000-1356"}, "org_number"),
])
def test_invalid_organisation_is_refused_with_the_field_named(admin: FlaskClient, db: Any, data: dict[str, str],
                                                               field: str) -> None:
    response = _post(admin, "/admin/organisationer", "/admin/organisationer", **data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_admin_edits_an_organisation_and_adds_a_body(admin: FlaskClient, region: Organisation, db: Any) -> None:
    page = f"/admin/organisationer/{region.id}"
    assert _post(admin, page, page, name="VGR", kind="region", org_number="232100-0131").status_code == 302
    assert _post(admin, f"{page}/instanser", page, body_name="Regionstyrelsen").status_code == 302
    assert _post(admin, f"{page}/instanser", page, body_name="regionstyrelsen").status_code == 422
    db.session.expire_all()
    assert db.session.get(Organisation, region.id).name == "VGR"
    names = db.session.scalars(select(AuthorisedBody.name).where(AuthorisedBody.organisation_id == region.id)).all()
    assert sorted(names) == ["Kommunstyrelsen", "Regionstyrelsen", "Socialnämnden"]
    assert _last_action(db) == "authorised_body.created"


def test_admin_creates_a_user_who_can_then_sign_in(admin: FlaskClient, app: Any, db: Any) -> None:
    response = _post(admin, "/admin/anvandare", "/admin/anvandare", username="nils", display_name="Nils Berg",
                     email="nils@example.se", password="ett-bra-lösenord", repeat_password="ett-bra-lösenord")
    assert response.status_code == 302
    assert _last_action(db) == "user.created"
    assert login(app.test_client(), "nils", "ett-bra-lösenord").status_code == 302


@pytest.mark.parametrize(("data", "field"), [
    ({"username": "admin", "display_name": "Dubblett"}, "username"),
    ({"username": "Stor Bokstav", "display_name": "X Y"}, "username"),
    ({"username": "nils", "display_name": ""}, "display_name"),
    ({"username": "nils", "display_name": "Nils", "email": "inte-en-adress"}, "email"),
    ({"username": "nils", "display_name": "Nils", "password": "kort", "repeat_password": "kort"}, "password"),
])
def test_invalid_user_is_refused_with_the_field_named(admin: FlaskClient, db: Any, data: dict[str, str], field: str) -> None:
    data = {"password": "ett-bra-lösenord", "repeat_password": "ett-bra-lösenord", **data}
    response = _post(admin, "/admin/anvandare", "/admin/anvandare", **data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_memberships_are_added_and_removed(admin: FlaskClient, region: Organisation, make_user: Any, db: Any) -> None:
    person = make_user([], username="nils")
    page = f"/admin/anvandare/{person.id}"
    assert _post(admin, f"{page}/roller", page, organisation_id=str(region.id), role="manager").status_code == 302
    assert _post(admin, f"{page}/roller", page, organisation_id=str(region.id), role="manager").status_code == 422
    assert _post(admin, f"{page}/roller", page, organisation_id="", role="chef").status_code == 422
    membership = db.session.scalar(select(Membership).where(Membership.user_id == person.id))
    assert membership.role == "manager"
    assert _post(admin, f"{page}/roller/{membership.id}/ta-bort", page).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == person.id)) == 0
    assert _last_action(db) == "membership.removed"


def test_disable_and_reset_password(admin: FlaskClient, app: Any, make_user: Any, db: Any) -> None:
    person = make_user([], username="nils")
    page = f"/admin/anvandare/{person.id}"
    assert _post(admin, f"{page}/aktiv", page, is_enabled="0").status_code == 302
    assert login(app.test_client(), "nils").status_code == 401
    assert _post(admin, f"{page}/aktiv", page, is_enabled="1").status_code == 302
    shown = _post(admin, f"{page}/losenord", page).get_data(as_text=True)
    new_password = shown.split('<code id="new-password">')[1].split("</code>")[0]
    assert login(app.test_client(), "nils", PASSWORD).status_code == 401
    assert login(app.test_client(), "nils", new_password).status_code == 302
    assert "user.password_reset" in db.session.scalars(select(AuditEvent.action)).all()


def test_admin_cannot_disable_themselves(admin: FlaskClient, db: Any) -> None:
    me = db.session.scalar(select(User).where(User.username == "admin"))
    response = _post(admin, f"/admin/anvandare/{me.id}/aktiv", f"/admin/anvandare/{me.id}", is_enabled="0")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, me.id).is_enabled


def test_linking_an_identity_is_unique(admin: FlaskClient, make_user: Any, db: Any) -> None:
    first, second = make_user([], username="a1"), make_user([], username="a2")
    data = {"external_issuer": "https://idp.example.se", "external_subject": "199001011234"}
    assert _post(admin, f"/admin/anvandare/{first.id}/identitet", "/admin/anvandare", **data).status_code == 302
    assert _post(admin, f"/admin/anvandare/{second.id}/identitet", "/admin/anvandare", **data).status_code == 422
    assert _post(admin, f"/admin/anvandare/{second.id}/identitet", "/admin/anvandare",
                 external_issuer="https://idp.example.se", external_subject="").status_code == 422


def test_non_admin_gets_403_on_every_admin_page(client: FlaskClient, region: Organisation, make_user: Any, db: Any) -> None:
    make_user([(region, Role.MANAGER), (region, Role.AUDITOR)], username="chef")
    login(client, "chef")
    for url in ("/admin/", "/admin/organisationer", f"/admin/organisationer/{region.id}", "/admin/anvandare"):
        assert client.get(url).status_code == 403
    token = csrf_token(client.get("/konto").get_data(as_text=True))
    response = client.post("/admin/organisationer", data={"csrf_token": token, "name": "Ny", "kind": "kommun"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
