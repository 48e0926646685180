"""Import a model made in another tool (SpiffArena, Camunda): map its user tasks to our roles and deploy it.

A SpiffArena model names each user task's JSON-Schema form (``formJsonSchemaFilename``, often with an RJSF
``formUiSchemaFilename``) in files beside the model, and has no lanes or lanes named after SpiffArena groups;
a Camunda model names assignees and candidate groups. Neither says which of our roles, in which organisation,
does a task. The process owner maps each lane (or each task outside a lane) to a role and an organisation;
``import_model`` writes that into the XML the way our own diagrams say it (a lane named by the role, the
property ``organisation``) and deploys it through the normal deploy, so every deploy check runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from service import audit
from service.columns import now
from service.engine import forms, scripting, specs
from service.errors import BpmnError, ValidationFailed
from service.extensions import db
from service.messages import Message
from service.modeller import operations as ops
from service.modeller.models import EditedForm
from service.modeller.operations import DiagramRefused
from service.modeller.uploads import Bundle, with_ui_schema
from service.parties.models import ROLE_LABELS, Organisation, Role, User, role_for_lane
from service.processes.definitions import (
    available_forms,
    deploy_definition,
    get_latest_definition,
    list_processes,
    parsed,
    validate_definition,
)
from service.processes.models import ProcessDefinition

UI_SCHEMA_PROPERTY = "formUiSchemaFilename"
# The case's own organisation: what a case started through the API or the inbox carries (api/instances.py),
# and what our diagrams read for a task of the starting party.
CASE_ORGANISATION = "case"
CASE_ORGANISATION_EXPRESSION = "organisation_id"
# Auditors read everything and change nothing: a task offered to them could never be done.
ASSIGNABLE_ROLES = tuple(role for role in Role if role != Role.AUDITOR)
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
_FOREIGN_HINTS = (  # (namespace, attribute) read from the task itself, shown to help the mapping
    (CAMUNDA_NS, "assignee"), (CAMUNDA_NS, "candidateGroups"), (CAMUNDA_NS, "candidateUsers"), (CAMUNDA_NS, "formKey"),
)
_ZEEBE_HINTS = {"assignmentDefinition": ("assignee", "candidateGroups", "candidateUsers"),
                "formDefinition": ("formKey", "formId", "externalReference")}
# Children of a process that come before its lane sets (BPMN 2.0 XML Schema, tProcess).
_BEFORE_LANES = {"documentation", "extensionElements", "supportedInterfaceRef", "ioSpecification", "ioBinding",
                 "auditing", "monitoring", "property", "laneSet"}
# The upload is the user's: no entities, no network.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class ImportTask:
    """One user task of the model as the mapping page shows it."""

    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    ui_form: str | None
    missing: tuple[str, ...]  # files the task names that were not uploaded
    hints: tuple[str, ...]  # the other tool's assignment and form attributes

    @property
    def group(self) -> str:
        return self.lane if self.lane is not None else self.bpmn_id


@dataclass(frozen=True)
class Group:
    """A lane, or one task outside any lane: what gets one role and one organisation."""

    key: str
    lane: str | None
    tasks: tuple[ImportTask, ...]
    suggested_role: Role | None

    @property
    def label(self) -> str:
        """The lane's name, or the task's name and id, for messages in either language."""
        return f"'{self.key}'" if self.lane is not None else f"'{self.tasks[0].name}' ({self.key})"


@dataclass(frozen=True)
class Preview:
    """What the mapping page shows of an uploaded model."""

    bundle: Bundle
    process_id: str
    name: str
    tasks: tuple[ImportTask, ...]
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Assignment:
    role: Role
    organisation_id: int | None  # None: the case's organisation

    @property
    def expression(self) -> str:
        return CASE_ORGANISATION_EXPRESSION if self.organisation_id is None else str(self.organisation_id)

    def describe(self) -> str:
        return f"{self.role.value}@{self.organisation_id if self.organisation_id is not None else CASE_ORGANISATION}"


def preview(bundle: Bundle, process_id: str | None = None) -> Preview:
    """Parse the model and list its user tasks, grouped by lane (a task outside any lane is a group of its own).

    ``process_id`` is the process a case starts, for a file with several (the owner chooses among
    ``starting_processes``)."""
    if len(bundle.xml) > ops.MAX_XML_BYTES:
        raise ValidationFailed("Modellen är för stor.", {"files": [Message("%(name)s är större än 2 MB.",
                                                                              name=bundle.filename)]})
    definition = specs.parse(bundle.xml, bundle.filename, entry=process_id or None, resolve=_deployed)
    root = etree.fromstring(bundle.xml, _PARSER)
    tasks = tuple(_task(root, info, bundle.files) for info in definition.own_user_tasks.values())
    keys = list(dict.fromkeys(task.group for task in tasks))
    groups = tuple(_group(key, [t for t in tasks if t.group == key]) for key in keys)
    return Preview(bundle, definition.process_id, definition.name, tasks, groups)


def starting_processes(bundle: Bundle) -> list[tuple[str, str]]:
    """The executable processes of a file that a case could start, as (id, name); empty if it cannot be read."""
    try:
        root = etree.fromstring(bundle.xml, _PARSER)
    except etree.XMLSyntaxError:
        return []
    names = {process.get("id"): process.get("name") or "" for process in root.iterfind("bpmn:process", specs.NS)}
    return [(process_id, names.get(process_id, "")) for process_id in specs.executable_processes(root) if process_id]


def _deployed(process_id: str) -> specs.Definition | None:
    """A call activity's process deployed separately (its latest version), as a deploy binds it."""
    row = get_latest_definition(process_id)
    return parsed(row) if row is not None else None


