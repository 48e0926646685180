"""Deploying BPMN: numbered immutable versions; a refused diagram names its element and stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.errors import BpmnError
from service.processes.definitions import deploy_definition
from service.processes.models import ProcessDefinition
from service.transactions import commit_with_retry
from tests.conftest import ROOT

ADOPTION = (ROOT / "bpmn" / "agreement_adoption.bpmn").read_bytes()
FORMS = ROOT / "forms"


def deploy(xml: bytes, forms: Path = FORMS) -> tuple[ProcessDefinition, bool]:
    return commit_with_retry(lambda: deploy_definition(xml, "agreement_adoption.bpmn", forms, by=None, comment="test"))


def stored(db: Any) -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(ProcessDefinition)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def test_versions_are_numbered_and_identical_content_is_not_redeployed(db: Any) -> None:
    first, is_new = deploy(ADOPTION)
    assert (first.version, is_new) == (1, True)
    again, is_new = deploy(ADOPTION)
    assert (again.id, is_new) == (first.id, False)
    second, is_new = deploy(ADOPTION.replace(b"Ta fram avtalsf\xc3\xb6rslag", b"Skriv avtalsf\xc3\xb6rslag"))
    assert (second.version, is_new) == (2, True)
    assert db.session.get(ProcessDefinition, first.id).bpmn_xml == ADOPTION.decode()
    assert stored(db) == (2, 2)


BROKEN = {
    "flow to a missing element": (b'targetRef="decide"/>', b'targetRef="nowhere"/>', "flow_party_decide"),
    "missing form": (b'value="agreement-decision.schema.json"', b'value="missing.schema.json"', "decide"),
    "import os in a condition": (b"<bpmn:conditionExpression>len(party_results)",
                                 b"<bpmn:conditionExpression>__import__('os') and len(party_results)", "flow_all_final"),
    "import os in a script": (b"<spiffworkflow:postScript>review = ",
                              b"<spiffworkflow:postScript>import os\nreview = ", "consult"),
    "lane that is no role": (b'name="Handl\xc3\xa4ggare"', b'name="Kaffebryggare"', "draft"),
    "malformed XML": (b"</bpmn:process>", b"</bpmn:proces>", None),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_diagram_is_refused_naming_the_element(db: Any, case: str) -> None:
    old, new, element_id = BROKEN[case]
    assert old in ADOPTION
    with pytest.raises(BpmnError) as refused:
        deploy(ADOPTION.replace(old, new, 1))
    if element_id:
        assert refused.value.element_id == element_id
        assert f"'{element_id}'" in refused.value.message
    assert stored(db) == (0, 0)


def test_flow_to_missing_element_names_the_flow(db: Any) -> None:
    with pytest.raises(BpmnError) as refused:
        deploy(ADOPTION.replace(b'targetRef="decide"/>', b'targetRef="nowhere"/>', 1))
    assert "'nowhere'" in refused.value.message


def test_cli_deploy_refuses_with_the_element_id(app: Flask, db: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(ADOPTION.replace(b'value="agreement-decision.schema.json"', b'value="saknas.json"'))
    result = app.test_cli_runner().invoke(args=["deploy", str(broken)])
    assert result.exit_code == 1 and "BPMN-element 'decide'" in result.output
    assert stored(db) == (0, 0)
    good = app.test_cli_runner().invoke(args=["deploy", str(ROOT / "bpmn" / "agreement_adoption.bpmn")])
    assert good.exit_code == 0 and "version 1" in good.output
