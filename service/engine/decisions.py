"""Decision tables (DMN) for business-rule tasks: read, check and hand them to the BPMN parser.

SpiffWorkflow's DMN engine (``SpiffWorkflow.dmn.engine.DMNEngine``) evaluates every input expression, input
entry and output entry through the workflow's script engine (``script_engine.evaluate``): in our workflows
that is ``scripting.GuardedEnvironment``, so a table runs under the same allow-list and limits as a script.
An input entry is run joined to its column's input expression, as the engine joins them (``(input) ==
(entry)``, ``input<entry>`` for an entry such as ``> 5``, or with ``?`` standing for the input); here every
such joined expression passes ``scripting.check_source`` at deploy, so an unsafe table is refused before
it is stored, naming the rule or column.

A file holds one decision with one table (SpiffWorkflow runs the first table of the first decision only).
Hit policies: UNIQUE (exactly as DMN says: two matching rules are an error of the table, ``UniqueEngine``;
SpiffWorkflow's own engine would take the first), FIRST and COLLECT without an aggregation; the others are
refused, since the engine would quietly run them as FIRST.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser
from SpiffWorkflow.dmn.specs.model import HitPolicy

from service.engine import scripting
from service.errors import BpmnError, ScriptRejected

MAX_DMN_BYTES = 1024 * 1024
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")
FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*\.dmn$")
# As DMNEngine.evaluate: a ? outside quotes stands for the column's input value.
_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_INPUT_VALUE = "dmninputexpr"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
_OUTPUT_PART = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class UniqueEngine(DMNEngine):  # type: ignore[misc]
    """SpiffWorkflow's engine with DMN's UNIQUE: a table with that hit policy whose rules overlap for the case's
    data stops the business-rule task with an error naming the rules (the case gets an incident), instead of
    quietly answering with the first. FIRST and COLLECT are the engine's own."""

    def decide(self, task: object) -> list[object]:
        if self.decision_table.hit_policy != HitPolicy.UNIQUE.value:
            return list(super().decide(task))
        # Every rule that matches, checked as the engine checks one (the table itself is shared by every case
        # of the version, in every thread: it is read, never changed).
        check = self._DMNEngine__check_rule
        matched = [rule for rule in self.decision_table.rules if check(rule, task)]
        if len(matched) > 1:
            rules = ", ".join(f"regel {rule.row_number} ({rule.id})" for rule in matched)
            raise WorkflowTaskException(f"beslutstabellen har träffpolicyn UNIQUE, men flera regler passar ärendets "
                                        f"data: {rules}; ändra reglerna så att bara en passar, eller välj FIRST",
                                        task=task)
        return matched


@dataclass(frozen=True)
class DecisionFile:
    """One DMN file: its name, its decision's id and name, its text (as stored with a version)."""

    filename: str
    decision_id: str
    name: str
    xml: str


