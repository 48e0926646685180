"""Deploy BPMN files as numbered, immutable versions; keep one parsed spec per version in memory."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from service import audit
from service.engine import specs, validation
from service.errors import BpmnError, NotFound, SamverkanError
from service.extensions import db
from service.messages import Message
from service.modeller.models import EditedDecision
from service.parties.models import User, role_for_lane
from service.processes import lint, test_cases
from service.processes.models import ProcessDefinition

_PARSED: dict[tuple[int, str], tuple[specs.Definition, dict[str, Any]]] = {}


def deploy_definition(xml: bytes, filename: str, forms_dir: Path, *, by: User | None, comment: str = "",
                      edited_forms: Mapping[str, Any] | None = None, process_id: str | None = None,
                      decision_files: Mapping[str, str] | None = None) -> tuple[ProcessDefinition, bool]:
    """Validate and store a new version; returns (definition, is_new). Identical content is not re-versioned.

    ``edited_forms`` (name -> schema, edited in the modeller) take precedence over the files in ``forms_dir``.
    ``process_id`` chooses the entry point of a file with several processes. A call activity to a process
    deployed separately is bound to that process's latest version, recorded with this version.
    ``decision_files`` (DMN file name -> XML; None: ``configured_decisions()``) are the decision tables a
    business-rule task may call; those it calls are stored with the version.
    """
    definition, form_schemas, called_versions, digest, latest = _against_latest(
        xml, filename, forms_dir, edited_forms, process_id, decision_files)
    if latest is not None and latest.sha256 == digest:
        # Checked, linted and tested when it was stored: an unchanged redeploy (every start) costs no node run.
        return latest, False
    _check(xml, definition, forms_dir, edited_forms, form_schemas)
    # The owner's process tests must pass before the version is stored (refused naming case and element).
    passed = test_cases.refuse_failing(definition, form_schemas)
    row = ProcessDefinition(
        process_id=definition.process_id, version=(latest.version + 1 if latest else 1),
        name=definition.name, filename=filename, bpmn_xml=xml.decode("utf-8"), forms=form_schemas,
        called_versions=called_versions, decisions=dict(definition.decisions), test_cases=passed, sha256=digest,
        comment=comment,
        deployed_by_id=getattr(by, "id", None),
    )
    db.session.add(row)
    db.session.flush()
    calls: dict[str, Any] = {"called_versions": called_versions} if called_versions else {}
    if passed:
        calls["tests_passed"] = [case["name"] for case in passed]
    if definition.decisions:
        calls["decisions"] = sorted(definition.decisions)
    audit.record(by, "definition.deployed", row, process_id=row.process_id, version=row.version,
                 sha256=digest, forms=sorted(form_schemas), comment=comment, **calls)
    return row, True


def prepare_definition(xml: bytes, filename: str, forms_dir: Path, edited_forms: Mapping[str, Any] | None = None,
                       process_id: str | None = None, bound: dict[str, ProcessDefinition] | None = None,
                       decision_files: Mapping[str, str] | None = None) -> tuple[specs.Definition, dict[str, Any]]:
    """Parse and check a diagram as a deploy would, with the forms it would be stored with (nothing stored)."""
    definition, form_schemas = _parse_with_forms(xml, filename, forms_dir, edited_forms, process_id, bound,
                                                 decision_files)
    _check(xml, definition, forms_dir, edited_forms, form_schemas)
    return definition, form_schemas


def unchanged_version(xml: bytes, filename: str, forms_dir: Path, edited_forms: Mapping[str, Any] | None = None,
                      process_id: str | None = None,
                      decision_files: Mapping[str, str] | None = None) -> ProcessDefinition | None:
    """The latest version if deploying ``xml`` would store nothing new (same diagram, forms, callees and tables),
    found without the lint or the checks; None when it would be new or cannot be read (the checks say why)."""
    try:
        *_, digest, latest = _against_latest(xml, filename, forms_dir, edited_forms, process_id, decision_files)
    except SamverkanError:
        return None
    return latest if latest is not None and latest.sha256 == digest else None


def _against_latest(xml: bytes, filename: str, forms_dir: Path, edited_forms: Mapping[str, Any] | None,
                    process_id: str | None, decision_files: Mapping[str, str] | None,
                    ) -> tuple[specs.Definition, dict[str, Any], dict[str, int], str, ProcessDefinition | None]:
    """The parsed diagram, its forms, the callee versions it binds, its digest and the latest version of its
    process: what a deploy compares to store nothing new for unchanged content."""
    bound: dict[str, ProcessDefinition] = {}
    definition, form_schemas = _parse_with_forms(xml, filename, forms_dir, edited_forms, process_id, bound,
                                                 decision_files)
    called_versions = {called: row.version for called, row in sorted(bound.items())}
    digest = _digest(xml, form_schemas, called_versions, definition.decisions)
    return definition, form_schemas, called_versions, digest, get_latest_definition(definition.process_id)


def _parse_with_forms(xml: bytes, filename: str, forms_dir: Path, edited_forms: Mapping[str, Any] | None,
                      process_id: str | None, bound: dict[str, ProcessDefinition] | None,
                      decision_files: Mapping[str, str] | None) -> tuple[specs.Definition, dict[str, Any]]:
    """The parsed diagram (its decisions checked) and the forms it would be stored with."""
    bound = {} if bound is None else bound
    definition = specs.parse(xml, filename, entry=process_id, resolve=_resolver(bound, get_latest_definition),
                             decision_files=configured_decisions() if decision_files is None else decision_files)
    return definition, _read_forms(definition, forms_dir, edited_forms or {}, bound)


def _check(xml: bytes, definition: specs.Definition, forms_dir: Path, edited_forms: Mapping[str, Any] | None,
           form_schemas: Mapping[str, Any]) -> None:
    """The lint (a node process) and our own checks; raises BpmnError naming the element."""
    lint.refuse_lint_errors(xml, {*_form_names(forms_dir), *(edited_forms or {})})
    specs.validate(xml, definition, form_schemas, lambda lane: role_for_lane(lane))


def validate_definition(xml: bytes, filename: str, forms_dir: Path, edited_forms: Mapping[str, Any] | None = None,
                        process_id: str | None = None,
                        decision_files: Mapping[str, str] | None = None) -> list[validation.Problem]:
    """Every reason ``xml`` cannot be deployed (empty: it can), each naming its BPMN (or DMN) element."""
    schemas = {**available_forms(forms_dir), **(edited_forms or {})}
    problems = validation.validate(xml, filename, schemas, lambda lane: role_for_lane(lane), entry=process_id,
                                   resolve=_resolver({}, get_latest_definition),
                                   decision_files=configured_decisions() if decision_files is None else decision_files)
    if problems and problems[0].message.startswith("ogiltig XML"):
        return problems
    return lint.merge(problems, lint.lint_problems(xml, schemas))


def _form_names(forms_dir: Path) -> set[str]:
    """The form files' names in ``forms_dir`` (what the modeller offers a user task)."""
    return {path.name for path in forms_dir.glob("*.json")}


