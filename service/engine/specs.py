"""Parse BPMN with SpiffBpmnParser (keeps ``spiffworkflow:`` extensions) and check it before deploy.

Our conventions, readable by SpiffArena too:
* a user task names its form with the property ``formJsonSchemaFilename``;
* the task's lane names the role that gets it (a role code or its Swedish label);
* optional properties ``organisation`` and ``assignee`` are expressions over the task data that give
  the organisation id the task is offered in and a named user id; ``dueIn`` is an ISO duration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

from service.engine import bounds, forms, scripting
from service.errors import BpmnError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_PROPERTY = "formJsonSchemaFilename"
# Evaluated over the task's data: the organisation and user a task is offered to, a deadline in Swedish
# working days (the number can come from the agreement), or a due moment the case computed (ISO).
EXPRESSION_PROPERTIES = ("organisation", "assignee", "dueInWorkingDays", "dueAt")

# (xpath relative to the element that owns it, parse mode)
_EXPRESSIONS = (
    ("bpmn:conditionExpression", "eval"),
    ("bpmn:script", "exec"),
    ("bpmn:timerEventDefinition/bpmn:timeDuration", "eval"),
    ("bpmn:timerEventDefinition/bpmn:timeDate", "eval"),
    ("bpmn:timerEventDefinition/bpmn:timeCycle", "eval"),
    ("bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition", "eval"),
    ("bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", "eval"),
    ("bpmn:standardLoopCharacteristics/bpmn:loopCondition", "eval"),
    ("bpmn:completionCondition", "eval"),  # an ad hoc subprocess's
    ("bpmn:conditionalEventDefinition/bpmn:condition", "eval"),
    ("bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "eval"),
    ("bpmn:correlationPropertyRetrievalExpression/bpmn:messagePath", "eval"),
    ("bpmn:extensionElements/spiffworkflow:messagePayload", "eval"),
    ("bpmn:messageEventDefinition/bpmn:extensionElements/spiffworkflow:messagePayload", "eval"),
    ("bpmn:extensionElements/spiffworkflow:processVariableCorrelation/spiffworkflow:expression", "eval"),
    ("bpmn:messageEventDefinition/bpmn:extensionElements/spiffworkflow:processVariableCorrelation/spiffworkflow:expression",
     "eval"),
    ("bpmn:extensionElements/spiffworkflow:preScript", "exec"),
    ("bpmn:extensionElements/spiffworkflow:postScript", "exec"),
)
# Attributes that hold expressions: a service task's parameters.
_EXPRESSION_ATTRIBUTES = (
    "bpmn:extensionElements/spiffworkflow:serviceTaskOperator/spiffworkflow:parameters/spiffworkflow:parameter/@value",
)


@dataclass(frozen=True)
class UserTaskInfo:
    """What the service needs to know about one user task of a definition."""

    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    properties: Mapping[str, str]
    instructions: str | None


@dataclass(frozen=True)
class Definition:
    """A parsed, validated process: the spec objects are shared by every instance of this version."""

    process_id: str
    name: str
    spec: BpmnProcessSpec
    subprocess_specs: Mapping[str, BpmnProcessSpec]
    user_tasks: Mapping[str, UserTaskInfo] = field(default_factory=dict)

    @property
    def form_names(self) -> set[str]:
        return {t.form for t in self.user_tasks.values() if t.form}

    @cached_property
    def has_timers(self) -> bool:
        """Whether any process of the definition has a timer event: instances of a diagram without timers
        skip the timer bookkeeping altogether."""
        specs = [self.spec, *self.subprocess_specs.values()]
        return any(isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)
                   for spec in specs for task_spec in spec.task_specs.values())


def parse(xml: bytes, filename: str) -> Definition:
    """Parse one BPMN file holding one executable process. Raises BpmnError naming the element."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        _check_flow_references(etree.fromstring(xml))
        parser.add_bpmn_str(xml, filename=filename)
        process_ids = parser.get_process_ids()
        if len(process_ids) != 1:
            raise BpmnError(None, f"filen ska innehålla exakt en körbar process, den har {len(process_ids)}")
        spec = parser.get_spec(process_ids[0])
        subprocess_specs = parser.get_subprocess_specs(process_ids[0])
    except etree.XMLSyntaxError as exc:
        raise BpmnError(None, f"ogiltig XML på rad {exc.lineno}: {exc.msg}") from None
    except ValidationException as exc:
        raise BpmnError(exc.id or None, _validation_message(exc)) from None
    return Definition(
        process_id=spec.name, name=spec.description or spec.name, spec=spec,
        subprocess_specs=subprocess_specs, user_tasks=_user_tasks(spec, subprocess_specs),
    )


def _check_flow_references(root: etree._Element) -> None:
    """Name the flow whose end is missing (SpiffWorkflow's own message for this is misleading)."""
    ids = {element.get("id") for element in root.iter() if isinstance(element.tag, str)}
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                raise BpmnError(flow.get("id"), f"sekvensflödets {end} pekar på '{flow.get(end)}', som inte finns")


