"""Deploy BPMN files as numbered, immutable versions; keep one parsed spec per version in memory."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from service import audit
from service.engine import specs, validation
from service.errors import BpmnError, NotFound
from service.extensions import db
from service.messages import Message
from service.parties.models import User, role_for_lane
from service.processes.models import ProcessDefinition

_PARSED: dict[tuple[int, str], tuple[specs.Definition, dict[str, Any]]] = {}


def deploy_definition(xml: bytes, filename: str, forms_dir: Path, *, by: User | None, comment: str = "",
                      edited_forms: Mapping[str, Any] | None = None) -> tuple[ProcessDefinition, bool]:
    """Validate and store a new version; returns (definition, is_new). Identical content is not re-versioned.

    ``edited_forms`` (name -> schema, edited in the modeller) take precedence over the files in ``forms_dir``.
    """
    definition = specs.parse(xml, filename)
    form_schemas = _read_forms(definition, forms_dir, edited_forms or {})
    specs.validate(xml, definition, form_schemas, lambda lane: role_for_lane(lane))
    digest = _digest(xml, form_schemas)
    latest = get_latest_definition(definition.process_id)
    if latest is not None and latest.sha256 == digest:
        return latest, False
    row = ProcessDefinition(
        process_id=definition.process_id, version=(latest.version + 1 if latest else 1),
        name=definition.name, filename=filename, bpmn_xml=xml.decode("utf-8"), forms=form_schemas,
        sha256=digest, comment=comment, deployed_by_id=getattr(by, "id", None),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(by, "definition.deployed", row, process_id=row.process_id, version=row.version,
                 sha256=digest, forms=sorted(form_schemas), comment=comment)
    return row, True


def validate_definition(xml: bytes, filename: str, forms_dir: Path,
                        edited_forms: Mapping[str, Any] | None = None) -> list[validation.Problem]:
    """Every reason ``xml`` cannot be deployed (empty: it can), each naming its BPMN element."""
    schemas = {**available_forms(forms_dir), **(edited_forms or {})}
    return validation.validate(xml, filename, schemas, lambda lane: role_for_lane(lane))


def available_forms(forms_dir: Path) -> dict[str, Any]:
    """The form files a diagram can name, by file name (unreadable files are left out)."""
    found: dict[str, Any] = {}
    for path in sorted(forms_dir.glob("*.json")):
        try:
            found[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
    return found


def _read_forms(definition: specs.Definition, forms_dir: Path, edited_forms: Mapping[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for task in definition.user_tasks.values():
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
    return schemas


def _digest(xml: bytes, form_schemas: dict[str, Any]) -> str:
    content = xml + json.dumps(form_schemas, sort_keys=True).encode()
    return hashlib.sha256(content).hexdigest()


def get_latest_definition(process_id: str) -> ProcessDefinition | None:
    latest = select(func.max(ProcessDefinition.version)).where(ProcessDefinition.process_id == process_id)
    return db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_id == process_id, ProcessDefinition.version == latest.scalar_subquery()))


def list_versions(process_id: str) -> list[ProcessDefinition]:
    """Every deployed version of ``process_id``, newest first."""
    return list(db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
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
        _PARSED[key] = (specs.parse(row.bpmn_xml.encode("utf-8"), row.filename), dict(row.forms))
    return _PARSED[key]