def _task(root: etree._Element, info: specs.UserTaskInfo, files: Mapping[str, str]) -> ImportTask:
    ui_form = info.properties.get(UI_SCHEMA_PROPERTY)
    missing = tuple(name for name in (info.form, ui_form) if name and name not in files)
    return ImportTask(info.bpmn_id, info.name, info.lane, info.form, ui_form, missing, _hints(_element(root, info.bpmn_id)))


def _element(root: etree._Element, element_id: str) -> etree._Element:
    found: list[etree._Element] = root.xpath("//*[@id=$id]", id=element_id)  # type: ignore[assignment]
    return found[0]


def _hints(task: etree._Element) -> tuple[str, ...]:
    """The other tool's assignment and form, e.g. ``camunda:candidateGroups = finance``."""
    found = [f"camunda:{attribute} = {task.get(f'{{{ns}}}{attribute}')}"
             for ns, attribute in _FOREIGN_HINTS if task.get(f"{{{ns}}}{attribute}")]
    for tag, attributes in _ZEEBE_HINTS.items():
        for node in task.iterfind(f"bpmn:extensionElements/{{{ZEEBE_NS}}}{tag}", specs.NS):
            found.extend(f"zeebe:{attribute} = {node.get(attribute)}" for attribute in attributes if node.get(attribute))
    return tuple(found)


def _group(key: str, tasks: list[ImportTask]) -> Group:
    lane = tasks[0].lane
    suggested = role_for_lane(lane) if lane else None
    for hint in (h.split(" = ", 1)[1] for t in tasks for h in t.hints if "candidateGroups" in h):
        suggested = suggested or role_for_lane(hint.split(",")[0])
    return Group(key, lane, tuple(tasks), suggested if suggested in ASSIGNABLE_ROLES else None)


def resolve_mapping(found: Preview, chosen: Mapping[str, tuple[str, str]]) -> dict[str, Assignment]:
    """Each group's role and organisation from the owner's choice (role code or Swedish label; ``case``, an
    organisation id or name). Every group must be mapped; errors are keyed by field ``role:<group>`` or
    ``organisation:<group>``."""
    errors: dict[str, list[str]] = {}
    keys = {group.key for group in found.groups}
    for unknown in sorted(set(chosen) - keys):
        errors[f"role:{unknown}"] = [Message("Modellen har ingen bana eller uppgift utan bana som heter '%(name)s'.",
                                             name=unknown)]
    mapping: dict[str, Assignment] = {}
    for group in found.groups:
        role_text, organisation_text = chosen.get(group.key, ("", ""))
        role = _role(role_text.strip(), group, errors)
        is_known, organisation_id = _organisation(organisation_text.strip(), group, errors)
        if role is not None and is_known:
            mapping[group.key] = Assignment(role, organisation_id)
    if errors:
        raise ValidationFailed("Tilldelningen är ofullständig. Inget har importerats.", errors)
    return mapping


def _role(text: str, group: Group, errors: dict[str, list[str]]) -> Role | None:
    if not text:
        errors[f"role:{group.key}"] = [Message("Välj en roll för %(group)s.", group=group.label)]
        return None
    role = role_for_lane(text)
    if role is None or role not in ASSIGNABLE_ROLES:
        errors[f"role:{group.key}"] = [Message("Rollen '%(role)s' finns inte eller kan inte få uppgifter (%(group)s).",
                                               role=text, group=group.label)]
        return None
    return role


def _organisation(text: str, group: Group, errors: dict[str, list[str]]) -> tuple[bool, int | None]:
    """(known, the organisation id or None for the case's organisation); an unknown one's error is noted."""
    if text in (CASE_ORGANISATION, "ärendets"):
        return True, None
    if not text:
        errors[f"organisation:{group.key}"] = [Message("Välj en organisation för %(group)s.", group=group.label)]
        return False, None
    organisation = (db.session.get(Organisation, int(text)) if text.isdigit() and len(text) < 10
                    else db.session.scalar(db.select(Organisation).where(Organisation.name == text)))
    if organisation is None:
        errors[f"organisation:{group.key}"] = [Message("Organisationen '%(organisation)s' finns inte (%(group)s).",
                                                       organisation=text, group=group.label)]
        return False, None
    return True, organisation.id


