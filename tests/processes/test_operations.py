"""Start and complete through the service layer: state, task list and audit together, or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from service.agreements import operations as agreement_ops
from service.agreements.models import Agreement, AgreementStatus
from service.audit.models import AuditEvent
from service.errors import Conflict, NotPermitted, ValidationFailed
from service.processes.models import HumanTask, ProcessDefinition, ProcessInstance, TaskStatus
from service.processes.operations import complete_task, complete_with_open_tasks, count_tasks_for, list_tasks_for
from service.transactions import commit_with_retry
from tests.conftest import Parties, decision_data, draft_data


def start(db: Any, parties: Parties) -> Agreement:
    return commit_with_retry(lambda: agreement_ops.start_drafting(
        by=parties.coordinator, organisation=parties.goteborg, title="Samverkan kring psykisk hälsa"))


def ready_tasks(db: Any, instance_id: int) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY).order_by(HumanTask.id)))


def receive_all(db: Any, parties: Parties, instance_id: int) -> None:
    """Each party registers the proposal on arrival (receive_proposal), before its decision task opens."""
    for task in ready_tasks(db, instance_id):
        data = {"received_on": "2026-11-03", "diarienummer": f"0948/26-{task.organisation_id}"}
        commit_with_retry(lambda task=task, data=data: complete_task(task.id, data,
                                                                     by=parties.secretaries[task.organisation_id]))


def submit(db: Any, parties: Parties, agreement: Agreement, draft: HumanTask) -> None:
    """Submit the draft and register its arrival at every party: the decision tasks are open."""
    commit_with_retry(lambda: complete_task(draft.id, draft_data(parties), by=parties.coordinator))
    receive_all(db, parties, agreement.latest_version.instance_id)


def audit_count(db: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent)))


def test_start_creates_instance_task_and_audit(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [task] = ready_tasks(db, agreement.latest_version.instance_id)
    assert (task.bpmn_id, task.user_id, task.organisation_id, task.role) == (
        "draft", parties.coordinator.id, parties.goteborg.id, "case_officer")
    assert list_tasks_for(parties.coordinator) == [task]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions == ["definition.deployed", "definition.deployed", "agreement.drafting_started", "instance.started"]


def test_submitting_draft_offers_one_decision_per_party(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    commit_with_retry(lambda: complete_task(draft.id, draft_data(parties), by=parties.coordinator))
    decide = ready_tasks(db, agreement.latest_version.instance_id)
    assert sorted(t.organisation_id for t in decide) == sorted(o.id for o in parties.all)
    assert {t.role for t in decide} == {"body_secretary"} and all(t.due_at for t in decide)
    assert db.session.get(Agreement, agreement.id).status == AgreementStatus.AWAITING_DECISIONS
    for org in parties.all:
        assert [t.organisation_id for t in list_tasks_for(parties.secretaries[org.id])] == [org.id]
        assert count_tasks_for(parties.secretaries[org.id]) == 1
    assert count_tasks_for(parties.coordinator) == len(list_tasks_for(parties.coordinator)) == 0


def test_missing_required_field_is_refused_and_nothing_stored(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    state_before = db.session.get(ProcessInstance, agreement.latest_version.instance_id).state
    events_before = audit_count(db)
    data = draft_data(parties)
    del data["costs"]
    with pytest.raises(ValidationFailed) as refused:
        commit_with_retry(lambda: complete_task(draft.id, data, by=parties.coordinator))
    assert refused.value.fields == {"costs": ["Fältet måste fyllas i."]}
    db.session.expire_all()
    assert db.session.get(ProcessInstance, agreement.latest_version.instance_id).state == state_before
    assert [t.id for t in ready_tasks(db, agreement.latest_version.instance_id)] == [draft.id]
    assert audit_count(db) == events_before
    assert db.session.get(Agreement, agreement.id).status == AgreementStatus.DRAFT


def test_unknown_party_is_refused_by_the_domain(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    with pytest.raises(ValidationFailed) as refused:
        commit_with_retry(lambda: complete_task(draft.id, draft_data(parties, party_ids=[parties.region.id, 9999]),
                                                by=parties.coordinator))
    assert "party_ids" in refused.value.fields


def test_only_the_party_secretary_may_decide(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    submit(db, parties, agreement, draft)
    region_task = next(t for t in ready_tasks(db, agreement.latest_version.instance_id) if t.organisation_id == parties.region.id)
    other_secretary = parties.secretaries[parties.alingsas.id]
    with pytest.raises(NotPermitted):
        commit_with_retry(lambda: complete_task(region_task.id, decision_data(parties.region), by=other_secretary))


def test_body_of_another_party_is_refused(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    submit(db, parties, agreement, draft)
    task = next(t for t in ready_tasks(db, agreement.latest_version.instance_id) if t.organisation_id == parties.region.id)
    data = decision_data(parties.region, body_id=parties.alingsas.bodies[0].id)
    with pytest.raises(ValidationFailed) as refused:
        commit_with_retry(lambda: complete_task(task.id, data, by=parties.secretaries[parties.region.id]))
    assert list(refused.value.fields) == ["body_id"]


def test_completing_a_completed_task_is_a_conflict(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    commit_with_retry(lambda: complete_task(draft.id, draft_data(parties), by=parties.coordinator))
    with pytest.raises(Conflict):
        commit_with_retry(lambda: complete_task(draft.id, draft_data(parties), by=parties.coordinator))


def test_rejection_returns_to_draft_and_cancels_other_decisions(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    submit(db, parties, agreement, draft)
    decide = ready_tasks(db, agreement.latest_version.instance_id)
    first = decide[0]
    org = next(o for o in parties.all if o.id == first.organisation_id)
    commit_with_retry(lambda: complete_task(first.id, decision_data(org, "rejected"), by=parties.secretaries[org.id]))
    [redraft] = ready_tasks(db, agreement.latest_version.instance_id)
    assert redraft.bpmn_id == "draft" and redraft.user_id == parties.coordinator.id
    statuses = {t.id: t.status for t in db.session.scalars(select(HumanTask))}
    assert [statuses[t.id] for t in decide[1:]] == [TaskStatus.CANCELLED, TaskStatus.CANCELLED]
    agreement = db.session.get(Agreement, agreement.id)
    assert agreement.status == AgreementStatus.DRAFT
    assert [d.reason for d in agreement.latest_version.current_decisions()] == ["Kostnadsfördelningen är inte förhandlad."]


def test_sections_hold_only_the_checklist_text(db: Any, parties: Parties) -> None:
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    commit_with_retry(lambda: complete_task(draft.id, draft_data(parties, staffing="Två sjuksköterskor."),
                                            by=parties.coordinator))
    version = db.session.get(Agreement, agreement.id).latest_version
    assert version.sections["staffing"] == {"text": "Två sjuksköterskor.", "responsible": "", "due": ""}
    assert version.sections["follow_up"] == {"text": "Årligen av styrgruppen.", "responsible": "Styrgruppens ordförande",
                                             "due": "2027-12-31"}
    assert not {"parties", "party_results", "title", "party_ids", "user_influence"} & set(version.sections)


def test_a_script_failing_at_run_time_opens_an_incident(db: Any, parties: Parties) -> None:
    """A diagram stored without deploy checks (as an older version might be): the decision stands, the case
    is marked with an incident at the failing script instead of being silently stuck."""
    from service.processes.definitions import get_latest_definition
    from service.processes.models import ProcessIncident

    row = get_latest_definition("agreement_adoption")
    script = '<bpmn:script>party_result = {"organisation_id": party["organisation_id"], "status": outcome'
    row.bpmn_xml = row.bpmn_xml.replace(script, script.replace("<bpmn:script>", "<bpmn:script>import os\n"))
    row.sha256 = "changed-without-deploy"
    db.session.commit()
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    submit(db, parties, agreement, draft)
    task = ready_tasks(db, agreement.latest_version.instance_id)[0]
    org = next(o for o in parties.all if o.id == task.organisation_id)
    commit_with_retry(lambda: complete_task(task.id, decision_data(org, "rejected"), by=parties.secretaries[org.id]))
    db.session.expire_all()
    [incident] = db.session.scalars(select(ProcessIncident)).all()
    assert incident.bpmn_id == "not_adopted" and "Import" in incident.message and incident.is_open
    assert not db.session.get(HumanTask, task.id).is_ready


def test_a_completion_gives_the_open_tasks_the_task_list_holds_afterwards(db: Any, parties: Parties) -> None:
    """Created, kept and cancelled rows: what complete_with_open_tasks gives equals a fresh read after commit."""
    agreement = start(db, parties)
    instance_id = agreement.latest_version.instance_id
    [draft] = ready_tasks(db, instance_id)

    def open_ids(task_id: int, data: dict[str, Any], by: Any) -> list[int]:
        done = commit_with_retry(lambda: complete_with_open_tasks(task_id, data, by=by))
        return [task.id for task in done.open_tasks]

    after_draft = open_ids(draft.id, draft_data(parties), parties.coordinator)  # one receipt per party created
    assert after_draft == [task.id for task in ready_tasks(db, instance_id)] and len(after_draft) == len(parties.all)
    receive_all(db, parties, instance_id)
    decide = ready_tasks(db, instance_id)
    first, second = decide[0], decide[1]
    org = next(o for o in parties.all if o.id == first.organisation_id)
    after_one = open_ids(first.id, decision_data(org), parties.secretaries[org.id])
    now_open = ready_tasks(db, instance_id)  # the other decisions kept, the party's minutes created
    assert after_one == [task.id for task in now_open]
    assert [task.bpmn_id for task in now_open] == ["decide"] * (len(decide) - 1) + ["record_minutes"]
    org = next(o for o in parties.all if o.id == second.organisation_id)
    after_rejection = open_ids(second.id, decision_data(org, "rejected"), parties.secretaries[org.id])  # cancelled
    [redraft] = ready_tasks(db, instance_id)
    assert after_rejection == [redraft.id] and redraft.bpmn_id == "draft"


def test_a_start_and_a_completion_read_no_content_of_the_version(db: Any, parties: Parties) -> None:
    """The diagram, forms, tables and test cases of a version are read only by the pages that show them."""
    agreement = start(db, parties)
    [draft] = ready_tasks(db, agreement.latest_version.instance_id)
    for row in list(db.session.identity_map.values()):  # the versions, as a new request finds them: not loaded
        if isinstance(row, ProcessDefinition | ProcessInstance | HumanTask):
            db.session.expunge(row)
    completion = commit_with_retry(lambda: complete_with_open_tasks(draft.id, draft_data(parties), by=parties.coordinator))
    loaded = set(inspect(completion.task.instance.definition).dict)
    assert loaded.isdisjoint({"bpmn_xml", "forms", "decisions", "called_versions", "test_cases"}), loaded
