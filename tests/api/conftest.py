"""An API world: two unrelated organisations, people in the roles the API distinguishes, and their tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.api.tokens import create_token
from service.parties.models import Organisation, Role, User
from service.processes.definitions import deploy_definition
from service.transactions import commit_with_retry
from tests.conftest import ROOT
from tests.deviations.world import deployed, frozen, world  # noqa: F401 (fixtures for test_cases.py)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FORMS = ROOT / "tests" / "fixtures" / "forms"


class ApiWorld:
    """Organisations A and B (unrelated), people and their write tokens; ``read_token`` is read-only."""

    def __init__(self, app: Flask, make_organisation: Any, make_user: Any) -> None:
        self.app = app
        self.org_a: Organisation = make_organisation(name="Alingsås kommun")
        self.org_b: Organisation = make_organisation(name="Borås Stad")
        self.users: dict[str, User] = {
            "officer_a": make_user([(self.org_a, Role.CASE_OFFICER)], username="officer_a"),
            "officer_b": make_user([(self.org_b, Role.CASE_OFFICER)], username="officer_b"),
            "owner": make_user([(self.org_a, Role.PROCESS_OWNER)], username="owner"),
            "auditor": make_user([(self.org_a, Role.AUDITOR)], username="auditor"),
        }
        self.tokens = {name: self.token(user, {"read", "write"}) for name, user in self.users.items()}
        self.read_token = self.token(self.users["officer_a"], {"read"})

    def token(self, user: User, scopes: set[str], days: int = 30) -> str:
        return commit_with_retry(lambda: create_token(user, "test", scopes, days)).secret

    def client(self, name: str, *, read_only: bool = False) -> ApiClient:
        return ApiClient(self.app.test_client(), self.read_token if read_only else self.tokens[name])


class ApiClient:
    """A test client that sends a Bearer token with every request."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.token = client, token

    def __getattr__(self, method: str) -> Any:
        def call(url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
            return getattr(self.client, method)(url, headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
                                                **kwargs)
        return call


@pytest.fixture
def simple_process(db: Any) -> Any:
    """tests/api/fixtures/api_simple.bpmn deployed: one Handläggare task in the case's organisation."""
    xml = (FIXTURES / "api_simple.bpmn").read_bytes()
    return commit_with_retry(lambda: deploy_definition(xml, "api_simple.bpmn", FORMS, by=None))[0]


@pytest.fixture
def api(app: Flask, db: Any, make_organisation: Any, make_user: Any, simple_process: Any) -> ApiWorld:
    return ApiWorld(app, make_organisation, make_user)


def problem_fields(response: Any) -> dict[str, list[str]]:
    """The field errors of a problem document, by field."""
    assert response.content_type == "application/problem+json", response.get_data(as_text=True)
    return {entry["field"]: entry["messages"] for entry in response.get_json().get("errors", [])}
