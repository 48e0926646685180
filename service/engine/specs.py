"""Parse BPMN with SpiffBpmnParser (keeps ``spiffworkflow:`` extensions) and check it before deploy.

Our conventions, readable by SpiffArena too:
* a user task names its form with the property ``formJsonSchemaFilename``;
* the task's lane names the role that gets it (a role code or its Swedish label);
* optional properties ``organisation`` and ``assignee`` are expressions over the task data that give
  the organisation id the task is offered in and a named user id; ``dueIn`` is an ISO duration.

A file may hold several processes; one of them is the entry point (``entry_point``). A call activity runs a
process of the same file or, through ``resolve``, a process deployed separately (the service binds the
version it found at deploy, so an instance keeps the callee it started with).

A business-rule task names a DMN decision with ``spiffworkflow:calledDecisionId``; the decision comes from
the DMN files given to ``parse`` (decisions.py), and the files the diagram uses are kept with the version.
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
from SpiffWorkflow.bpmn.specs.mixins import SubWorkflowTaskMixin
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

from service.engine import bounds, decisions, forms, scripting
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
    # Processes deployed separately that a call activity of this file runs, by process id (their own
    # callees are in theirs). Their specs are in ``subprocess_specs``, their user tasks in ``user_tasks``.
    callees: Mapping[str, Definition] = field(default_factory=dict)
    # The DMN files this file's business-rule tasks use: file name -> XML text (stored with the version).
    decisions: Mapping[str, str] = field(default_factory=dict)

    @property
    def form_names(self) -> set[str]:
        return {t.form for t in self.user_tasks.values() if t.form}

    @property
    def own_user_tasks(self) -> dict[str, UserTaskInfo]:
        """The user tasks drawn in this file (not in a separately deployed callee)."""
        theirs = {bpmn_id for callee in self.callees.values() for bpmn_id in callee.user_tasks}
        return {bpmn_id: task for bpmn_id, task in self.user_tasks.items() if bpmn_id not in theirs}

    @cached_property
    def has_timers(self) -> bool:
        """Whether any process of the definition has a timer event: instances of a diagram without timers
        skip the timer bookkeeping altogether."""
        specs = [self.spec, *self.subprocess_specs.values()]
        return any(isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)
                   for spec in specs for task_spec in spec.task_specs.values())


# Resolves a process id that no process of the file has to a process deployed separately (None: not deployed).
Resolver = Callable[[str], "Definition | None"]


def parse(xml: bytes, filename: str, *, entry: str | None = None, resolve: Resolver | None = None,
          decision_files: Mapping[str, str] | None = None) -> Definition:
    """Parse one BPMN file; its entry point (``entry``, or the one ``entry_point`` finds) is the process an
    instance starts. ``decision_files`` (DMN file name -> XML text) are the decision tables its business-rule
    tasks may call. Raises BpmnError naming the element."""
    parser = _Parser(validator=VALIDATOR)
    parser.dmn_schemas = {}  # decisions.read validated each DMN file already (with a cached schema)
    try:
        root = etree.fromstring(xml)
        _check_flow_references(root)
        used = _add_decisions(parser, root, decision_files or {})
        parser.add_bpmn_str(xml, filename=filename)
        process_id = entry_point(root, parser.get_process_ids(), entry)
        spec = parser.get_spec(process_id)
        subprocess_specs, missing = _subprocess_specs(parser, spec)
    except etree.XMLSyntaxError as exc:
        raise BpmnError(None, f"ogiltig XML på rad {exc.lineno}: {exc.msg}") from None
    except ValidationException as exc:
        raise BpmnError(exc.id or None, _validation_message(exc)) from None
    user_tasks = _user_tasks(spec, subprocess_specs)
    callees = _bind_callees(missing, resolve or (lambda _: None), subprocess_specs, user_tasks)
    return Definition(
        process_id=spec.name, name=spec.description or spec.name, spec=spec,
        subprocess_specs=subprocess_specs, user_tasks=user_tasks, callees=callees, decisions=used,
    )


class _Parser(SpiffBpmnParser):  # type: ignore[misc]
    """SpiffBpmnParser whose business-rule tasks run their tables with DMN's UNIQUE (decisions.UniqueEngine)."""

    def get_engine(self, decision_ref: str, node: Any) -> decisions.UniqueEngine:
        return decisions.UniqueEngine(super().get_engine(decision_ref, node).decision_table)


def executable_processes(root: etree._Element) -> list[str]:
    """Ids of the file's executable processes, in file order (SpiffWorkflow: no isExecutable means true)."""
    return [process.get("id", "") for process in root.iterfind("bpmn:process", NS)
            if process.get("isExecutable", "true") == "true"]


def entry_point(root: etree._Element, executable: list[str], entry: str | None = None) -> str:
    """The process an instance starts: ``entry`` if given, else the only executable process that no call
    activity of the file calls. Refused when there is none or several, naming the candidates."""
    if not executable:
        raise BpmnError(None, 'filen har ingen körbar process (isExecutable="true")')
    if entry is not None:
        if entry not in executable:
            raise BpmnError(None, f"processen '{entry}' finns inte som körbar process i filen; "
                                  f"filens körbara processer: {_listed(root, executable)}")
        return entry
    called = {activity.get("calledElement") for activity in root.iterfind(".//bpmn:callActivity", NS)}
    candidates = [process_id for process_id in executable if process_id not in called]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise BpmnError(None, f"varje körbar process i filen anropas av en annan, så ingen kan starta ett ärende: "
                              f"{_listed(root, executable)}")
    raise BpmnError(None, f"filen har {len(candidates)} körbara processer som ingen annan process anropar: "
                          f"{_listed(root, candidates)}; ange vilken som startar ärendet (process_id), eller "
                          'markera de andra som icke körbara (isExecutable="false")')


