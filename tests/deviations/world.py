"""A small Västra Götaland for deviation and dispute tests: three parties to one agreement, a county body,
people in every role the two processes use, and browsers logged in as each of them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from service import clock
from service.agreements.models import Agreement, AgreementParty
from service.disputes.models import DisputeLevel
from service.disputes.operations import set_level_setting
from service.parties.models import Membership, Organisation, OrganisationKind, Role, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, ProcessTimer, TaskStatus, TimerStatus
from service.processes.operations import fire_timer
from service.transactions import commit_with_retry
from tests.conftest import PASSWORD, ROOT, csrf_token, login

# A Monday in March 2026: the answer times and level periods below never end on a holiday edge.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# Hashing with scrypt costs 0.2 s per user and login; these tests are about workflows, not passwords.
_FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")

PEOPLE = {
    # username: (organisation key, roles)
    "rapportor": ("alingsas", [Role.CASE_OFFICER]),
    "kontakt_vgr": ("region", [Role.DEVIATION_CONTACT]),
    "kontakt_lerum": ("lerum", [Role.DEVIATION_CONTACT]),
    "samordnare_vgr": ("region", [Role.DEVIATION_COORDINATOR]),
    "chef_vgr": ("region", [Role.MANAGER]),
    "chef_alingsas": ("alingsas", [Role.MANAGER]),
    "chef_lerum": ("lerum", [Role.MANAGER]),
    "analys": ("alingsas", [Role.ANALYSIS_GROUP_MEMBER]),
    "styrgrupp": ("alingsas", [Role.STEERING_GROUP_MEMBER]),
    "handlaggare": ("alingsas", [Role.CASE_OFFICER]),
    "lansniva": ("county", [Role.COUNTY_BODY_MEMBER]),
    "admin": ("region", [Role.ADMIN]),
}


class World:
    """Organisations, people and the agreement; ``browser(username)`` gives a logged-in client."""

    def __init__(self, app: Flask, db: Any) -> None:
        self.app, self.db = app, db
        self.region = _organisation(db, "Västra Götalandsregionen", OrganisationKind.REGION)
        self.alingsas = _organisation(db, "Alingsås kommun", OrganisationKind.KOMMUN)
        self.lerum = _organisation(db, "Lerums kommun", OrganisationKind.KOMMUN)
        self.county = _organisation(db, "Vårdsamverkan Västra Götaland", OrganisationKind.OTHER)
        self.outsider_org = _organisation(db, "Göteborgs Stad", OrganisationKind.KOMMUN)
        organisations = {"region": self.region, "alingsas": self.alingsas, "lerum": self.lerum, "county": self.county}
        self.users = {name: _user(db, name, organisations[org], roles) for name, (org, roles) in PEOPLE.items()}
        self.users["utomstaende"] = _user(db, "utomstaende", self.outsider_org, [Role.DEVIATION_CONTACT, Role.MANAGER])
        self.agreement = make_agreement(db, "Psykisk hälsa och missbruk i Alingsås och Lerum", self.alingsas,
                                        [self.region, self.alingsas, self.lerum], self.users["handlaggare"])
        commit_with_retry(lambda: set_level_setting(None, DisputeLevel.COUNTY, self.county.id, None))
        self._browsers: dict[str, FlaskClient] = {}

    def browser(self, username: str) -> FlaskClient:
        if username not in self._browsers:
            client = self.app.test_client()
            assert login(client, username).status_code == 302
            self._browsers[username] = client
        return self._browsers[username]

    def user(self, username: str) -> User:
        return self.users[username]


def _organisation(db: Any, name: str, kind: OrganisationKind) -> Organisation:
    organisation = Organisation(name=name, kind=kind)
    db.session.add(organisation)
    db.session.commit()
    return organisation


def _user(db: Any, username: str, organisation: Organisation, roles: list[Role]) -> User:
    user = User(username=username, display_name=username.replace("_", " ").title(), password_hash=_FAST_HASH,
                email=f"{username}@example.se")
    user.memberships = [Membership(organisation_id=organisation.id, role=role) for role in roles]
    db.session.add(user)
    db.session.commit()
    return user


def make_agreement(db: Any, title: str, coordinator: Organisation, parties: list[Organisation], by: User) -> Agreement:
    """An agreement row with its parties: all these tests need of agreements/ (title, parties, coordinator)."""
    agreement = Agreement(title=title, coordinator_organisation_id=coordinator.id, created_by_id=by.id)
    agreement.parties = [AgreementParty(organisation_id=org.id) for org in parties]
    db.session.add(agreement)
    db.session.commit()
    return agreement


@pytest.fixture
def deployed(db: Any) -> None:
    """bpmn/deviation.bpmn and bpmn/dispute.bpmn deployed with their forms."""
    for name in ("deviation.bpmn", "dispute.bpmn"):
        xml = (ROOT / "bpmn" / name).read_bytes()
        commit_with_retry(lambda xml=xml, name=name: deploy_definition(xml, name, ROOT / "forms", by=None))


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(START)
    yield
    clock.reset()


@pytest.fixture
def world(app: Flask, db: Any, deployed: None, frozen: None) -> World:
    return World(app, db)


def post_form(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    """Open the page (for its CSRF token) and post the form, as a browser does."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})


def ready_task(db: Any, bpmn_id: str, organisation_id: int | None = None) -> HumanTask:
    db.session.expire_all()
    query = select(HumanTask).where(HumanTask.status == TaskStatus.READY, HumanTask.bpmn_id == bpmn_id)
    if organisation_id is not None:
        query = query.where(HumanTask.organisation_id == organisation_id)
    task = db.session.scalars(query.order_by(HumanTask.id)).first()
    assert task is not None, f"no READY task {bpmn_id}; ready: {ready_ids(db)}"
    return task


def ready_ids(db: Any) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(HumanTask.bpmn_id).where(HumanTask.status == TaskStatus.READY)))


def complete(world: World, username: str, bpmn_id: str, data: dict[str, Any], organisation_id: int | None = None) -> Any:
    """Complete a READY task through its page, as ``username``; asserts the redirect to the inbox."""
    task = ready_task(world.db, bpmn_id, organisation_id)
    response = post_form(world.browser(username), f"/uppgifter/{task.id}", data)
    assert response.status_code == 302, _errors(response)
    return response


def _errors(response: Any) -> str:
    page = response.get_data(as_text=True)
    found = re.findall(r'class="field-error"[^>]*>([^<]+)<|role="alert"><p>([^<]+)<', page)
    return f"{response.status_code}: {found or page[:2000]}"


def fire_due_timer(db: Any, bpmn_id: str, instance_id: int | None = None) -> None:
    """Fire the waiting timer ``bpmn_id`` (the clock must have reached it), as the scheduler's job would."""
    db.session.expire_all()
    query = select(ProcessTimer).where(ProcessTimer.bpmn_id == bpmn_id, ProcessTimer.status == TimerStatus.WAITING)
    if instance_id is not None:
        query = query.where(ProcessTimer.instance_id == instance_id)
    timer = db.session.scalars(query.order_by(ProcessTimer.due_at)).first()
    assert timer is not None, f"no waiting timer {bpmn_id}"
    assert commit_with_retry(lambda: fire_timer(timer.id)), f"timer {bpmn_id} was not due at {clock.now()}"
    db.session.expire_all()