def _validation_message(exc: ValidationException) -> str:
    text = str(exc).split("\nSource Details", 1)[0].strip()
    if exc.line_number:
        text = f"{text} (rad {exc.line_number})"
    return text


def _user_tasks(spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]) -> dict[str, UserTaskInfo]:
    found: dict[str, UserTaskInfo] = {}
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, UserTask):
                extensions = task_spec.extensions or {}
                properties = dict(extensions.get("properties", {}))
                found[task_spec.bpmn_id] = UserTaskInfo(
                    bpmn_id=task_spec.bpmn_id, name=task_spec.bpmn_name or task_spec.bpmn_id,
                    lane=task_spec.lane, form=properties.get(FORM_PROPERTY), properties=properties,
                    instructions=extensions.get("instructionsForEndUser"),
                )
    return found


def validate(xml: bytes, definition: Definition, form_schemas: Mapping[str, Mapping[str, Any]],
             lane_to_role: Callable[[str], str | None]) -> None:
    """Our own checks on top of the parser's: forms, lanes, every expression. Raises BpmnError."""
    for task in definition.user_tasks.values():
        if not task.form:
            raise BpmnError(task.bpmn_id, f"användaruppgiften saknar formulär (egenskapen {FORM_PROPERTY})")
        if task.form not in form_schemas:
            raise BpmnError(task.bpmn_id, f"formuläret '{task.form}' finns inte i forms/")
        if not task.lane or lane_to_role(task.lane) is None:
            message = f"användaruppgiften ligger inte i en simbana som anger en roll (simbana: {task.lane!r})"
            raise BpmnError(task.bpmn_id, message)
        if task.properties.get("dueIn"):
            _check_duration(task.bpmn_id, task.properties["dueIn"])
        try:
            forms.check_schema(form_schemas[task.form], reserved=scripting.reserved_names())
        except BpmnError as exc:
            raise BpmnError(task.bpmn_id, f"formuläret '{task.form}': {exc.detail}") from None
    scripting.check_all(expressions(xml))
    for element_id, message in loop_limit_problems(etree.fromstring(xml)):
        raise BpmnError(element_id, message)


def loop_limit_problems(root: etree._Element) -> list[tuple[str | None, str]]:
    """Loops and multi-instance activities whose stated size is over the engine's bounds (bounds.py)."""
    found: list[tuple[str | None, str]] = []
    for loop in root.iterfind(".//bpmn:standardLoopCharacteristics", NS):
        maximum = loop.get("loopMaximum")
        owner = loop.getparent()
        element_id = owner.get("id") if owner is not None else None
        if maximum is not None and not (maximum.strip().isdigit() and int(maximum) <= bounds.MAX_LOOP_ITERATIONS):
            found.append((element_id, f"loopMaximum {maximum!r} ska vara ett heltal, högst {bounds.MAX_LOOP_ITERATIONS}"))
    for cardinality in root.iterfind(".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", NS):
        owner = cardinality.getparent().getparent()  # type: ignore[union-attr]
        text = (cardinality.text or "").strip()
        if text.isdigit() and int(text) > bounds.MAX_INSTANCES:
            found.append((owner.get("id") if owner is not None else None,
                          f"loopCardinality {text} är fler instanser än de {bounds.MAX_INSTANCES} som tillåts"))
    return found


def expressions(xml: bytes) -> list[tuple[str, str, str]]:
    """Every script, condition, timer and property expression as (element id, source, mode)."""
    root = etree.fromstring(xml)
    found: list[tuple[str, str, str]] = []
    for element in root.iter():
        element_id = element.get("id") if isinstance(element.tag, str) else None
        if not element_id:
            continue
        for path, mode in _EXPRESSIONS:
            for node in element.xpath(path, namespaces=NS):
                if node.text and node.text.strip() and (element_id, node.text.strip(), mode) not in found:
                    found.append((element_id, node.text.strip(), mode))
        for path in _EXPRESSION_ATTRIBUTES:
            found.extend((element_id, str(value), "eval") for value in element.xpath(path, namespaces=NS))
        for name in EXPRESSION_PROPERTIES:
            path = f"bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='{name}']"
            for node in element.xpath(path, namespaces=NS):
                found.append((element_id, node.get("value", ""), "eval"))
    return found


def _check_duration(element_id: str, value: str) -> None:
    try:
        TimerEventDefinition.parse_iso_duration(value)
    except Exception:
        raise BpmnError(element_id, f"dueIn '{value}' är ingen ISO 8601-varaktighet (t.ex. P30D)") from None


def due_at(due_in: str, start: datetime) -> datetime:
    """The moment a task with property ``dueIn`` (ISO 8601 duration) is due, counted from ``start``."""
    parsed = TimerEventDefinition.parse_iso_duration(due_in)
    result: datetime = start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
    return result