def read(xml: str | bytes, filename: str) -> DecisionFile:
    """Read and check one DMN file; BpmnError names the DMN element (or the line) and the decision."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = _root(data, filename)
    namespace = etree.QName(root).namespace or ""
    ns = {"dmn": namespace}
    found = root.findall("dmn:decision", ns)
    if len(found) != 1:
        raise BpmnError(None, f"{filename}: filen ska ha exakt ett beslut (decision), den har {len(found)}")
    decision = found[0]
    decision_id = decision.get("id") or ""
    where = f"{filename}, beslutet '{decision_id}'"
    tables = decision.findall("dmn:decisionTable", ns)
    if len(tables) != 1:
        raise BpmnError(decision_id or None, f"{where}: beslutet ska vara en beslutstabell (decisionTable)")
    table = tables[0]
    _check_structure(root, table, ns, filename, where)
    for element_id, source, problem in _table_expressions(table, ns, where):
        if problem:
            raise BpmnError(element_id, problem)
        try:
            scripting.check_source(source, "eval")
        except ScriptRejected as exc:
            raise ScriptRejected(element_id, f"{where}, {_place(table, element_id, ns)}: {exc.detail}") from None
    return DecisionFile(filename, decision_id, decision.get("name") or decision_id, data.decode("utf-8"))


def _root(data: bytes, filename: str) -> etree._Element:
    """The DMN file's root, valid against its DMN version's schema; refusals name the line."""
    if len(data) > MAX_DMN_BYTES:
        raise BpmnError(None, f"{filename}: filen är större än {MAX_DMN_BYTES // 1024} kB")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise BpmnError(None, f"{filename}: ogiltig XML på rad {exc.lineno}: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        # Entities could read files when the engine's parser reads the table again: none are needed in DMN.
        raise BpmnError(None, f"{filename}: en DOCTYPE-deklaration (entiteter) är inte tillåten i en DMN-fil")
    namespace = etree.QName(root).namespace
    if namespace not in SCHEMAS or etree.QName(root).localname != "definitions":
        raise BpmnError(None, f"{filename}: ingen DMN-fil (rotelementet ska vara definitions i DMN 1.1-1.3)")
    try:
        _validator(namespace).validate(root, filename)
    except ValidationException as exc:
        raise BpmnError(_id_at_line(root, exc.line_number), f"{filename}: {_message(exc)}") from None
    return root


def index(files: Mapping[str, str]) -> tuple[dict[str, DecisionFile], dict[str, str]]:
    """The readable files by decision id, and why each other file could not be used (file name -> reason).
    Two files with the same decision id: the second is listed as a problem."""
    found, broken = checked(files)
    return found, {filename: file.reason for filename, file in broken.items()}


def checked(files: Mapping[str, str]) -> tuple[dict[str, DecisionFile], dict[str, Unreadable]]:
    """As ``index``, with each unusable file's refusal (its DMN element) and decision id where it reads."""
    found: dict[str, DecisionFile] = {}
    broken: dict[str, Unreadable] = {}
    for filename in sorted(files):
        try:
            decision = read(files[filename], filename)
        except BpmnError as exc:
            broken[filename] = Unreadable(_decision_id_of(files[filename]), exc)
            continue
        if decision.decision_id in found:
            first = found[decision.decision_id].filename
            message = f"{filename}: beslutet '{decision.decision_id}' finns redan i {first}"
            broken[filename] = Unreadable(decision.decision_id, BpmnError(decision.decision_id, message))
            continue
        found[decision.decision_id] = decision
    return found, broken


@dataclass(frozen=True)
class Unreadable:
    """A DMN file that cannot be used: its decision's id if the XML reads that far, and the refusal."""

    decision_id: str | None
    error: BpmnError

    @property
    def reason(self) -> str:
        return self.error.detail


def _decision_id_of(xml: str | bytes) -> str | None:
    try:
        root = etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml, _PARSER)
    except etree.XMLSyntaxError:
        return None
    decision = next((e for e in root if isinstance(e.tag, str) and etree.QName(e).localname == "decision"), None)
    return decision.get("id") if decision is not None else None


@lru_cache(maxsize=8)
def _validator(namespace: str) -> BpmnValidator:
    return BpmnValidator(SCHEMAS[namespace])


def _check_structure(root: etree._Element, table: etree._Element, ns: dict[str, str], filename: str,
                     where: str) -> None:
    """Hit policy, ids, and SpiffWorkflow's own parser (what it would refuse when the diagram is parsed)."""
    _check_hit_policy(table, where)
    missing = next((e for e in table.iter() if isinstance(e.tag, str) and not e.get("id") and etree.QName(e).localname
                    in ("input", "output", "rule", "inputEntry", "outputEntry")), None)
    if missing is not None:
        raise BpmnError(None, f"{where}: elementet {etree.QName(missing).localname} på rad {missing.sourceline} saknar id")
    try:
        DMNParser(None, root, {**ns, **_BPMN_NS}, filename=filename).parse()
    except ValidationException as exc:
        raise BpmnError(getattr(exc, "id", None) or None, f"{where}: {_message(exc)}") from None


def _check_hit_policy(table: etree._Element, where: str) -> None:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        raise BpmnError(table.get("id"), f"{where}: träffpolicyn {policy} kan inte köras; använd UNIQUE, FIRST "
                                         "eller COLLECT")
    if table.get("aggregation"):
        raise BpmnError(table.get("id"), f"{where}: COLLECT med aggregering ({table.get('aggregation')}) kan inte "
                                         "köras; använd COLLECT utan aggregering")


