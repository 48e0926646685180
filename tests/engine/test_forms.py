"""Form data checked against forms/agreement-decision.schema.json, with Swedish messages per field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.engine import forms
from service.errors import BpmnError

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "forms" / "agreement-decision.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def approval(**overrides: Any) -> dict[str, Any]:
    data = {"outcome": "adopted", "body_id": 3, "decided_on": "2026-03-02", "paragraph": "§ 14",
            "diarienummer": "KS 2026/118"}
    data.update(overrides)
    return data


def test_a_complete_approval_is_valid(schema: dict[str, Any]) -> None:
    assert forms.validate(schema, approval()) == {}


def test_a_rejection_with_a_reason_is_valid(schema: dict[str, Any]) -> None:
    assert forms.validate(schema, approval(outcome="rejected", reason="Kostnaderna är oklara.")) == {}


@pytest.mark.parametrize("field", ["outcome", "body_id", "decided_on", "paragraph", "diarienummer"])
def test_a_missing_required_field_is_named(schema: dict[str, Any], field: str) -> None:
    data = approval()
    del data[field]
    assert forms.validate(schema, data) == {field: ["Fältet måste fyllas i."]}


@pytest.mark.parametrize("reason", [None, ""])
def test_a_rejection_needs_a_reason(schema: dict[str, Any], reason: str | None) -> None:
    data = approval(outcome="rejected")
    if reason is not None:
        data["reason"] = reason
    assert forms.validate(schema, data) == {"reason": ["Fältet måste fyllas i."]}


@pytest.mark.parametrize("decided_on", ["2/3 2026", "2026-13-01", "2026-03-02T10:00"])
def test_a_date_in_the_wrong_format_is_refused(schema: dict[str, Any], decided_on: str) -> None:
    assert forms.validate(schema, approval(decided_on=decided_on)) == {"decided_on": ["Ange ett datum (ÅÅÅÅ-MM-DD)."]}


def test_an_unknown_field_is_refused(schema: dict[str, Any]) -> None:
    assert forms.validate(schema, approval(party={"organisation_id": 1})) == {"party": ["Okänt fält."]}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"body_id": "tre"}, {"body_id": ["Fel typ av värde (ska vara heltal)."]}),
    ({"paragraph": "§" * 21}, {"paragraph": ["Högst 20 tecken."]}),
    ({"paragraph": ""}, {"paragraph": ["Fältet måste fyllas i."]}),
    ({"outcome": "maybe"}, {"outcome": ["Välj ett av alternativen."]}),
])
def test_other_errors_get_swedish_messages(schema: dict[str, Any], overrides: dict[str, Any],
                                           expected: dict[str, list[str]]) -> None:
    assert forms.validate(schema, approval(**overrides)) == expected


def test_defaults_name_every_field(schema: dict[str, Any]) -> None:
    assert forms.defaults(schema) == dict.fromkeys(schema["properties"])


def test_the_shipped_schema_passes_its_own_check(schema: dict[str, Any]) -> None:
    forms.check_schema(schema, reserved={"len", "range"})


@pytest.mark.parametrize(("bad_schema", "words"), [
    ({"type": "object", "properties": {"x": {"type": "text"}}}, "ogiltigt JSON Schema"),
    ({"type": "array", "items": {"type": "string"}}, "properties"),
    ({"type": "object", "properties": {"len": {"type": "string"}}}, "len"),
])
def test_check_schema_refuses(bad_schema: dict[str, Any], words: str) -> None:
    with pytest.raises(BpmnError) as caught:
        forms.check_schema(bad_schema, reserved={"len"})
    assert caught.value.element_id is None
    assert words in caught.value.message
