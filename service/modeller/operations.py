"""Modeller changes: save a draft, save an edited form or decision table, deploy a diagram as a new version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import current_app
from lxml import etree
from sqlalchemy import select

from service import audit
from service.columns import now
from service.engine import decisions, forms, scripting, specs
from service.engine.validation import Problem
from service.errors import BpmnError, NotFound, ValidationFailed
from service.extensions import db
from service.messages import Message
from service.modeller.models import EditedDecision, EditedForm, ModelDraft
from service.parties.models import User
from service.processes.definitions import available_forms, configured_decisions, deploy_definition, validate_definition
from service.processes.models import ProcessDefinition

MAX_XML_BYTES = 2 * 1024 * 1024


class DiagramRefused(BpmnError):
    """Deploy refused: ``problems`` lists every reason, each with its element id."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].element_id, problems[0].message)
        self.problems = problems


def forms_dir() -> Path:
    return Path(current_app.config["FORMS_DIR"])


def edited_forms() -> dict[str, Any]:
    """Forms edited in the modeller, by name (they win over forms/ at the next deploy)."""
    return {row.name: row.schema for row in db.session.scalars(select(EditedForm))}


def all_forms() -> dict[str, Any]:
    """Every form a diagram can name: forms/ files, with edited versions in their place."""
    return {**available_forms(forms_dir()), **edited_forms()}


def available_decisions() -> dict[str, str]:
    """Every DMN file a diagram can use, file name -> XML: DECISIONS_DIR's files (the project's bpmn/ by
    default), with those edited in the modeller (modeller_decisions) in their place."""
    return configured_decisions()


def decision_ids() -> dict[str, str]:
    """Decision id -> its name, for every readable decision a business-rule task can call."""
    found, _ = decisions.index(available_decisions())
    return {decision_id: found[decision_id].name for decision_id in sorted(found)}


def save_decision(name: str, xml: bytes, *, by: User) -> EditedDecision:
    """Store or replace an edited decision table after the checks a deploy makes (it parses as DMN, every
    expression passes the sandbox check, the hit policy can run). A refusal (ValidationFailed for the name or
    size, BpmnError naming the DMN element) stores nothing. Deployed with the next version using it."""
    if not decisions.FILE_NAME.match(name):
        raise ValidationFailed("Ogiltigt filnamn för beslutstabellen.",
                               {"name": ["Små bokstäver, siffror, punkt, bindestreck och _, slutar på .dmn."]})
    if len(xml) > decisions.MAX_DMN_BYTES:
        raise ValidationFailed("Beslutstabellen är för stor.", {"xml": [f"Högst {decisions.MAX_DMN_BYTES // 1024} kB."]})
    try:
        text = xml.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("Beslutstabellen är inte UTF-8.", {"xml": ["DMN-filen ska vara UTF-8-kodad XML."]}) from None
    decision = decisions.read(xml, name)
    others = {**available_decisions()}
    others.pop(name, None)
    found, _ = decisions.index(others)
    if decision.decision_id in found:
        raise BpmnError(decision.decision_id, f"{name}: beslutet '{decision.decision_id}' finns redan i "
                                              f"{found[decision.decision_id].filename}")
    row = db.session.scalar(select(EditedDecision).where(EditedDecision.name == name))
    if row is None:
        row = EditedDecision(name=name, dmn_xml=text, saved_by_id=by.id)
        db.session.add(row)
    row.dmn_xml, row.saved_by_id, row.saved_at = text, by.id, now()
    db.session.flush()
    audit.record(by, "decision.saved", row, name=name, decision_id=decision.decision_id)
    return row


def validate_xml(xml: bytes, filename: str, process_id: str | None = None) -> list[Problem]:
    """Every problem of a diagram, as the deploy would find it (``process_id``: the chosen entry point)."""
    if len(xml) > MAX_XML_BYTES:
        return [Problem(None, "filen är större än 2 MB")]
    return validate_definition(xml, filename, forms_dir(), edited_forms(), process_id, available_decisions())