def _table_expressions(table: etree._Element, ns: dict[str, str],
                       where: str) -> Iterator[tuple[str | None, str, str | None]]:
    """(element id, expression as the engine runs it, problem) for every column and rule of the table."""
    inputs: list[str] = []
    for column in table.findall("dmn:input", ns):
        text = column.findtext("dmn:inputExpression/dmn:text", default="", namespaces=ns)
        inputs.append(text)
        if not text.strip():
            # The engine would fall back to a data key named by the label (a repr of the value).
            yield column.get("id"), "", f"{where}: kolumnen '{_label(column)}' saknar indatauttryck"
        yield column.get("id"), text, None
    outputs = table.findall("dmn:output", ns)
    for column in outputs:
        yield from _output_problems(column, where)
    for rule in table.findall("dmn:rule", ns):
        entries = rule.findall("dmn:inputEntry", ns)
        results = rule.findall("dmn:outputEntry", ns)
        if len(entries) != len(inputs) or len(results) != len(outputs):
            yield rule.get("id"), "", f"{where}: regeln '{rule.get('id')}' har inte en cell per kolumn"
        for entry, input_text in zip(entries, inputs, strict=False):
            for source in _entry_sources(input_text, entry.findtext("dmn:text", namespaces=ns)):
                yield entry.get("id"), source, None
        for result in results:
            text = result.findtext("dmn:text", namespaces=ns)
            if text:  # the engine evaluates the text as it is; an empty cell gives ""
                yield result.get("id"), text, None


def _output_problems(column: etree._Element, where: str) -> Iterator[tuple[str | None, str, str | None]]:
    """An output column's name is the data key it sets: a variable name (dots for nesting), not a helper's."""
    name = column.get("name") or column.get("label") or ""
    if not name or not all(_OUTPUT_PART.match(part) for part in name.split(".")):
        yield column.get("id"), "", (f"{where}: utdatakolumnen '{_label(column)}' ska ha ett namn (name) som "
                                     "är ett variabelnamn (bokstäver, siffror, _), t.ex. svarsfrist")
    elif name.split(".")[0] in scripting.reserved_names():
        yield column.get("id"), "", f"{where}: utdatakolumnen '{name}' har samma namn som en hjälpfunktion"


def _entry_sources(input_text: str, text: str | None) -> list[str]:
    """The expressions DMNEngine.evaluate builds for an input entry, from the texts as they are (none for a
    cell without text or '-'). An entry such as ``in ("a", "b")`` is joined without a space, as the engine
    does (``categoryin (...)``, refused as a call): write ``? in ("a", "b")``."""
    if text is None or text == "-":
        return []
    match = _QUESTION.sub(_INPUT_VALUE, text)
    if _INPUT_VALUE in match:
        return [match]
    try:
        ast.parse(match)
    except SyntaxError:
        return [input_text + match]
    return [f"({input_text}) == ({match})"]


def _place(table: etree._Element, element_id: str | None, ns: dict[str, str]) -> str:
    """Where in the table ``element_id`` is: 'regel 2 (id), kolumn Kategori' or 'kolumnen Kategori'."""
    columns = [*table.findall("dmn:input", ns), *table.findall("dmn:output", ns)]
    for column in columns:
        if column.get("id") == element_id:
            return f"kolumnen '{_label(column)}'"
    for number, rule in enumerate(table.findall("dmn:rule", ns), start=1):
        cells = [*rule.findall("dmn:inputEntry", ns), *rule.findall("dmn:outputEntry", ns)]
        for cell, column in zip(cells, columns, strict=False):
            if cell.get("id") == element_id:
                return f"regel {number} ('{rule.get('id')}'), kolumnen '{_label(column)}'"
    return f"elementet '{element_id}'"


def _label(column: etree._Element) -> str:
    return column.get("label") or column.get("name") or column.get("id") or "?"


def _id_at_line(root: etree._Element, line: object) -> str | None:
    for node in root.iter():
        if isinstance(node.tag, str) and node.sourceline == line and node.get("id"):
            return node.get("id")
    return None


def _message(exc: ValidationException) -> str:
    text = str(exc).split("\nSource Details", 1)[0].strip()
    return f"{text} (rad {exc.line_number})" if exc.line_number else text