def import_model(bundle: Bundle, chosen: Mapping[str, tuple[str, str]], *, by: User | None, comment: str = "",
                 chosen_forms: Mapping[str, str] | None = None,
                 process_id: str | None = None) -> tuple[ProcessDefinition, bool]:
    """Write the mapping into the model, keep its forms and deploy it as a new version (every deploy check runs).

    ``chosen_forms`` gives a form (uploaded or already known) to a task whose model names none (Camunda);
    ``process_id`` the process a case starts, in a file with several."""
    found = preview(bundle, process_id)
    mapping = resolve_mapping(found, chosen)
    picked = _picked_forms(found, chosen_forms or {}, bundle)
    schemas = _uploaded_forms(found, picked, bundle)
    xml = rewrite(bundle.xml, found, mapping, picked)
    known = {**ops.edited_forms(), **schemas}
    problems = validate_definition(xml, bundle.filename, ops.forms_dir(), known, found.process_id)
    if problems:
        raise DiagramRefused(problems)
    for name, schema in schemas.items():
        _refuse_form_clash(name, schema, found)
    for name, schema in schemas.items():
        _keep_form(name, schema, by)
    row, is_new = deploy_definition(xml, bundle.filename, ops.forms_dir(), by=by,
                                    comment=comment.strip() or f"Importerad från {bundle.filename}", edited_forms=known,
                                    process_id=found.process_id)
    audit.record(by, "definition.imported", row, process_id=row.process_id, version=row.version, source=bundle.filename,
                 mapping={key: a.describe() for key, a in mapping.items()}, forms=sorted(schemas), is_new=is_new)
    return row, is_new


def _keep_form(name: str, schema: dict[str, Any], by: User | None) -> None:
    """Keep an uploaded form as an edited form, so that a later deploy from the modeller finds it."""
    row = db.session.scalar(db.select(EditedForm).where(EditedForm.name == name))
    if row is not None and row.schema == schema:
        return
    if row is None:
        row = EditedForm(name=name, schema=schema)
        db.session.add(row)
    row.schema, row.saved_by_id, row.saved_at = schema, getattr(by, "id", None), now()
    db.session.flush()
    audit.record(by, "form.saved", row, name=name, fields=sorted(schema.get("properties", {})))


def _picked_forms(found: Preview, chosen_forms: Mapping[str, str], bundle: Bundle) -> dict[str, str]:
    """The forms chosen for tasks without one; a file missing from the model's own tasks is refused here."""
    picked: dict[str, str] = {}
    for task in found.tasks:
        for name in task.missing:
            raise BpmnError(task.bpmn_id, f"uppgiften '{task.name}' anger formulärfilen '{name}', som inte "
                                          "laddades upp; ladda upp den tillsammans med modellen")
        choice = (chosen_forms.get(task.bpmn_id) or "").strip()
        if task.form is None and choice:
            if choice not in bundle.files and choice not in ops.all_forms():
                raise ValidationFailed("Formuläret finns inte.", {f"form:{task.bpmn_id}": [
                    Message("Formuläret '%(form)s' finns inte.", form=choice)]})
            picked[task.bpmn_id] = choice
    return picked


def _uploaded_forms(found: Preview, picked: Mapping[str, str], bundle: Bundle) -> dict[str, Any]:
    """The uploaded JSON Schemas the tasks use, each with its RJSF uiSchema's hints that our forms know."""
    schemas: dict[str, Any] = {}
    applied: dict[str, str | None] = {}
    for task in found.tasks:
        name = task.form or picked.get(task.bpmn_id)
        if not name or name not in bundle.files:
            continue
        if name in applied and applied[name] != task.ui_form:
            raise BpmnError(task.bpmn_id, f"formuläret '{name}' används med olika uiSchema-filer; ett formulär har "
                                          "en utformning hos oss")
        applied[name] = task.ui_form
        schema = _json(task, name, bundle.files[name])
        if task.ui_form:
            schema = with_ui_schema(schema, _json(task, task.ui_form, bundle.files[task.ui_form]))
        try:
            forms.check_schema(schema, reserved=scripting.reserved_names())
        except BpmnError as exc:
            raise BpmnError(task.bpmn_id, f"formuläret '{name}': {exc.detail}") from None
        schemas[name] = schema
    return schemas


