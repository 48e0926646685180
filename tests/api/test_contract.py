"""The OpenAPI document validates and documents every route; errors are problem documents on /api/ only."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from schemathesis.specs.openapi.definitions import OPENAPI_31

from tests.api.conftest import ApiWorld

UNDOCUMENTED = {"/api/v1/openapi.json", "/api/v1/docs", "/api/<path:rest>"}


def test_openapi_document_is_valid_and_complete(app: Any, client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    jsonschema.Draft202012Validator(OPENAPI_31).validate(document)
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in UNDOCUMENTED:
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in the OpenAPI document"
            operation = document["paths"][path][method.lower()]
            assert operation.get("summary"), f"{method} {path} has no summary"


def test_docs_page_uses_our_own_swagger_ui(client: Any) -> None:
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/vendor/swagger-ui-dist/swagger-ui-bundle.js" in html and "/api/v1/openapi.json" in html
    assert "https://" not in html
    assert client.get("/vendor/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200


def test_errors_are_problems_on_the_api_and_html_on_the_web(api: ApiWorld) -> None:
    client = api.client("officer_a")
    unknown = client.get("/api/v1/finns-inte")
    assert unknown.status_code == 404 and unknown.content_type == "application/problem+json"
    assert unknown.get_json()["instance"] == "/api/v1/finns-inte"
    broken = client.post("/api/v1/instances", data="{inte json", headers={"Content-Type": "application/json"})
    assert 400 <= broken.status_code < 500 and broken.content_type == "application/problem+json"
    web = api.app.test_client().get("/finns-inte")
    assert web.status_code == 404 and web.content_type.startswith("text/html")