def _resolver(bound: dict[str, ProcessDefinition],
              pick: Callable[[str], ProcessDefinition | None]) -> specs.Resolver:
    """Resolve a called process to the parsed version ``pick`` chooses, noting the row in ``bound``."""
    def resolve(process_id: str) -> specs.Definition | None:
        row = pick(process_id)
        if row is None:
            return None
        bound[process_id] = row
        return parsed(row)
    return resolve


def available_forms(forms_dir: Path) -> dict[str, Any]:
    """The form files a diagram can name, by file name (unreadable files are left out)."""
    found: dict[str, Any] = {}
    for path in sorted(forms_dir.glob("*.json")):
        try:
            found[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
    return found


def available_decisions(decisions_dir: Path) -> dict[str, str]:
    """The DMN files beside the diagrams, by file name (unreadable text is left out; its checks come at use)."""
    found: dict[str, str] = {}
    for path in sorted(decisions_dir.glob("*.dmn")):
        try:
            found[path.name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return found


def configured_decisions() -> dict[str, str]:
    """The decision tables of DECISIONS_DIR (beside the diagrams), with those edited in the modeller in their
    place: what a deploy offers a business-rule task unless it is given its own DMN files."""
    edited = {row.name: row.dmn_xml for row in db.session.scalars(select(EditedDecision))}
    return {**available_decisions(Path(current_app.config["DECISIONS_DIR"])), **edited}


def _read_forms(definition: specs.Definition, forms_dir: Path, edited_forms: Mapping[str, Any],
                bound: Mapping[str, ProcessDefinition]) -> dict[str, Any]:
    """The file's own tasks' forms from the modeller or ``forms_dir``; a called process's as deployed with it."""
    schemas: dict[str, Any] = {}
    for task in definition.own_user_tasks.values():
        if not task.form or task.form in schemas:
            continue
        if task.form in edited_forms:
            schemas[task.form] = edited_forms[task.form]
            continue
        path = forms_dir / task.form
        if Path(task.form).name != task.form or not path.is_file():
            raise BpmnError(task.bpmn_id, f"formuläret '{task.form}' finns inte i forms/")
        try:
            schemas[task.form] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BpmnError(task.bpmn_id, f"formuläret '{task.form}' är inte giltig JSON: {exc}") from None
    for process_id, row in bound.items():
        for name, schema in row.forms.items():
            if schemas.setdefault(name, schema) != schema:
                # A case reads a task's form by name: one name, one schema for the whole case.
                user = next((t.bpmn_id for t in definition.own_user_tasks.values() if t.form == name), None)
                raise BpmnError(user, f"formuläret '{name}' skiljer sig från det som driftsattes med den anropade "
                                      f"processen '{process_id}' (version {row.version}); driftsätt den igen först")
    return schemas


def _digest(xml: bytes, form_schemas: dict[str, Any], called_versions: dict[str, int],
            decision_files: Mapping[str, str] | None = None) -> str:
    content = xml + json.dumps(form_schemas, sort_keys=True).encode()
    if called_versions:  # a new version of a callee makes a redeploy of the same file a new version
        content += json.dumps(called_versions, sort_keys=True).encode()
    if decision_files:  # so does a changed decision table
        content += json.dumps({"decisions": dict(decision_files)}, sort_keys=True).encode()
    return hashlib.sha256(content).hexdigest()


def get_latest_definition(process_id: str) -> ProcessDefinition | None:
    latest = select(func.max(ProcessDefinition.version)).where(ProcessDefinition.process_id == process_id)
    return db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_id == process_id, ProcessDefinition.version == latest.scalar_subquery()))


