"""Decision tables edited in the modeller, on both databases (issue #22 item 3): available_decisions(),
decision_ids() and save_decision() (refusals store nothing; a save is audited), and a deploy from the modeller
takes the edited table in place of the file in DECISIONS_DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.errors import BpmnError, ScriptRejected, ValidationFailed
from service.extensions import db
from service.modeller import operations
from service.modeller.models import EditedDecision
from service.parties.models import Role
from service.transactions import commit_with_retry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NAME = "rule-routing.dmn"
TABLE = (FIXTURES / "dmn" / NAME).read_text(encoding="utf-8")
EDITED = TABLE.replace('<outputEntry id="regel_ovrigt_dagar"><text>10</text>',
                       '<outputEntry id="regel_ovrigt_dagar"><text>15</text>')


@pytest.fixture
def owner(app: Flask, make_organisation: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(app.config, "DECISIONS_DIR", str(FIXTURES / "dmn"))
    monkeypatch.setitem(app.config, "FORMS_DIR", str(FIXTURES / "forms"))  # the fixture diagram's form
    return make_user([(make_organisation(), Role.PROCESS_OWNER)], username="agare")


def _save(name: str, xml: str | bytes, owner: Any) -> EditedDecision:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    return commit_with_retry(lambda: operations.save_decision(name, data, by=owner))


def _nothing_stored() -> bool:
    saved = db.session.scalar(select(func.count()).select_from(EditedDecision))
    audited = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "decision.saved"))
    return saved == 0 and audited == 0


def test_the_files_beside_the_diagrams_are_offered(owner: Any) -> None:
    assert operations.available_decisions() == {NAME: TABLE}
    assert operations.decision_ids() == {"fordelning": "Fördelning av ärenden"}


def test_a_saved_table_replaces_the_file_and_is_audited(owner: Any) -> None:
    row = _save(NAME, EDITED, owner)
    assert (row.name, row.dmn_xml, row.saved_by_id) == (NAME, EDITED, owner.id)
    assert operations.available_decisions() == {NAME: EDITED}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "decision.saved")).one()
    assert event.data == {"name": NAME, "decision_id": "fordelning"} and event.actor_id == owner.id
    again = _save(NAME, EDITED.replace("Fördelning av ärenden", "Fördelning"), owner)
    assert again.id == row.id and operations.decision_ids() == {"fordelning": "Fördelning"}
    other = _save("annan-tabell.dmn", TABLE.replace('decision id="fordelning"', 'decision id="annan"'), owner)
    assert other.name in operations.available_decisions() and set(operations.decision_ids()) == {"annan", "fordelning"}


def test_the_modeller_deploys_the_edited_table_with_the_version(owner: Any) -> None:
    _save(NAME, EDITED, owner)
    xml = (FIXTURES / "bpmn" / "rule_routing.bpmn").read_bytes()
    assert operations.validate_xml(xml, "rule_routing.bpmn") == []
    row, is_new = commit_with_retry(lambda: operations.deploy_xml(xml, "rule_routing.bpmn", "tabell", by=owner))
    assert is_new and row.decisions == {NAME: EDITED}


def test_a_diagram_calling_a_decision_that_is_nowhere_is_listed_naming_the_task(owner: Any, app: Flask,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "DECISIONS_DIR", str(FIXTURES / "forms"))  # no DMN files there
    xml = (FIXTURES / "bpmn" / "rule_routing.bpmn").read_bytes()
    [problem] = [p for p in operations.validate_xml(xml, "rule_routing.bpmn") if p.element_id == "route"]
    assert "'fordelning' finns inte" in problem.message


@pytest.mark.parametrize(("name", "xml", "field"), [
    ("Routning.DMN", TABLE, "name"),
    ("../bpmn/x.dmn", TABLE, "name"),
    ("routning.json", TABLE, "name"),
    (NAME, b"\xff\xfe", "xml"),
    (NAME, b"<!-- -->" + b" " * (1024 * 1024), "xml"),
])
def test_a_bad_name_or_file_is_refused_naming_the_field(owner: Any, name: str, xml: str | bytes, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _save(name, xml, owner)
    assert field in refused.value.fields
    assert _nothing_stored()


@pytest.mark.parametrize(("old", "new", "element"), [
    ("<text>&gt;= 100000</text>", "<text>__import__('os')</text>", "regel_stort_belopp"),
    ('<text>"chef"</text>', '<text>"chef".__class__</text>', "regel_stort_niva"),
    ("<text>kategori</text>", "<text>kategori._x</text>", "in_kategori"),
    ('hitPolicy="FIRST"', 'hitPolicy="RULE ORDER"', "fordelning_tabell"),
])
def test_a_table_that_cannot_run_safely_is_refused_naming_its_element(owner: Any, old: str, new: str,
                                                                      element: str) -> None:
    with pytest.raises(BpmnError) as refused:
        _save(NAME, TABLE.replace(old, new, 1), owner)
    assert refused.value.element_id == element and "beslutet 'fordelning'" in refused.value.detail
    assert isinstance(refused.value, ScriptRejected) == (element != "fordelning_tabell")
    assert _nothing_stored()


def test_xml_that_is_not_dmn_or_a_second_file_for_one_decision_is_refused(owner: Any) -> None:
    with pytest.raises(BpmnError, match="ogiltig XML på rad 3"):
        _save(NAME, '<?xml version="1.0"?>\n<definitions>\n<x></definitions>', owner)
    with pytest.raises(BpmnError, match=r"finns redan i rule-routing\.dmn"):
        _save("kopia.dmn", TABLE, owner)
    assert _nothing_stored()
