"""Fixtures: every database test runs on SQLite and on the real PostgreSQL server.

Tables are created with ``create_all`` once per backend (migrations are checked separately in
test_migrations.py) and emptied after each test. Emptying rather than rolling back lets tests commit
for real, which the concurrency, CLI and HTTP tests need.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask, current_app, g
from flask.testing import FlaskClient
from sqlalchemy import delete, text
from werkzeug.security import generate_password_hash

from service.app import create_app
from service.audit.models import AuditChainHead
from service.audit.operations import GENESIS_HASH
from service.extensions import db as _db
from service.parties import models as parties_models
from service.parties.models import AuthorisedBody, Membership, Organisation, OrganisationKind, Role, User
from service.processes.definitions import deploy_definition
from service.transactions import commit_with_retry

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("SAMVERKAN_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "rätt-lösenord-1"
# A strong key (the service refuses weak ones, issue #17); for tests only, never for a deployment.
TEST_SECRET_KEY = "pytest-only-key-4f1c9a7e2d5b8c3f6a0e9d2c7b4a1f8e"
# Two test runs at once (two checkouts on one machine) need different databases, and so does each of
# pytest-xdist's workers (`make test` runs two): every name a test derives from this one differs per worker.
TEST_DATABASE = os.environ.get("SAMVERKAN_TEST_DATABASE", "samverkan_test") + (
    f"_{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else "")
# The OpenID providers of the single sign-on tests (one Node oidc-provider per session), for tests/auth/oidc
# and tests/browser/test_sso.py alike.
pytest_plugins = ["tests.auth.oidc.fixtures"]


def postgres_url(database: str) -> str:
    """A fresh PostgreSQL database on the test server (created if missing)."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{database}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{database}"


def database_url(backend: str, directory: Path, name: str) -> str:
    if backend == "postgresql":
        return postgres_url(name)
    return f"sqlite:///{directory / (name + '.sqlite3')}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp(request.param)
    application = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url(request.param, directory, TEST_DATABASE),
        "TESTING": True, "SECRET_KEY": TEST_SECRET_KEY,
        # Anchors of each test's chain in a folder of the run, emptied with the tables (_reset).
        "AUDIT_ANCHOR_DIR": str(directory / "audit-anchors"), "AUDIT_ANCHOR_KEY": "test-anchor-key-" + "k" * 32,
    })
    # Test requests run inside the fixture's app context, so ``g`` outlives a request; in production
    # every request has its own. Flask-WTF and Flask-Login cache per-request values (the CSRF token,
    # the current user) in ``g``: start every request with an empty one.
    application.before_request_funcs.setdefault(None, []).insert(0, _empty_g)  # before every other hook
    with application.app_context():
        _db.session.remove()
        _empty_schema(request.param)
        _db.create_all()
        _reset(request.param)
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _empty_schema(backend: str) -> None:
    """Start from nothing, whatever an earlier run (of an older schema) left behind."""
    if backend == "postgresql":
        with _db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        _db.drop_all()


def _empty_g() -> None:
    for name in list(g):
        g.pop(name)


def _reset(backend: str) -> None:
    """Empty every table and put back the audit chain's genesis row."""
    tables = list(reversed(_db.metadata.sorted_tables))
    # agreements.current_version_id and agreement_versions.agreement_id point at each other.
    _db.session.execute(text("UPDATE agreements SET current_version_id = NULL"))
    if backend == "postgresql":
        # The audit tables refuse DELETE (their triggers); the test server's superuser switches triggers, and with
        # them the foreign keys' checks, off. DELETE rather than TRUNCATE: a test leaves a few rows, and TRUNCATE's
        # new files for some 60 tables and their indexes took 0.3-1.8 s per test, DELETE 25 ms.
        _db.session.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            _db.session.execute(delete(table))
        # What TRUNCATE's RESTART IDENTITY did: every sequence the tables own starts again.
        _db.session.execute(text(
            "SELECT setval(d.objid, s.seqstart, false) FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid"
            " WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
            " AND d.deptype IN ('a', 'i') AND d.refobjid = ANY(CAST(:tables AS regclass[]))"),
            {"tables": [table.name for table in tables]})
    else:
        for table in tables:
            _db.session.execute(delete(table))
    _db.session.add(AuditChainHead(id=1, seq=0, hash=GENESIS_HASH))
    _db.session.commit()
    shutil.rmtree(current_app.config["AUDIT_ANCHOR_DIR"], ignore_errors=True)


@pytest.fixture
def backend(app: Flask) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"