def list_versions(process_id: str) -> list[ProcessDefinition]:
    """Every deployed version of ``process_id``, newest first, with the test cases each passed (the versions
    page lists them)."""
    return list(db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
                                   .options(undefer(ProcessDefinition.test_cases))
                                   .order_by(ProcessDefinition.version.desc())))


def list_processes() -> list[ProcessDefinition]:
    """The latest version of every deployed process, by name."""
    latest = (select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.process_id).subquery())
    return list(db.session.scalars(select(ProcessDefinition).join(latest, (ProcessDefinition.process_id == latest.c.process_id)
                                                                  & (ProcessDefinition.version == latest.c.version))
                                   .order_by(ProcessDefinition.name)))


def get_version(process_id: str, version: int) -> ProcessDefinition:
    """One deployed version, or NotFound."""
    row = db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_id == process_id, ProcessDefinition.version == version))
    if row is None:
        raise NotFound(Message("Processen '%(process)s' har ingen version %(version)s.", process=process_id, version=version))
    return row


def require_latest_definition(process_id: str) -> ProcessDefinition:
    row = get_latest_definition(process_id)
    if row is None:
        raise NotFound(Message("Processen '%(process)s' är inte driftsatt.", process=process_id))
    return row


def parsed(row: ProcessDefinition) -> specs.Definition:
    """The parsed spec of a stored version; parsed once per process (versions never change)."""
    return _content(row)[0]


def form_schema(row: ProcessDefinition, form: str) -> dict[str, Any]:
    """A form of this version, as deployed with it."""
    schema: dict[str, Any] = _content(row)[1][form]
    return schema


def _content(row: ProcessDefinition) -> tuple[specs.Definition, dict[str, Any]]:
    # Keyed by content hash too: ids are reused when a test database is emptied.
    key = (row.id, row.sha256)
    if key not in _PARSED:
        resolve = _resolver({}, lambda process_id: _called_version(row, process_id))
        # With the decision tables it was deployed with: a running case keeps the table it started with.
        definition = specs.parse(row.bpmn_xml.encode("utf-8"), row.filename, entry=row.process_id, resolve=resolve,
                                 decision_files=row.decisions or {})
        _PARSED[key] = (definition, dict(row.forms))
    return _PARSED[key]


def _called_version(row: ProcessDefinition, process_id: str) -> ProcessDefinition | None:
    """The version of ``process_id`` that ``row`` was deployed with."""
    version = (row.called_versions or {}).get(process_id)
    if version is None:
        return None
    return db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_id == process_id, ProcessDefinition.version == version))
