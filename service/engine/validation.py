"""Deploy-time checks that collect every problem of a diagram, each naming its BPMN element.

``specs.validate`` stops at the first error (the deploy command's behaviour); the modeller wants the
whole list at once so it can mark every faulty element on the diagram.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from service.engine import forms, scripting, specs
from service.errors import BpmnError

NS = specs.NS
_ISO_LIKE = re.compile(r"^(P|PT|R)\d")
_TIMER_KINDS = ("timeDuration", "timeDate", "timeCycle")
# Flow nodes a token can sit on; reachability is checked per (sub)process from its start events.
_FLOW_NODES = (
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "intermediateCatchEvent", "intermediateThrowEvent", "endEvent", "startEvent",
)


@dataclass(frozen=True)
class Problem:
    """One reason a diagram cannot be deployed, for the element ``element_id`` (None: the whole file)."""

    element_id: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate(xml: bytes, filename: str, form_schemas: Mapping[str, Mapping[str, Any]],
             lane_to_role: Callable[[str], object | None], *, entry: str | None = None,
             resolve: specs.Resolver | None = None, decision_files: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of the diagram; an empty list means it can be deployed. ``entry`` and ``resolve`` as
    (and ``decision_files``) as for ``specs.parse``; a separately deployed callee was checked when it was deployed."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [Problem(None, f"ogiltig XML på rad {exc.lineno}: {exc.msg}")]
    try:
        definition = specs.parse(xml, filename, entry=entry, resolve=resolve, decision_files=decision_files)
    except BpmnError as exc:
        return [Problem(exc.element_id or _element_at_line(root, exc.detail), exc.detail)]
    problems = [*_user_task_problems(definition, form_schemas, lane_to_role), *_timer_problems(root),
                *_gateway_problems(root), *_unreachable(root), *_script_problems(xml),
                *(Problem(element_id, message) for element_id, message in specs.loop_limit_problems(root))]
    return _unique(problems)


def _element_at_line(root: etree._Element, message: str) -> str | None:
    """XML Schema errors carry only a line number: name the innermost element with an id there."""
    match = re.search(r"\(rad (\d+)\)", message)
    if match is None:
        return None
    line = int(match.group(1))
    for node in root.iter():
        if isinstance(node.tag, str) and node.sourceline == line:
            while node is not None and not node.get("id"):
                node = node.getparent()
            return node.get("id") if node is not None else None
    return None


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    return [p for p in problems if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _user_task_problems(definition: specs.Definition, form_schemas: Mapping[str, Mapping[str, Any]],
                        lane_to_role: Callable[[str], object | None]) -> Iterator[Problem]:
    for task in definition.own_user_tasks.values():
        if not task.form:
            yield Problem(task.bpmn_id, f"användaruppgiften saknar formulär (egenskapen {specs.FORM_PROPERTY})")
        elif task.form not in form_schemas:
            yield Problem(task.bpmn_id, f"formuläret '{task.form}' finns inte")
        else:
            try:
                forms.check_schema(form_schemas[task.form], reserved=scripting.reserved_names())
            except BpmnError as exc:
                yield Problem(task.bpmn_id, f"formuläret '{task.form}': {exc.detail}")
        if not task.lane or lane_to_role(task.lane) is None:
            yield Problem(task.bpmn_id, f"användaruppgiften ligger inte i en simbana som anger en roll (simbana: {task.lane!r})")
        if not (task.properties.get("organisation") or task.properties.get("assignee")):
            yield Problem(task.bpmn_id, "användaruppgiften saknar tilldelning (egenskapen organisation eller assignee)")
        yield from _deadline_problems(task)


def _deadline_problems(task: specs.UserTaskInfo) -> Iterator[Problem]:
    due_in = task.properties.get("dueIn")
    if due_in and not _is_iso_duration(due_in):
        yield Problem(task.bpmn_id, f"dueIn '{due_in}' är ingen ISO 8601-varaktighet (t.ex. P30D)")
    deadlines = [name for name in ("dueIn", "dueInWorkingDays", "dueAt") if task.properties.get(name)]
    if len(deadlines) > 1:
        yield Problem(task.bpmn_id, f"ange bara ett sätt att räkna sista dag, inte {', '.join(deadlines)}")


def _is_iso_duration(value: str) -> bool:
    try:
        TimerEventDefinition.parse_iso_duration(value)
    except Exception:  # the library raises bare Exception subclasses of several kinds
        return False
    return True


def _timer_problems(root: etree._Element) -> Iterator[Problem]:
    for definition in root.iterfind(".//bpmn:timerEventDefinition", NS):
        event = definition.getparent()
        event_id = event.get("id") if event is not None else None
        kinds = [child for child in definition if isinstance(child.tag, str) and etree.QName(child).localname in _TIMER_KINDS]
        if not kinds or not (kinds[0].text or "").strip():
            yield Problem(event_id, "timern saknar tid (timeDuration, timeDate eller timeCycle)")
            continue
        kind, source = etree.QName(kinds[0]).localname, (kinds[0].text or "").strip()
        message = _timer_message(kind, source)
        if message:
            yield Problem(event_id, message)


def _timer_message(kind: str, source: str) -> str | None:
    """Timer expressions are Python; a constant must also parse as what the timer kind expects."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        hint = f' (skriv "{source}" inom citattecken)' if source[:1] in "PR2" else ""
        return f"timerns uttryck {source!r} går inte att tolka{hint}"
    if isinstance(tree.body, ast.Name) and _ISO_LIKE.match(tree.body.id):
        return f'timerns uttryck {source} är ett namn, inte en tid: skriv "{source}" inom citattecken'
    if not isinstance(tree.body, ast.Constant):
        return None  # an expression over the case data: checked by the script rules, evaluated at run time
    value = tree.body.value
    if not isinstance(value, str):
        return f"timerns värde {source} ska vara en text"
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeDate":
            TimerEventDefinition.get_datetime(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:
        return f"timerns värde '{value}' är ingen giltig ISO 8601-{_KIND_NAMES[kind]}"
    return None


_KIND_NAMES = {"timeDuration": "varaktighet (t.ex. P5D)", "timeDate": "tidpunkt", "timeCycle": "upprepning (t.ex. R3/PT1H)"}


def _gateway_problems(root: etree._Element) -> Iterator[Problem]:
    for gateway in root.iterfind(".//bpmn:exclusiveGateway", NS):
        outgoing = _outgoing(root, gateway.get("id", ""))
        if len(outgoing) < 2 or gateway.get("default"):
            continue
        conditions = [(flow.findtext("bpmn:conditionExpression", namespaces=NS) or "").strip() for flow in outgoing]
        if all(conditions) and "True" not in conditions:
            message = "den exklusiva gatewayen saknar standardflöde (default) och alla villkor kan vara falska"
            yield Problem(gateway.get("id"), message)


def _outgoing(root: etree._Element, node_id: str) -> list[etree._Element]:
    return list(root.iterfind(f".//bpmn:sequenceFlow[@sourceRef='{node_id}']", NS))


def _unreachable(root: etree._Element) -> Iterator[Problem]:
    # A pool marked not executable documents a participant the service does not run.
    processes = [p for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable", "true") == "true"]
    for container in [*processes, *(s for p in processes for s in p.iterfind(".//bpmn:subProcess", NS))]:
        if container.get("triggeredByEvent") == "true":
            continue
        nodes = {node.get("id"): node for node in container
                 if isinstance(node.tag, str) and etree.QName(node).localname in _FLOW_NODES and node.get("id")}
        boundaries = [b for b in container.iterfind("bpmn:boundaryEvent", NS)]
        starts = [node_id for node_id, node in nodes.items() if etree.QName(node).localname == "startEvent"]
        reached = _walk(container, starts, boundaries)
        for node_id in nodes:
            if node_id not in reached:
                yield Problem(node_id, "elementet kan aldrig nås från processens start")


def _walk(container: etree._Element, starts: list[str], boundaries: list[etree._Element]) -> set[str]:
    flows: dict[str, list[str]] = {}
    for flow in container.iterfind("bpmn:sequenceFlow", NS):
        flows.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
    for boundary in boundaries:  # a boundary event is reached with the activity it is attached to
        flows.setdefault(boundary.get("attachedToRef", ""), []).append(boundary.get("id", ""))
    reached: set[str] = set()
    todo = list(starts)
    while todo:
        node_id = todo.pop()
        if node_id not in reached:
            reached.add(node_id)
            todo.extend(flows.get(node_id, []))
    return reached


def _script_problems(xml: bytes) -> Iterator[Problem]:
    for element_id, source, mode in specs.expressions(xml):
        try:
            scripting.check_source(source, mode)
        except BpmnError as exc:
            yield Problem(element_id, f"uttrycket {source!r} är inte tillåtet: {exc.detail}")
