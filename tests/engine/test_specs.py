"""Deploy-time checks: a refused diagram names the BPMN element at fault."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from service.engine import specs
from service.errors import BpmnError
from service.parties.models import role_for_lane

FORM = "review.schema.json"
SCHEMAS: dict[str, dict[str, Any]] = {
    FORM: {"type": "object", "required": ["approved"], "properties": {"approved": {"type": "boolean"}}},
}


def process_xml(*, lane: str = "Handläggare", form: str | None = FORM, properties: str = "",
                source: str = "review", target: str = "end") -> bytes:
    """One user task ``review`` in a lane; each argument is a bit a test can break."""
    form_property = f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>' if form else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="defs" targetNamespace="https://samverkan.se/bpmn">
  <bpmn:process id="review_process" name="Granskning" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane" name="{lane}">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>flow_in</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Granska">
      <bpmn:extensionElements>
        <spiffworkflow:properties>{form_property}{properties}</spiffworkflow:properties>
        <spiffworkflow:instructionsForEndUser>Granska förslaget.</spiffworkflow:instructionsForEndUser>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_in</bpmn:incoming><bpmn:outgoing>flow_out</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>flow_out</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_in" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="flow_out" sourceRef="{source}" targetRef="{target}"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def deploy(xml: bytes, schemas: Mapping[str, Mapping[str, Any]] = SCHEMAS) -> specs.Definition:
    definition = specs.parse(xml, "review.bpmn")
    specs.validate(xml, definition, schemas, role_for_lane)
    return definition


def property_xml(name: str, value: str) -> str:
    return f'<spiffworkflow:property name="{name}" value="{value}"/>'


def test_a_valid_process_is_parsed_with_its_user_task() -> None:
    definition = deploy(process_xml(properties=property_xml("dueIn", "P14D")))
    assert (definition.process_id, definition.name) == ("review_process", "Granskning")
    assert definition.form_names == {FORM}
    task = definition.user_tasks["review"]
    assert (task.name, task.lane, task.form) == ("Granska", "Handläggare", FORM)
    assert task.instructions == "Granska förslaget."
    assert task.properties["dueIn"] == "P14D"


@pytest.mark.parametrize("lane", ["Handläggare", "case_officer", "NÄMNDSEKRETERARE"])
def test_a_lane_may_name_a_role_by_code_or_label(lane: str) -> None:
    assert deploy(process_xml(lane=lane)).user_tasks["review"].lane == lane


def test_malformed_xml_is_refused_with_its_line() -> None:
    xml = process_xml().replace(b"</bpmn:userTask>", b"</bpmn:task>")
    line = xml.decode().splitlines().index("    </bpmn:task>") + 1
    with pytest.raises(BpmnError) as caught:
        specs.parse(xml, "review.bpmn")
    assert caught.value.element_id is None
    assert f"rad {line}" in caught.value.message


def test_a_file_without_an_executable_process_is_refused() -> None:
    xml = process_xml().replace(b'isExecutable="true"', b'isExecutable="false"')
    with pytest.raises(BpmnError, match="ingen körbar process"):
        specs.parse(xml, "review.bpmn")


@pytest.mark.parametrize("broken_end", [{"target": "approved"}, {"source": "drafted"}])
def test_a_flow_to_a_missing_element_is_refused_naming_the_flow(broken_end: dict[str, str]) -> None:
    with pytest.raises(BpmnError) as caught:
        specs.parse(process_xml(**broken_end), "review.bpmn")
    assert caught.value.element_id == "flow_out"
    assert next(iter(broken_end.values())) in caught.value.message


def test_a_user_task_without_a_form_is_refused() -> None:
    with pytest.raises(BpmnError) as caught:
        deploy(process_xml(form=None))
    assert caught.value.element_id == "review"
    assert "formJsonSchemaFilename" in caught.value.message


def test_a_user_task_naming_an_unknown_form_is_refused() -> None:
    with pytest.raises(BpmnError) as caught:
        deploy(process_xml(form="missing.schema.json"))
    assert caught.value.element_id == "review"
    assert "missing.schema.json" in caught.value.message


@pytest.mark.parametrize("lane", ["Trädgårdsmästare", ""])
def test_a_user_task_in_a_lane_that_is_no_role_is_refused(lane: str) -> None:
    with pytest.raises(BpmnError) as caught:
        deploy(process_xml(lane=lane))
    assert caught.value.element_id == "review"
    assert "simbana" in caught.value.message


@pytest.mark.parametrize("due_in", ["60 dagar", "60", "P-1X"])
def test_an_invalid_due_in_is_refused(due_in: str) -> None:
    with pytest.raises(BpmnError) as caught:
        deploy(process_xml(properties=property_xml("dueIn", due_in)))
    assert caught.value.element_id == "review"
    assert due_in in caught.value.message


@pytest.mark.parametrize("field", ["len", "range", "_secret", "två ord", "csrf_token", "_action"])
def test_a_form_with_a_reserved_or_unsafe_field_name_is_refused(field: str) -> None:
    schemas = {FORM: {"type": "object", "properties": {field: {"type": "string"}}}}
    with pytest.raises(BpmnError) as caught:
        deploy(process_xml(), schemas)
    assert caught.value.element_id == "review"
    assert field in caught.value.message


@pytest.mark.parametrize("name", ["organisation", "assignee"])
def test_an_assignment_expression_is_checked_like_a_script(name: str) -> None:
    with pytest.raises(BpmnError) as caught:
        deploy(process_xml(properties=property_xml(name, "open('/etc/passwd')")))
    assert caught.value.element_id == "review"


def test_due_at_counts_the_duration_from_the_start() -> None:
    start = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    assert specs.due_at("P60D", start) == datetime(2026, 3, 16, 9, 30, tzinfo=UTC)
    assert specs.due_at("P1M", start) == datetime(2026, 2, 15, 9, 30, tzinfo=UTC)
