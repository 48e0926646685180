"""Property-based run of schemathesis against the served OpenAPI document, as a reader, a case officer, a
process owner and an auditor: no 5xx, and every response matches its documented status, type and schema."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from tests.api.conftest import ApiWorld

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 10


def test_api_holds_its_contract_for_every_role(api: ApiWorld) -> None:
    # Something to find: a case with an open task in organisation A (so ids like 1 exist).
    started = api.client("officer_a").post("/api/v1/instances", json={
        "process_id": "api_simple", "title": "Ärende", "data": {"organisation_id": api.org_a.id}})
    assert started.status_code == 201
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    secrets = [api.read_token, api.tokens["officer_a"], api.tokens["owner"], api.tokens["auditor"]]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        _run(operation, secrets)


def _run(operation: Any, secrets: list[str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    def check(case: Any) -> None:
        for secret in secrets:
            case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

    check()