def _json(task: ImportTask, name: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BpmnError(task.bpmn_id, f"filen '{name}' är inte giltig JSON (rad {exc.lineno}: {exc.msg})") from None
    if not isinstance(value, dict):
        raise BpmnError(task.bpmn_id, f"filen '{name}' ska vara ett JSON-objekt")
    return value


def _refuse_form_clash(name: str, schema: Any, found: Preview) -> None:
    """A form name is one form for everyone: a file of forms/ or a form another process uses is not replaced."""
    if name in available_forms(ops.forms_dir()) and available_forms(ops.forms_dir())[name] != schema:
        raise ValidationFailed("Ett formulär med samma namn finns redan.", {"files": [
            Message("Formuläret '%(form)s' finns redan i forms/ med ett annat innehåll; byt namn på filen.", form=name)]})
    if ops.edited_forms().get(name, schema) == schema:
        return
    users = sorted(row.process_id for row in list_processes() if name in row.forms and row.process_id != found.process_id)
    if users:
        raise ValidationFailed("Ett formulär med samma namn finns redan.", {"files": [
            Message("Formuläret '%(form)s' används redan av processen '%(process)s' med ett annat innehåll; byt namn "
                    "på filen.", form=name, process=users[0])]})


def rewrite(xml: bytes, found: Preview, mapping: Mapping[str, Assignment], picked: Mapping[str, str]) -> bytes:
    """The model with our conventions: each lane named by its role (tasks outside a lane put in one), each task's
    ``organisation`` property set, and the picked forms named. The forms' file names are kept."""
    root = etree.fromstring(xml, _PARSER)
    lanes = {group.key: [lane for lane in root.iterfind(".//bpmn:lane", specs.NS) if lane.get("name") == group.key]
             for group in found.groups if group.lane is not None}  # found before any is renamed
    for group in found.groups:
        assignment = mapping[group.key]
        label = ROLE_LABELS[assignment.role]
        for lane in lanes.get(group.key, []):
            lane.set("name", label)
        for task in group.tasks:
            element = _element(root, task.bpmn_id)
            if group.lane is None:
                _put_in_lane(root, element, label, assignment.role)
            set_property(element, "organisation", assignment.expression)
            if task.bpmn_id in picked:
                set_property(element, specs.FORM_PROPERTY, picked[task.bpmn_id])
    etree.indent(root, space="  ")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _put_in_lane(root: etree._Element, task: etree._Element, label: str, role: Role) -> None:
    """Reference ``task`` from a lane named ``label`` of its process (made, with a lane set, when missing)."""
    process = next(node for node in task.iterancestors() if etree.QName(node).localname == "process")
    lane_set = process.find("bpmn:laneSet", specs.NS)
    if lane_set is None:
        lane_set = etree.Element(f"{{{specs.BPMN_NS}}}laneSet", id=_free_id(root, f"{process.get('id')}_lanes"))
        process.insert(_lane_set_position(process), lane_set)
    lane = next((lane for lane in lane_set.iterfind("bpmn:lane", specs.NS) if lane.get("name") == label), None)
    if lane is None:
        lane = etree.SubElement(lane_set, f"{{{specs.BPMN_NS}}}lane", id=_free_id(root, f"lane_{role.value}"), name=label)
    reference = etree.Element(f"{{{specs.BPMN_NS}}}flowNodeRef")
    reference.text = task.get("id")
    children = lane.find("bpmn:childLaneSet", specs.NS)
    if children is None:
        lane.append(reference)
    else:
        children.addprevious(reference)


def _lane_set_position(process: etree._Element) -> int:
    for index, child in enumerate(process):
        if isinstance(child.tag, str) and etree.QName(child).localname not in _BEFORE_LANES:
            return index
    return len(process)


def _free_id(root: etree._Element, wanted: str) -> str:
    taken = {node.get("id") for node in root.iter() if isinstance(node.tag, str)}
    candidate, number = wanted, 2
    while candidate in taken:
        candidate, number = f"{wanted}_{number}", number + 1
    return candidate


def set_property(element: etree._Element, name: str, value: str) -> None:
    """Set a ``spiffworkflow:property`` of a BPMN element (extension elements after its documentation)."""
    extensions = element.find("bpmn:extensionElements", specs.NS)
    if extensions is None:
        extensions = etree.Element(f"{{{specs.BPMN_NS}}}extensionElements")
        documentation = element.findall("bpmn:documentation", specs.NS)
        if documentation:
            documentation[-1].addnext(extensions)
        else:
            element.insert(0, extensions)
    properties = extensions.find("spiffworkflow:properties", specs.NS)
    if properties is None:
        properties = etree.SubElement(extensions, f"{{{specs.SPIFF_NS}}}properties")
    for existing in properties.findall(f"spiffworkflow:property[@name='{name}']", specs.NS):
        properties.remove(existing)
    etree.SubElement(properties, f"{{{specs.SPIFF_NS}}}property", name=name, value=value)