def _listed(root: etree._Element, process_ids: list[str]) -> str:
    names = {process.get("id"): process.get("name") for process in root.iterfind("bpmn:process", NS)}
    return ", ".join(f"'{pid}' ({names[pid]})" if names.get(pid) else f"'{pid}'" for pid in process_ids)


def called_decisions(root: etree._Element) -> dict[str, str | None]:
    """Each business-rule task's id -> the decision id it calls (None: it names none)."""
    path = "bpmn:extensionElements/spiffworkflow:calledDecisionId"
    return {task.get("id", ""): (task.findtext(path, namespaces=NS) or "").strip() or None
            for task in root.iterfind(".//bpmn:businessRuleTask", NS)}


def _add_decisions(parser: SpiffBpmnParser, root: etree._Element, files: Mapping[str, str]) -> dict[str, str]:
    """Give the parser the DMN files the business-rule tasks call; return them (file name -> XML). Refuses a
    task that names no decision or one no readable file has, naming the task (and why a file was unreadable)."""
    called = called_decisions(root)
    if not called:
        return {}
    found, broken = decisions.checked(files)
    used: dict[str, str] = {}
    for task_id, decision_id in called.items():
        if decision_id is None:
            raise BpmnError(task_id, "affärsregeluppgiften anger ingen beslutstabell (spiffworkflow:calledDecisionId); "
                                     "bara affärsregler med en DMN-beslutstabell kan köras")
        refused = next((file.error for file in broken.values() if file.decision_id == decision_id), None)
        if decision_id not in found and refused is not None:
            # The table is there but cannot run as it is: name its element (a rule's cell, a column).
            raise type(refused)(refused.element_id, f"{refused.detail} (anropad av affärsregeluppgiften '{task_id}')")
        if decision_id not in found:
            unreadable = "".join(f"; {file.reason}" for file in broken.values())
            known = ", ".join(f"'{d}'" for d in sorted(found)) or "inga"
            raise BpmnError(task_id, f"beslutstabellen '{decision_id}' finns inte i någon DMN-fil (kända beslut: "
                                     f"{known}){unreadable}")
        decision = found[decision_id]
        if decision.filename not in used:
            used[decision.filename] = decision.xml
            parser.add_dmn_str(decision.xml.encode("utf-8"), filename=decision.filename)
    return used


def _subprocess_specs(parser: SpiffBpmnParser, spec: BpmnProcessSpec) -> tuple[dict[str, Any], dict[str, str]]:
    """The file's subprocesses and called processes reachable from ``spec``, and the processes called that the
    file does not have (process id -> the first call activity calling it)."""
    found: dict[str, Any] = {}
    missing: dict[str, str] = {}
    todo = [spec]
    while todo:
        for task_spec in todo.pop().task_specs.values():
            if not isinstance(task_spec, SubWorkflowTaskMixin) or task_spec.spec in found or task_spec.spec in missing:
                continue
            called = parser.get_spec(task_spec.spec, required=False)
            if called is None:
                missing[task_spec.spec] = task_spec.bpmn_id
            else:
                found[task_spec.spec] = called
                todo.append(called)
    return found, missing


def _bind_callees(missing: Mapping[str, str], resolve: Resolver, subprocess_specs: dict[str, Any],
                  user_tasks: dict[str, UserTaskInfo]) -> dict[str, Definition]:
    """Add each separately deployed callee's specs and user tasks; refuse a callee that is not deployed or
    whose ids would clash with this file's (the engine keys subprocesses and we key tasks by id)."""
    callees: dict[str, Definition] = {}
    for process_id, activity_id in missing.items():
        callee = resolve(process_id)
        if callee is None:
            raise BpmnError(activity_id, f"anropsaktiviteten anropar processen '{process_id}', som varken finns "
                                         "i filen eller är driftsatt")
        theirs = {process_id: callee.spec, **callee.subprocess_specs}
        for key, value in theirs.items():
            if subprocess_specs.setdefault(key, value) is not value:
                raise BpmnError(activity_id, f"den anropade processen '{process_id}' har en process eller "
                                             f"delprocess med id '{key}', som den här filen eller en annan anropad process "
                                             "(i en annan version) också har")
        for bpmn_id, task in callee.user_tasks.items():
            if user_tasks.setdefault(bpmn_id, task) != task:
                raise BpmnError(bpmn_id, f"användaruppgiften har samma id som en i den anropade processen "
                                         f"'{process_id}'; ge den ett annat id")
        callees[process_id] = callee
    return callees


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
    """Our own checks on top of the parser's: forms, lanes, every expression. Raises BpmnError. A separately
    deployed callee was checked when it was deployed."""
    for task in definition.own_user_tasks.values():
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
