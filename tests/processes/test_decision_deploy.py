"""Decision tables at deploy, on both databases (issue #22 item 3): the DMN files a diagram uses are stored with
the version and make a changed table a new version; a running case keeps the table it started with; a table
that cannot run is refused naming its element with nothing stored; an unchanged redeploy skips the lint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.errors import BpmnError, ScriptRejected
from service.extensions import db
from service.parties.models import Role
from service.processes import definitions, lint
from service.processes.definitions import deploy_definition, parsed
from service.processes.models import ProcessDefinition
from service.processes.operations import complete_task, start_process
from service.transactions import commit_with_retry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FORMS = FIXTURES / "forms"
BPMN = (FIXTURES / "bpmn" / "rule_routing.bpmn").read_bytes()
TABLE = (FIXTURES / "dmn" / "rule-routing.dmn").read_text(encoding="utf-8")
# The default rule's answer period, 10 working days, becomes 20.
LONGER = TABLE.replace('<outputEntry id="regel_ovrigt_dagar"><text>10</text>',
                       '<outputEntry id="regel_ovrigt_dagar"><text>20</text>')


def _deploy(table: str | None = TABLE, xml: bytes = BPMN, comment: str = "") -> tuple[ProcessDefinition, bool]:
    files = {} if table is None else {"rule-routing.dmn": table}
    return commit_with_retry(lambda: deploy_definition(xml, "rule_routing.bpmn", FORMS, by=None, comment=comment,
                                                       decision_files=files))


def _versions() -> int:
    return db.session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0


@pytest.fixture
def officer(make_organisation: Any, make_user: Any) -> Any:
    organisation = make_organisation()
    return make_user([(organisation, Role.CASE_OFFICER), (organisation, Role.MANAGER)], username="handlaggare")


def test_the_tables_a_diagram_uses_are_stored_with_the_version(db: Any) -> None:
    row, is_new = _deploy()
    assert is_new and row.decisions == {"rule-routing.dmn": TABLE}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "definition.deployed")).one()
    assert event.data["decisions"] == ["rule-routing.dmn"]
    definitions._PARSED.clear()  # read back from the database: the stored table, not a file
    stored = db.session.get(ProcessDefinition, row.id)
    assert parsed(stored).decisions == {"rule-routing.dmn": TABLE}


def test_a_changed_table_is_a_new_version_and_a_running_case_keeps_its_table(db: Any, officer: Any) -> None:
    organisation_id = officer.memberships[0].organisation_id
    data = {"organisation_id": organisation_id, "kategori": "lokaler", "belopp": 5}
    first, _ = _deploy()
    assert _deploy() == (first, False)
    before = commit_with_retry(lambda: start_process("rule_routing", by=officer, title="Före", data=data))
    second, is_new = _deploy(LONGER, comment="längre svarstid")
    assert is_new and second.version == 2 and second.decisions == {"rule-routing.dmn": LONGER}
    after = commit_with_retry(lambda: start_process("rule_routing", by=officer, title="Efter", data=data))
    [old_task], [new_task] = before.tasks, after.tasks
    assert before.definition.version == 1 and after.definition.version == 2
    assert old_task.bpmn_id == new_task.bpmn_id == "answer"
    # Started the same moment: 10 working days on version 1's table, 20 on version 2's.
    assert old_task.due_at is not None and new_task.due_at is not None
    assert (new_task.due_at - old_task.due_at).days >= 14
    commit_with_retry(lambda: complete_task(old_task.id, {"note": "klart"}, by=officer))
    assert before.status == "completed"


def test_a_decision_no_file_has_is_refused_and_nothing_is_stored(db: Any) -> None:
    with pytest.raises(BpmnError) as refused:
        _deploy(None)
    assert refused.value.element_id == "route" and "'fordelning' finns inte" in refused.value.detail
    with pytest.raises(BpmnError) as broken:
        _deploy(TABLE.replace("</rule>", "</regel>", 1))
    assert broken.value.element_id == "route" and "ogiltig XML på rad 19" in broken.value.detail
    assert _versions() == 0


@pytest.mark.parametrize("cell", ["__import__('os').system('id')", "kategori.__class__", "belopp._x"])
def test_an_unsafe_cell_is_refused_naming_it_and_nothing_is_stored(db: Any, cell: str) -> None:
    with pytest.raises(ScriptRejected) as refused:
        _deploy(TABLE.replace("<text>&gt;= 100000</text>", f"<text>{cell}</text>"))
    assert refused.value.element_id == "regel_stort_belopp"
    assert "beslutet 'fordelning'" in refused.value.detail and "regel 1 ('regel_stort')" in refused.value.detail
    assert "affärsregeluppgiften 'route'" in refused.value.detail
    assert _versions() == 0
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "definition.deployed")).all()


def test_an_unchanged_redeploy_returns_the_latest_version_without_the_lint(db: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[str] = []
    real = lint._run

    def counted(payload: str) -> list[lint.Finding]:
        runs.append(payload)
        return real(payload)

    monkeypatch.setattr(lint, "_run", counted)
    monkeypatch.setattr(lint, "_CACHE", {})
    row, _ = _deploy()
    assert len(runs) == 1
    assert _deploy() == (row, False)
    assert len(runs) == 1  # no node process for a file that did not change
    # A changed file is checked as before: the lint runs and a broken script is refused.
    broken = BPMN.replace(b'<bpmn:conditionExpression>niva == "chef"',
                          b"<bpmn:conditionExpression>niva.__class__")
    with pytest.raises(BpmnError) as refused:
        _deploy(xml=broken)
    assert refused.value.element_id == "f_manager" and len(runs) == 2
    assert _versions() == 1


def test_the_deploy_command_reads_the_tables_beside_the_diagram(app: Any, db: Any, tmp_path: Path) -> None:
    (tmp_path / "rule_routing.bpmn").write_bytes(BPMN)
    (tmp_path / "simple.schema.json").write_text((FORMS / "simple.schema.json").read_text(encoding="utf-8"))
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["deploy", str(tmp_path / "rule_routing.bpmn")])
    assert missing.exit_code == 1 and "BPMN-element 'route'" in missing.output and "'fordelning' finns inte" in missing.output
    (tmp_path / "rule-routing.dmn").write_text(TABLE, encoding="utf-8")
    (tmp_path / "oanvand.dmn").write_text(TABLE.replace('decision id="fordelning"', 'decision id="oanvand"'))
    deployed = runner.invoke(args=["deploy", str(tmp_path / "rule_routing.bpmn")])
    assert deployed.exit_code == 0, deployed.output
    row = db.session.scalars(select(ProcessDefinition)).one()
    assert row.decisions == {"rule-routing.dmn": TABLE}  # only the table its business-rule task calls
    tested = runner.invoke(args=["test-process", "rule_routing", "--file", str(tmp_path / "rule_routing.bpmn")])
    assert tested.exit_code == 0, tested.output