def process_id_of(xml: bytes) -> str:
    """The entry point of a diagram (for naming drafts and files): the only executable process no call
    activity of the file calls, else the first executable one."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        raise BpmnError(None, f"ogiltig XML på rad {exc.lineno}: {exc.msg}") from None
    executable = [process_id for process_id in specs.executable_processes(root) if process_id]
    try:
        return specs.entry_point(root, executable)
    except BpmnError:
        if not executable:
            raise
        return executable[0]  # a draft of a file whose entry point is still to be chosen


def deploy_xml(xml: bytes, filename: str, comment: str, *, by: User,
               process_id: str | None = None) -> tuple[ProcessDefinition, bool]:
    """Validate the diagram and store it (with the forms it uses) as a new immutable version."""
    if not comment.strip():
        raise ValidationFailed("Ange en kommentar till versionen.", {"comment": ["Kommentar krävs."]})
    problems = validate_xml(xml, filename, process_id)
    if problems:
        raise DiagramRefused(problems)
    return deploy_definition(xml, filename, forms_dir(), by=by, comment=comment.strip(), edited_forms=edited_forms(),
                             process_id=process_id, decision_files=available_decisions())


def save_draft(xml: bytes, base_version: int | None, *, by: User) -> ModelDraft:
    """Keep a diagram without deploying it: one draft per process and author, overwritten on save."""
    if len(xml) > MAX_XML_BYTES:
        raise ValidationFailed("Utkastet är för stort.", {"xml": ["Högst 2 MB."]})
    process_id = process_id_of(xml)
    draft = get_draft(process_id, by)
    if draft is None:
        draft = ModelDraft(process_id=process_id, saved_by_id=by.id, filename=f"{process_id}.bpmn", bpmn_xml="")
        db.session.add(draft)
    draft.bpmn_xml, draft.base_version = xml.decode("utf-8"), base_version
    draft.saved_at = now()
    db.session.flush()
    audit.record(by, "definition.draft_saved", draft, process_id=process_id, base_version=base_version)
    return draft


def get_draft(process_id: str, user: User) -> ModelDraft | None:
    return db.session.scalar(select(ModelDraft).where(ModelDraft.process_id == process_id,
                                                      ModelDraft.saved_by_id == user.id))


def parse_form_text(text: str) -> dict[str, Any]:
    """A form's JSON text as a checked schema; ValidationFailed names the reason."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed("Formuläret är inte giltig JSON.", {"schema": [f"Rad {exc.lineno}: {exc.msg}"]}) from None
    if not isinstance(schema, dict):
        raise ValidationFailed("Formuläret ska vara ett JSON-objekt.", {"schema": ["Ett objekt krävs."]})
    try:
        forms.check_schema(schema, reserved=scripting.reserved_names())
    except BpmnError as exc:
        raise ValidationFailed("Formuläret är inte ett giltigt JSON Schema.", {"schema": [exc.detail]}) from None
    return schema


def save_form(name: str, text: str, *, by: User) -> EditedForm:
    """Store an edited form; it goes out with the next deployed version of each definition using it."""
    if Path(name).name != name or not name.endswith(".json"):
        raise ValidationFailed("Ogiltigt formulärnamn.", {"name": ["Ett filnamn som slutar på .json."]})
    schema = parse_form_text(text)
    row = db.session.scalar(select(EditedForm).where(EditedForm.name == name))
    if row is None:
        row = EditedForm(name=name, schema=schema, saved_by_id=by.id)
        db.session.add(row)
    row.schema, row.saved_by_id, row.saved_at = schema, by.id, now()
    db.session.flush()
    audit.record(by, "form.saved", row, name=name, fields=sorted(schema.get("properties", {})))
    return row


def get_form(name: str) -> dict[str, Any]:
    schemas = all_forms()
    if name not in schemas:
        raise NotFound(Message("Formuläret '%(name)s' finns inte.", name=name))
    schema: dict[str, Any] = schemas[name]
    return schema
