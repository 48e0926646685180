"""Incidents: a failing script or expression marks the case, process owners correct the data and retry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.errors import NotPermitted
from service.parties.models import Organisation, Role, User
from service.processes.models import HumanTask, IncidentStatus, ProcessIncident, ProcessInstance, TaskStatus
from service.processes.operations import complete_task, retry_incident, start_process
from service.transactions import commit_with_retry
from tests.conftest import csrf_token, login
from tests.processes.test_timers import deploy_fixture


class Office:
    def __init__(self, organisation: Organisation, officer: User, manager: User, owner: User) -> None:
        self.organisation, self.officer, self.manager, self.owner = organisation, officer, manager, owner


@pytest.fixture
def office(db: Any, make_organisation: Any, make_user: Any) -> Office:
    deploy_fixture("incident")
    organisation = make_organisation(name="Partille kommun")
    return Office(organisation, make_user([(organisation, Role.CASE_OFFICER)], username="olle"),
                  make_user([(organisation, Role.MANAGER)], username="maja"),
                  make_user([(organisation, Role.PROCESS_OWNER)], username="petra"))


def start_and_register(db: Any, office: Office, **data: Any) -> ProcessInstance:
    values = {"organisation_id": office.organisation.id, "amount": 100, **data}
    instance = commit_with_retry(lambda: start_process("incident", by=office.officer, title="Avgift", data=values))
    register = ready(db, instance.id)[0]
    commit_with_retry(lambda: complete_task(register.id, {"note": "Registrerad"}, by=office.officer))
    db.session.expire_all()
    return instance


def ready(db: Any, instance_id: int) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)))


def incident_of(db: Any, instance_id: int) -> ProcessIncident:
    return db.session.scalars(select(ProcessIncident).where(ProcessIncident.instance_id == instance_id)).one()


def actions(db: Any) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_failing_script_opens_an_incident_and_the_submission_stands(db: Any, office: Office) -> None:
    instance = start_and_register(db, office, approving_org=office.organisation.id)

    incident = incident_of(db, instance.id)
    assert incident.status == IncidentStatus.OPEN
    assert incident.bpmn_id == "compute_fee"
    assert "rate" in incident.message
    assert incident.data["amount"] == 100 and incident.data["note"] == "Registrerad"
    assert ready(db, instance.id) == []
    assert db.session.get(ProcessInstance, instance.id).status == "running"
    assert actions(db)[-2:] == ["incident.opened", "task.completed"]


def test_retry_with_corrected_data_runs_the_case_on(db: Any, office: Office) -> None:
    instance = start_and_register(db, office, approving_org=office.organisation.id)
    incident = incident_of(db, instance.id)

    commit_with_retry(lambda: retry_incident(incident.id, {**incident.data, "rate": 0.25}, by=office.owner))
    db.session.expire_all()

    assert incident_of(db, instance.id).status == IncidentStatus.RESOLVED
    assert incident_of(db, instance.id).resolved_by_id == office.owner.id
    [approve] = ready(db, instance.id)
    assert (approve.bpmn_id, approve.role, approve.organisation_id) == ("approve", Role.MANAGER, office.organisation.id)
    resolved = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.resolved")).one()
    assert resolved.data["input"]["rate"] == 0.25 and "rate" not in resolved.data["data_before"]


def test_a_retry_that_fails_again_changes_nothing_but_the_incident(db: Any, office: Office) -> None:
    instance = start_and_register(db, office, approving_org=office.organisation.id)
    incident = incident_of(db, instance.id)
    state = db.session.get(ProcessInstance, instance.id).state

    commit_with_retry(lambda: retry_incident(incident.id, {**incident.data, "rate": None}, by=office.owner))
    db.session.expire_all()

    again = incident_of(db, instance.id)
    assert again.status == IncidentStatus.OPEN and again.attempts == 1
    assert again.data["rate"] is None  # the correction is kept for the next try
    assert db.session.get(ProcessInstance, instance.id).state == state
    assert actions(db)[-1] == "incident.retry_failed"


def test_a_failing_assignment_expression_holds_the_task_until_corrected(db: Any, office: Office) -> None:
    instance = start_and_register(db, office, rate=0.5)

    incident = incident_of(db, instance.id)
    assert incident.bpmn_id == "approve" and "approving_org" in incident.message
    assert ready(db, instance.id) == []

    commit_with_retry(lambda: retry_incident(
        incident.id, {**incident.data, "approving_org": office.organisation.id}, by=office.owner))
    db.session.expire_all()
    [approve] = ready(db, instance.id)
    assert approve.bpmn_id == "approve" and approve.organisation_id == office.organisation.id


def test_only_process_owners_retry(db: Any, office: Office) -> None:
    instance = start_and_register(db, office, approving_org=office.organisation.id)
    incident = incident_of(db, instance.id)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))

    with pytest.raises(NotPermitted):
        commit_with_retry(lambda: retry_incident(incident.id, {**incident.data, "rate": 1}, by=office.manager))

    db.session.expire_all()
    assert incident_of(db, instance.id).status == IncidentStatus.OPEN
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_incident_pages_list_correct_and_refuse(app: Any, client: Any, db: Any, office: Office) -> None:
    instance = start_and_register(db, office, approving_org=office.organisation.id)
    incident = incident_of(db, instance.id)

    manager = app.test_client()
    login(manager, "maja")
    assert manager.get("/processagare/incidenter").status_code == 403
    assert manager.get(f"/processagare/incidenter/{incident.id}").status_code == 403

    login(client, "petra")
    listing = client.get("/processagare/incidenter").get_data(as_text=True)
    assert "compute_fee" in listing and "Avgift" in listing
    page = client.get(f"/processagare/incidenter/{incident.id}").get_data(as_text=True)
    bad = client.post(f"/processagare/incidenter/{incident.id}", data={"csrf_token": csrf_token(page), "data": "{rate: 1"})
    assert bad.status_code == 422 and "Fältet data" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert incident_of(db, instance.id).attempts == 0

    fixed = json.dumps({**incident.data, "rate": 0.1})
    done = client.post(f"/processagare/incidenter/{incident.id}", data={"csrf_token": csrf_token(page), "data": fixed})
    assert done.status_code == 302
    db.session.expire_all()
    assert incident_of(db, instance.id).status == IncidentStatus.RESOLVED
    assert [task.bpmn_id for task in ready(db, instance.id)] == ["approve"]


def test_a_due_moment_without_time_zone_is_an_incident_naming_the_task(db: Any, office: Office) -> None:
    from service.processes.definitions import deploy_definition
    from tests.processes.test_timers import FIXTURES

    xml = (FIXTURES / "bpmn" / "incident.bpmn").read_text().replace(
        '<spiffworkflow:property name="organisation" value="approving_org"/>',
        '<spiffworkflow:property name="organisation" value="approving_org"/>\n'
        '          <spiffworkflow:property name="dueAt" value="deadline"/>')
    commit_with_retry(lambda: deploy_definition(xml.encode(), "incident.bpmn", FIXTURES / "forms", by=None))
    instance = start_and_register(db, office, rate=1, approving_org=office.organisation.id, deadline="2027-01-01T12:00")

    incident = incident_of(db, instance.id)
    assert incident.bpmn_id == "approve" and "saknar tidszon" in incident.message
    commit_with_retry(lambda: retry_incident(incident.id, {**incident.data, "deadline": "2027-01-01T12:00+01:00"},
                                             by=office.owner))
    db.session.expire_all()
    [approve] = ready(db, instance.id)
    assert approve.due_at.isoformat() == "2027-01-01T11:00:00+00:00"


def test_a_case_with_a_corrected_incident_re_executes_identically(db: Any, office: Office) -> None:
    from service.audit.replay import replay_instance

    instance = start_and_register(db, office, approving_org=office.organisation.id)
    incident = incident_of(db, instance.id)
    commit_with_retry(lambda: retry_incident(incident.id, {**incident.data, "rate": None}, by=office.owner))
    commit_with_retry(lambda: retry_incident(incident.id, {**incident.data, "rate": 0.5}, by=office.owner))
    [approve] = ready(db, instance.id)
    commit_with_retry(lambda: complete_task(approve.id, {"note": "Godkänd"}, by=office.manager))
    db.session.expire_all()

    result = replay_instance(db.session.get(ProcessInstance, instance.id))
    assert result.is_identical, result.summary()
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
