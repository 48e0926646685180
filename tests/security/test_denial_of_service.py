"""Finding 5 of issue #17: bounded work for what a process owner authors (scripts, loops, form patterns) and
for what any client sends (body size, JSON nesting, NUL bytes, lone surrogates). Engine-level cases of the
script sandbox are in tests/engine/test_scripting.py; these go through deploy and HTTP."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema._keywords
import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.engine import forms
from service.errors import BpmnError
from service.processes.definitions import deploy_definition
from service.transactions import commit_with_retry
from tests.api.conftest import FIXTURES, FORMS, ApiWorld, problem_fields
from tests.conftest import csrf_token
from tests.security import payloads


@pytest.fixture
def api(app: Flask, db: Any, make_organisation: Any, make_user: Any) -> ApiWorld:
    """tests/api's world: two organisations, their people and tokens, the api_simple process deployed."""
    deploy(API_SIMPLE)
    return ApiWorld(app, make_organisation, make_user)


# --- form patterns ---------------------------------------------------------------------------------------

def pattern_form(pattern: str) -> dict[str, Any]:
    return {"type": "object", "properties": {"code": {"type": "string", "pattern": pattern}}}


@pytest.fixture
def no_python_re(monkeypatch: pytest.MonkeyPatch) -> None:
    """jsonschema's own ``pattern`` runs Python's backtracking ``re``: any call of it fails the test."""

    class Refuse:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"a form pattern ran on Python's re ({name})")

    monkeypatch.setattr(jsonschema._keywords, "re", Refuse())


@pytest.mark.usefixtures("no_python_re")
@pytest.mark.parametrize(("pattern", "text"), payloads.REDOS_PATTERNS)
def test_a_catastrophic_pattern_runs_in_linear_time(pattern: str, text: str) -> None:
    forms.check_schema(pattern_form(pattern))
    assert forms.validate(pattern_form(pattern), {"code": text * 1000}).get("code", []) in (
        ["Värdet har fel format."], [])


@pytest.mark.usefixtures("no_python_re")
def test_a_pattern_still_refuses_and_accepts() -> None:
    schema = pattern_form("^[0-9]{3}-[0-9]{2}$")
    assert forms.validate(schema, {"code": "123-45"}) == {}
    assert forms.validate(schema, {"code": "12-345"}) == {"code": ["Värdet har fel format."]}


@pytest.mark.usefixtures("no_python_re")
def test_pattern_properties_run_on_re2() -> None:
    schema = {"type": "object", "properties": {"amounts": {
        "type": "object", "patternProperties": {"^(a+)+$": {"type": "integer"}}}}}
    forms.check_schema(schema)
    assert forms.validate(schema, {"amounts": {"a" * 29: "x", "a" * 29 + "!": "y"}}) == {
        f"amounts/{'a' * 29}": ["Fel typ av värde (ska vara heltal)."]}


@pytest.mark.parametrize("pattern", payloads.UNSUPPORTED_PATTERNS)
def test_a_pattern_re2_cannot_run_is_refused_naming_the_field(pattern: str) -> None:
    schema = {"type": "object", "properties": {"rows": {"type": "array", "items": {
        "type": "object", "properties": {"postcode": {"type": "string", "pattern": pattern}}}}}}
    with pytest.raises(BpmnError, match="rows/postcode"):
        forms.check_schema(schema)


def test_deploy_refuses_a_form_with_an_unsupported_pattern_naming_task_and_form(db: Any, tmp_path: Any) -> None:
    (tmp_path / "simple.schema.json").write_text(json.dumps(pattern_form("(a)\\1")), encoding="utf-8")
    with pytest.raises(BpmnError) as refused:
        commit_with_retry(lambda: deploy_definition(API_SIMPLE, "api_simple.bpmn", tmp_path, by=None))
    assert refused.value.element_id == "handle"
    assert "simple.schema.json" in refused.value.detail and "code" in refused.value.detail


# --- deploy and run: loops and multi-instance ------------------------------------------------------------

API_SIMPLE = (FIXTURES / "api_simple.bpmn").read_bytes()
LOOP_BEFORE_TASK = b"""<bpmn:scriptTask id="spin" name="Snurra">
      <bpmn:incoming>f_start</bpmn:incoming><bpmn:outgoing>f_spun</bpmn:outgoing>
      {loop}
      <bpmn:script>spun = organisation_id</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_spun" sourceRef="spin" targetRef="handle"/>
    <bpmn:userTask id="handle" """


def with_loop(loop: str) -> bytes:
    xml = API_SIMPLE.replace(b'<bpmn:userTask id="handle" ', LOOP_BEFORE_TASK.replace(b"{loop}", loop.encode()))
    xml = xml.replace(b'targetRef="handle"/>\n    <bpmn:sequenceFlow id="f_done"', b'targetRef="spin"/>\n    '
                      b'<bpmn:sequenceFlow id="f_done"', 1)
    xml = xml.replace(b"<bpmn:incoming>f_start</bpmn:incoming>\n      <bpmn:outgoing>f_done",
                      b"<bpmn:incoming>f_spun</bpmn:incoming>\n      <bpmn:outgoing>f_done")
    return xml.replace(b"<bpmn:flowNodeRef>handle</bpmn:flowNodeRef>",
                       b"<bpmn:flowNodeRef>handle</bpmn:flowNodeRef><bpmn:flowNodeRef>spin</bpmn:flowNodeRef>")


def deploy(xml: bytes) -> Any:
    return commit_with_retry(lambda: deploy_definition(xml, "api_simple.bpmn", FORMS, by=None))[0]


