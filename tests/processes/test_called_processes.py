"""Files with several processes and call activities (issue #22 item 6): the entry point, callees in the same file
or deployed separately (bound at deploy), and instances that run through the called process to the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import etree
from sqlalchemy import func, select

from service.engine import runner, specs
from service.errors import BpmnError
from service.parties.models import Organisation, Role, User
from service.processes.definitions import deploy_definition, parsed
from service.processes.models import HumanTask, ProcessDefinition, ProcessInstance, TaskStatus
from service.processes.operations import complete_task, start_process
from service.transactions import commit_with_retry
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
REVIEW = (FIXTURES / "bpmn" / "called_review.bpmn").read_bytes()
INTAKE = (FIXTURES / "bpmn" / "called_intake.bpmn").read_bytes()


def both_in_one_file() -> bytes:
    """The caller and the callee as two processes of one file."""
    root = etree.fromstring(INTAKE)
    root.append(etree.fromstring(REVIEW).find("bpmn:process", specs.NS))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def deploy(xml: bytes, name: str, **options: Any) -> ProcessDefinition:
    return commit_with_retry(lambda: deploy_definition(xml, name, FIXTURES / "forms", by=None, **options))[0]


class Office:
    def __init__(self, organisation: Organisation, officer: User, manager: User) -> None:
        self.organisation, self.officer, self.manager = organisation, officer, manager


@pytest.fixture
def office(db: Any, make_organisation: Any, make_user: Any) -> Office:
    organisation = make_organisation(name="Alingsås kommun")
    return Office(organisation, make_user([(organisation, Role.CASE_OFFICER)]),
                  make_user([(organisation, Role.MANAGER)]))


def ready(db: Any, instance_id: int) -> list[HumanTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)))


def run_to_approval(db: Any, office: Office, process_id: str) -> tuple[ProcessInstance, HumanTask]:
    instance = commit_with_retry(lambda: start_process(process_id, by=office.officer, title="Avgift",
                                                       data={"organisation_id": office.organisation.id}))
    [register] = ready(db, instance.id)
    commit_with_retry(lambda: complete_task(register.id, {"note": "Registrerad"}, by=office.officer))
    [approve] = ready(db, instance.id)
    return instance, approve


def finish(db: Any, office: Office, instance: ProcessInstance, approve: HumanTask) -> dict[str, Any]:
    """Complete the callee's task; the case ends; return the case's final data."""
    commit_with_retry(lambda: complete_task(approve.id, {"note": "Godkänd"}, by=office.manager))
    db.session.expire_all()
    done = db.session.get(ProcessInstance, instance.id)
    assert done.status == "completed" and ready(db, instance.id) == []
    data: dict[str, Any] = runner.load(parsed(done.definition), done.state).data
    return data


def test_a_file_with_caller_and_callee_runs_through_the_called_process(db: Any, office: Office) -> None:
    row = deploy(both_in_one_file(), "intake.bpmn")
    assert (row.process_id, row.called_versions) == ("intake", {})

    instance, approve = run_to_approval(db, office, "intake")

    assert (approve.bpmn_id, approve.role, approve.organisation_id) == ("approve", Role.MANAGER, office.organisation.id)
    data = finish(db, office, instance, approve)
    assert data["reviewed_by"] == "review" and "scratch" not in data  # the caller's `del` ran


def test_a_callee_deployed_separately_is_bound_and_a_running_case_keeps_its_version(db: Any, office: Office) -> None:
    deploy(REVIEW, "review.bpmn")
    caller = deploy(INTAKE, "intake.bpmn")
    assert caller.called_versions == {"review": 1}
    instance, approve = run_to_approval(db, office, "intake")
    assert approve.name == "Godkänn avgiften"

    deploy(REVIEW.replace(b"Godk\xc3\xa4nn avgiften", b"Besluta om avgiften"), "review.bpmn")
    assert finish(db, office, instance, approve)["reviewed_by"] == "review"

    db.session.expire_all()
    parsed.__globals__["_PARSED"].clear()  # a restarted service parses the versions again from the database
    _, still_bound = run_to_approval(db, office, "intake")
    assert still_bound.name == "Godkänn avgiften"
    again = deploy(INTAKE, "intake.bpmn")  # the same file deployed again binds the callee's new version
    assert (again.version, again.called_versions) == (2, {"review": 2})
    _, rebound = run_to_approval(db, office, "intake")
    assert rebound.name == "Besluta om avgiften"


def stored(db: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(ProcessDefinition)))


def test_a_call_to_a_process_that_is_not_deployed_names_the_call_activity(db: Any) -> None:
    with pytest.raises(BpmnError) as refused:
        deploy(INTAKE, "intake.bpmn")
    assert refused.value.element_id == "call_review"
    assert "'review'" in refused.value.detail and "driftsatt" in refused.value.detail
    assert stored(db) == 0


def two_entry_points() -> bytes:
    """Two processes that nobody calls (as two pools of a collaboration): the call is a plain task."""
    xml = both_in_one_file().replace(b' calledElement="review"', b"")
    return xml.replace(b"bpmn:callActivity", b"bpmn:task")


def test_several_entry_points_are_refused_naming_them_until_one_is_chosen(db: Any) -> None:
    with pytest.raises(BpmnError) as refused:
        deploy(two_entry_points(), "pools.bpmn")
    assert "'intake' (Avgiftsärende), 'review' (Godkännande av avgift)" in refused.value.detail
    assert "process_id" in refused.value.detail and stored(db) == 0

    with pytest.raises(BpmnError, match="'nope' finns inte"):
        deploy(two_entry_points(), "pools.bpmn", process_id="nope")
    assert deploy(two_entry_points(), "pools.bpmn", process_id="review").process_id == "review"


def test_a_callee_whose_task_id_clashes_with_the_callers_is_refused(db: Any) -> None:
    deploy(REVIEW, "review.bpmn")
    clash = INTAKE.replace(b'"register"', b'"approve"').replace(b'targetRef="register"', b'targetRef="approve"')
    with pytest.raises(BpmnError) as refused:
        deploy(clash, "intake.bpmn")
    assert refused.value.element_id == "approve" and "'review'" in refused.value.detail


def test_cli_deploys_the_chosen_process_of_a_file(app: Flask, db: Any, tmp_path: Path) -> None:
    pools = tmp_path / "pools.bpmn"
    pools.write_bytes(two_entry_points())
    (tmp_path / "simple.schema.json").write_bytes((FIXTURES / "forms" / "simple.schema.json").read_bytes())
    refused = app.test_cli_runner().invoke(args=["deploy", str(pools)])
    assert refused.exit_code == 1 and "'intake' (Avgiftsärende)" in refused.output
    chosen = app.test_cli_runner().invoke(args=["deploy", "--process", "intake", str(pools)])
    assert chosen.exit_code == 0 and "intake driftsatt som version 1" in chosen.output, chosen.output