@pytest.fixture
def db(app: Flask, backend: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    with app.app_context():
        yield _db
        _db.session.remove()
        try:
            differing = [] if request.node.get_closest_marker("no_reexecution") else _differing_reexecutions()
        finally:
            _reset(backend)
        # Issue #8: every instance a test leaves behind re-executes identically from its audit events.
        assert not differing, f"re-execution differs: {differing}"


def _differing_reexecutions() -> list[str]:
    from sqlalchemy import select

    from service.audit.replay import replay_instance
    from service.errors import BpmnError
    from service.processes.definitions import parsed
    from service.processes.models import ProcessInstance

    differing = []
    try:
        for instance in _db.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).all():
            try:
                parsed(instance.definition)
            except BpmnError:  # a definition a test stored by hand, not deployable: nothing ran on it
                continue
            result = replay_instance(instance)
            if not result.is_identical:
                differing.append(result.summary())
    finally:
        _db.session.rollback()
        _db.session.remove()
    return differing


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_organisation(db: Any) -> Callable[..., Organisation]:
    counter = iter(range(1, 1000))

    def make(**overrides: Any) -> Organisation:
        number = next(counter)
        overrides.setdefault("name", f"Testkommun {number}")
        overrides.setdefault("kind", OrganisationKind.KOMMUN)
        bodies = overrides.pop("bodies", ["Kommunstyrelsen", "Socialnämnden"])
        organisation = Organisation(**overrides)
        organisation.bodies = [AuthorisedBody(name=name) for name in bodies]
        db.session.add(organisation)
        db.session.commit()
        return organisation

    return make


def _quick_hash(password: str) -> str:
    """The service hashes with scrypt, 0.2-0.3 s per user made and per login; the users these tests make sign in
    (and a wrong password fails) as well with a quick hash; a password set through the service, as tests/auth do, is
    still hashed with scrypt."""
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    counter = iter(range(1, 1000))

    def make(roles: list[tuple[Organisation, Role]] = (), **overrides: Any) -> User:  # type: ignore[assignment]
        number = next(counter)
        overrides.setdefault("username", f"user{number}")
        overrides.setdefault("display_name", f"Testperson {number}")
        user = User(**overrides)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(parties_models, "generate_password_hash", _quick_hash)
            user.set_password(PASSWORD)
        user.memberships = [Membership(organisation_id=org.id, role=role) for org, role in roles]
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def adoption(db: Any) -> Any:
    """bpmn/agreement_adoption.bpmn (returned) and agreement_lifecycle.bpmn deployed as version 1."""
    rows = []
    for name in ("agreement_adoption.bpmn", "agreement_lifecycle.bpmn"):
        xml = (ROOT / "bpmn" / name).read_bytes()
        rows.append(commit_with_retry(lambda xml=xml, name=name: deploy_definition(xml, name, ROOT / "forms", by=None))[0])
    return rows[0]


class Parties:
    """Three parties, a coordinator and one body secretary per party."""

    def __init__(self, make_organisation: Callable[..., Organisation], make_user: Callable[..., User]) -> None:
        self.region = make_organisation(name="Västra Götalandsregionen", kind=OrganisationKind.REGION,
                                        bodies=["Regionstyrelsen"])
        self.goteborg = make_organisation(name="Göteborgs Stad", bodies=["Kommunstyrelsen"])
        self.alingsas = make_organisation(name="Alingsås kommun", bodies=["Kommunstyrelsen"])
        self.all = [self.region, self.goteborg, self.alingsas]
        self.coordinator = make_user([(self.goteborg, Role.CASE_OFFICER)], username="anna")
        self.secretaries = {org.id: make_user([(org, Role.BODY_SECRETARY)], username=f"sekr{org.id}")
                            for org in self.all}
        self.officers = {org.id: make_user([(org, Role.CASE_OFFICER)], username=f"hl{org.id}") for org in self.all}


@pytest.fixture
def parties(make_organisation: Callable[..., Organisation], make_user: Callable[..., User], adoption: Any) -> Parties:
    return Parties(make_organisation, make_user)


def draft_data(parties: Parties, **overrides: Any) -> dict[str, Any]:
    """A complete, valid submission of forms/agreement-draft.schema.json (no remiss, no recommendation)."""
    data: dict[str, Any] = {
        "title": "Samverkan kring psykisk hälsa", "party_ids": [org.id for org in parties.all],
        "valid_from": "2027-01-01", "with_consultation": False,
        "responsibilities": "Varje huvudman ansvarar för sina insatser.", "steering_group": "En styrgrupp per part.",
        "mission": "Personer med samsjuklighet.", "goals": "Färre avbrutna insatser.",
        "costs": "Varje part bär sina personalkostnader.", "deviations_and_disputes": "Enligt länets rutin.",
        "amendments": "Ändras genom beslut av alla parter.", "follow_up": "Årligen av styrgruppen.",
        "follow_up_responsible": "Styrgruppens ordförande", "follow_up_due": "2027-12-31",
    }
    data.update(overrides)
    return data


def decision_data(organisation: Organisation, outcome: str = "adopted", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"outcome": outcome, "body_id": organisation.bodies[0].id, "decided_on": "2026-11-24",
                            "paragraph": "§ 12", "diarienummer": f"0948/26-{organisation.id}"}
    if outcome != "adopted":
        data["reason"] = "Kostnadsfördelningen är inte förhandlad."
    data.update(overrides)
    return data


MINUTES = {"minutes_approved_on": "2026-11-30", "posted_on": "2026-12-01"}


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client.get("/logga-in").get_data(as_text=True))
    return client.post("/logga-in", data={"username": username, "password": password, "csrf_token": token})


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one for the whole run: Playwright's sync API cannot start a second
    instance while one runs, so every browser test, in whichever package, takes this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