@pytest.mark.parametrize(("loop", "said"), [
    ('<bpmn:standardLoopCharacteristics loopMaximum="5000"/>', "loopMaximum"),
    ('<bpmn:standardLoopCharacteristics loopMaximum="10"><bpmn:loopCondition>__import__("os")</bpmn:loopCondition>'
     "</bpmn:standardLoopCharacteristics>", "anropas"),
    ("<bpmn:standardLoopCharacteristics><bpmn:loopCondition>n &lt;</bpmn:loopCondition>"
     "</bpmn:standardLoopCharacteristics>", "syntaxfel"),
    ("<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>20000</bpmn:loopCardinality>"
     "</bpmn:multiInstanceLoopCharacteristics>", "loopCardinality"),
    ("<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>[a for a in range(3)][0].__class__"
     "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>", "__class__"),
    ("<bpmn:standardLoopCharacteristics><bpmn:loopCondition>" + "-" * 20_000 + "1</bpmn:loopCondition>"
     "</bpmn:standardLoopCharacteristics>", "nästlat"),
])
def test_deploy_refuses_a_loop_over_the_bound_or_with_a_bad_condition_naming_it(db: Any, loop: str, said: str) -> None:
    with pytest.raises(BpmnError) as refused:
        deploy(with_loop(loop))
    assert refused.value.element_id == "spin"
    assert said in refused.value.detail


def test_a_loop_within_the_bound_deploys_and_runs(api: ApiWorld) -> None:
    deploy(with_loop('<bpmn:standardLoopCharacteristics loopMaximum="3"/>'))
    response = api.client("officer_a").post("/api/v1/instances", json={
        "process_id": "api_simple", "title": "Tre varv", "data": {"organisation_id": api.org_a.id}})
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize("loop", [
    "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>count</bpmn:loopCardinality>"
    "</bpmn:multiInstanceLoopCharacteristics>",
    '<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>'
    '<bpmn:inputDataItem id="item" name="item"/></bpmn:multiInstanceLoopCharacteristics>',
    "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>count &gt; 0</bpmn:loopCondition>"
    "</bpmn:standardLoopCharacteristics>",
])
def test_a_case_whose_data_makes_a_loop_too_big_is_refused_naming_the_element(api: ApiWorld, loop: str) -> None:
    deploy(with_loop(loop))
    response = api.client("officer_a").post("/api/v1/instances", json={
        "process_id": "api_simple", "title": "Många", "data": {
            "organisation_id": api.org_a.id, "count": 2000, "items": list(range(2000))}})
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["element_id"] == "spin" and "tillåts" in body["detail"]


# --- request limits ----------------------------------------------------------------------------------------

def test_a_body_claiming_200_mb_is_refused_413_before_it_is_read(api: ApiWorld) -> None:
    stream = io.BytesIO(b'{"process_id": "api_simple"}')
    response = api.client("officer_a").post("/api/v1/instances", input_stream=stream, content_type="application/json",
                                            environ_overrides={"CONTENT_LENGTH": str(200 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.content_type == "application/problem+json" and "MB" in response.get_json()["detail"]
    assert stream.tell() == 0  # not a byte of the body was read


def test_a_body_over_the_configured_limit_is_refused_413(api: ApiWorld, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = api.client("officer_a").post("/api/v1/instances", json={
        "process_id": "api_simple", "title": "x" * 2000, "data": {"organisation_id": api.org_a.id}})
    assert response.status_code == 413


def test_a_web_form_claiming_200_mb_gets_the_swedish_page(client: FlaskClient) -> None:
    response = client.post("/logga-in", input_stream=io.BytesIO(b"username=a"),
                           content_type="application/x-www-form-urlencoded",
                           environ_overrides={"CONTENT_LENGTH": str(200 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Begäran är för stor" in response.get_data(as_text=True)


@pytest.mark.parametrize("document", payloads.DEEP_JSON)
def test_deeply_nested_json_is_refused_400(api: ApiWorld, document: str) -> None:
    response = api.client("officer_a").post("/api/v1/instances", data=document, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "djupt nästlat" in response.get_json()["detail"]


@pytest.mark.parametrize("text", payloads.BAD_CHARACTERS)
@pytest.mark.parametrize("where", ["title", "data.note", "key"])
def test_nul_and_lone_surrogates_in_json_are_refused_naming_the_field(api: ApiWorld, text: str, where: str) -> None:
    data: dict[str, Any] = {"organisation_id": api.org_a.id}
    body: dict[str, Any] = {"process_id": "api_simple", "title": "Ett ärende", "data": data}
    if where == "title":
        body["title"] = text
    elif where == "data.note":
        data["note"] = text
    else:
        data[text] = 1
    raw = json.dumps(body)  # ensure_ascii: a lone surrogate travels as its \\u escape, as an attacker sends it
    response = api.client("officer_a").post("/api/v1/instances", data=raw, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    expected = {"title": "title", "data.note": "data.note", "key": f"data.{text}"}[where]
    assert list(problem_fields(response)) == [expected]


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
def test_nul_in_a_query_string_is_refused_naming_the_parameter(api: ApiWorld, text: str) -> None:
    response = api.client("officer_a").get("/api/v1/instances/1", query_string={"fields": text})
    assert response.status_code == 400
    assert list(problem_fields(response)) == ["fields"]


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
def test_nul_in_a_web_form_gets_the_swedish_page_naming_the_field(client: FlaskClient, text: str) -> None:
    token = csrf_token(client.get("/logga-in").get_data(as_text=True))
    response = client.post("/logga-in", data={"username": text, "password": "x", "csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "otillåtna uppgifter" in page and "username" in page
