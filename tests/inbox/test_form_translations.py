"""Forms in both languages: every text of every form in forms/ has an English entry, and pages and the API show
a form, its choices and its error messages in the reader's language (service/inbox/form_texts.py).

Adding or changing a form? Run this test; for each text it names, add the translation with
``bin/po-add "<Swedish text>" "<English text>"`` and compile (``.venv/bin/pybabel compile -d service/translations``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from babel.messages.pofile import read_po
from flask import Flask

from service.engine import forms
from service.inbox.form_render import build_fields
from service.inbox.form_texts import form_texts, translated_schema
from service.messages import Message
from service.processes.definitions import deploy_definition
from service.transactions import commit_with_retry
from tests.api.conftest import FIXTURES, ApiWorld, api, problem_fields, simple_process  # noqa: F401 (fixtures)
from tests.conftest import ROOT

FORMS = sorted((ROOT / "forms").glob("*.json"))
ENGLISH = ROOT / "service" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def english_catalogue() -> dict[str, str]:
    with ENGLISH.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id and isinstance(m.id, str)}


def test_every_text_of_every_form_has_an_english_translation() -> None:
    """Fails naming the form and the text: each title, description, group, choice title and enum label."""
    english = english_catalogue()
    missing = [f"{path.name}: {text!r}" for path in FORMS
               for text in dict.fromkeys(form_texts(json.loads(path.read_text(encoding="utf-8"))))
               if not english.get(text)]
    assert len(FORMS) > 20
    assert missing == [], "untranslated form texts (add each with bin/po-add):\n" + "\n".join(missing)


def test_form_texts_are_titles_descriptions_groups_and_choices_but_not_values_or_conditions() -> None:
    schema = {"title": "Formulär", "description": "Om formuläret", "type": "object",
              "properties": {"title": {"title": "Rubrik", "type": "string", "x-group": "Grupp", "default": "Förval"},
                             "kind": {"title": "Slag", "type": "string", "enum": ["liten", "stor"]},
                             "verdict": {"title": "Utfall", "oneOf": [{"const": "ja", "title": "Ja tack"}]}},
              "if": {"properties": {"kind": {"enum": ["stor"]}}}, "then": {"required": ["verdict"]}}
    assert list(form_texts(schema)) == ["Formulär", "Om formuläret", "Rubrik", "Grupp", "liten", "stor", "Slag",
                                        "Utfall", "Ja tack"]
    shouted = translated_schema(schema, str.upper)
    assert shouted["properties"]["title"] == {"title": "RUBRIK", "type": "string", "x-group": "GRUPP",
                                              "default": "Förval"}
    assert shouted["properties"]["kind"]["enum"] == ["liten", "stor"]  # values stay values
    assert shouted["properties"]["verdict"]["oneOf"] == [{"const": "ja", "title": "JA TACK"}]
    assert shouted["if"] == schema["if"] and schema["title"] == "Formulär"  # the original is untouched


def test_every_form_validation_message_has_an_english_translation() -> None:
    """The engine's messages (service/engine/forms.py), with their placeholders kept in English."""
    english = english_catalogue()
    error = SimpleNamespace(instance="2026-01-01", message="is not valid")
    made = [make(value, error) for make in forms._MESSAGES.values() for value in (1, 3, "array")]
    made += [*forms._FORMAT_MESSAGES.values(), *forms._TYPE_MESSAGES.values(), forms._fallback(None, error),
             forms._format_message("uri", "x"), *forms.validate({"properties": {}}, {"x": 1})["x"]]
    msgids = {message.msgid if isinstance(message, Message) else str(message) for message in made}
    assert len(msgids) > 20
    for msgid in sorted(msgids):
        assert english.get(msgid), f"no English for {msgid!r}"
        assert sorted(PLACEHOLDER.findall(english[msgid])) == sorted(PLACEHOLDER.findall(msgid)), msgid


def test_a_form_its_choices_and_its_errors_are_rendered_in_the_reader_s_language(app: Flask) -> None:
    schema = json.loads((ROOT / "forms" / "dispute-line.schema.json").read_text(encoding="utf-8"))
    choice = next(name for name, prop in schema["properties"].items() if "oneOf" in prop)
    text = next(name for name, prop in schema["properties"].items() if prop.get("type") == "string" and "oneOf" not in prop)
    errors = forms.validate(schema, {text: "x" * 100_000})

    def rendered(language: str) -> dict[str, Any]:
        with app.test_request_context(headers={"Accept-Language": language}):
            return {f.name: f for f in build_fields(schema, {}, errors, {})}

    swedish, english = rendered("sv"), rendered("en")
    assert swedish[choice].label == "Utfall" and english[choice].label == "Outcome"
    assert [label for _, label in english[choice].choices] == [
        "The parties agree", "The parties do not agree", "Lift the dispute to the next management level up in the parties"]
    assert swedish[text].errors == [str(errors[text][0])] and swedish[text].errors[0].startswith("Högst ")
    assert english[text].errors[0].startswith("At most ") and english[text].errors[0].endswith(" characters.")


def test_a_message_reads_as_swedish_and_keeps_its_values() -> None:
    message = Message("Högst %(n)s tecken.", n=200)
    assert message == "Högst 200 tecken." and message.msgid == "Högst %(n)s tecken." and message.values == {"n": 200}
    assert Message("100 % klart") == "100 % klart"  # no values: the text as it stands


def test_the_api_serves_a_task_s_form_and_its_errors_in_the_request_s_language(api: ApiWorld, tmp_path: Path) -> None:  # noqa: F811
    form = {"title": "Svara på frågan", "type": "object", "required": ["note"],
            "properties": {"note": {"title": "Ditt svar", "type": "string", "minLength": 1, "maxLength": 20}}}
    (tmp_path / "simple.schema.json").write_text(json.dumps(form), encoding="utf-8")
    xml = (FIXTURES / "api_simple.bpmn").read_bytes()
    commit_with_retry(lambda: deploy_definition(xml, "api_simple.bpmn", tmp_path, by=None))
    client = api.client("officer_a")
    started = client.post("/api/v1/instances", json={
        "process_id": "api_simple", "title": "Ett ärende", "data": {"organisation_id": api.org_a.id}})
    task_id = started.get_json()["open_tasks"][0]["id"]

    def read(language: str) -> dict[str, Any]:
        body: dict[str, Any] = client.get(f"/api/v1/tasks/{task_id}", headers={"Accept-Language": language}).get_json()
        return body["form_schema"]

    assert read("en")["title"] == "Answer the question" and read("en")["properties"]["note"]["title"] == "Your answer"
    assert read("sv")["properties"]["note"] == form["properties"]["note"]
    refused = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "x" * 21}},
                          headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and problem_fields(refused)["note"] == ["At most 20 characters."]
