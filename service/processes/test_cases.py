"""Process tests stored per process: save, delete, list, and run them against a version before it is stored.

A case (service.engine.process_tests) belongs to a process id, not to one version: every new version of the
process must pass every case, so a deploy that breaks one is refused, naming the case and the element.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from service import audit
from service.columns import now
from service.engine import process_tests
from service.engine.process_tests import Outcome
from service.engine.specs import Definition
from service.errors import BpmnError, Conflict, NotFound, ValidationFailed
from service.extensions import db
from service.messages import Message
from service.parties.models import User
from service.processes.models import ProcessTestCase


class ProcessTestsFailed(BpmnError):
    """A version fails stored test cases: ``outcomes`` are the failed ones, the first names the element."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        first = outcomes[0]
        more = f" (och {len(outcomes) - 1} testfall till)" if len(outcomes) > 1 else ""
        super().__init__(first.element_id, f"processtesterna godkänner inte versionen: {first.message}{more}")
        self.outcomes = outcomes


def list_test_cases(process_id: str) -> list[ProcessTestCase]:
    """The process's test cases, by name."""
    return list(db.session.scalars(select(ProcessTestCase).where(ProcessTestCase.process_id == process_id)
                                   .order_by(ProcessTestCase.name)))


def get_test_case(process_id: str, name: str) -> ProcessTestCase:
    row = db.session.scalar(select(ProcessTestCase).where(ProcessTestCase.process_id == process_id,
                                                          ProcessTestCase.name == name))
    if row is None:
        raise NotFound(Message("Processen '%(process)s' har inget testfall '%(name)s'.", process=process_id, name=name))
    return row


def parse_case_text(text: str) -> dict[str, Any]:
    """A test case typed as JSON, checked; ValidationFailed names the field at fault."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed("Testfallet är inte giltig JSON. Inget har sparats.",
                               {"case": [f"Rad {exc.lineno}: {exc.msg}"]}) from None
    process_tests.parse_case(raw)
    return dict(raw)


def save_test_case(process_id: str, text: str, *, by: User, replaces: str | None = None) -> ProcessTestCase:
    """Store a test case (``replaces``: the name of the case it edits); the name is unique per process."""
    case = parse_case_text(text)
    name = case["name"] = str(case["name"]).strip()
    row = get_test_case(process_id, replaces) if replaces else None
    clash = db.session.scalar(select(ProcessTestCase).where(ProcessTestCase.process_id == process_id,
                                                            ProcessTestCase.name == name))
    if clash is not None and clash is not row:
        raise ValidationFailed("Testfallet är ogiltigt. Inget har sparats.",
                               {"name": ["Processen har redan ett testfall med det namnet."]})
    if row is None:
        row = ProcessTestCase(process_id=process_id, name=name, case=case)
        db.session.add(row)
    row.name, row.case, row.saved_by_id, row.saved_at = name, case, by.id, now()
    db.session.flush()
    audit.record(by, "definition.test_saved", row, process_id=process_id, name=name, replaces=replaces)
    return row


def delete_test_case(process_id: str, name: str, *, by: User) -> None:
    """Remove a test case: later versions no longer need to pass it."""
    try:
        row = get_test_case(process_id, name)
    except NotFound:  # somebody removed it first (or it never was): say so on the page
        raise Conflict(Message("Testfallet '%(name)s' finns inte (längre).", name=name)) from None
    audit.record(by, "definition.test_deleted", row, process_id=process_id, name=name)
    db.session.delete(row)
    db.session.flush()


def run_test_cases(definition: Definition, form_schemas: Mapping[str, Any],
                   rows: list[ProcessTestCase] | None = None) -> list[Outcome]:
    """Run the process's stored cases (or ``rows``) in memory against ``definition``."""
    found = list_test_cases(definition.process_id) if rows is None else rows
    return [_run(definition, form_schemas, row) for row in found]


def _run(definition: Definition, form_schemas: Mapping[str, Any], row: ProcessTestCase) -> Outcome:
    try:
        case = process_tests.parse_case(row.case)
    except ValidationFailed as exc:
        return Outcome(row.name, False, f"Testfall ”{row.name}”: {exc.message} {exc.fields}")
    return process_tests.run_case(definition, form_schemas, case)


def refuse_failing(definition: Definition, form_schemas: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Run the stored cases against a version about to be deployed; ProcessTestsFailed if any fails.
    Returns the cases it passed, as they are now (stored with the version)."""
    rows = list_test_cases(definition.process_id)
    outcomes = run_test_cases(definition, form_schemas, rows)
    failed = [outcome for outcome in outcomes if not outcome.passed]
    if failed:
        raise ProcessTestsFailed(failed)
    return [dict(row.case) for row in rows]
