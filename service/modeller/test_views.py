"""The process tests page: a process owner adds, edits, deletes and runs the test cases of a process."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from service.errors import SamverkanError
from service.i18n import flash_message
from service.modeller.views import _owners_only, bp
from service.processes import test_cases
from service.processes.definitions import get_latest_definition, parsed
from service.transactions import commit_with_retry

EXAMPLE = {"name": "", "start": {}, "steps": [{"task": "", "data": {}}, {"timer": ""}],
           "expect": {"path": [], "end": "", "data": {}}}


def _page(process_id: str, status: int = 200, **values: Any) -> tuple[str, int]:
    row = get_latest_definition(process_id)
    if row is None:
        abort(404)
    cases = [(case.name, json.dumps(case.case, indent=2, ensure_ascii=False)) for case in test_cases.list_test_cases(process_id)]
    values.setdefault("new_text", json.dumps(EXAMPLE, indent=2, ensure_ascii=False))
    return render_template("modeller/tests.html", process_id=process_id, row=row, cases=cases, **values), status


@bp.get("/<process_id>/tester")
@_owners_only
def tests(process_id: str) -> tuple[str, int]:
    """List a process's test cases, with a form to add one."""
    return _page(process_id)


@bp.post("/<process_id>/tester")
@_owners_only
def save_test(process_id: str) -> BaseResponse | tuple[str, int]:
    """Save a new or edited test case; refused naming the field at fault, nothing saved."""
    if get_latest_definition(process_id) is None:
        abort(404)
    text, replaces = request.form.get("case", ""), request.form.get("replaces") or None
    try:
        row = commit_with_retry(lambda: test_cases.save_test_case(process_id, text, by=current_user, replaces=replaces))
    except SamverkanError as exc:
        fields = getattr(exc, "fields", {})
        values: dict[str, Any] = {"error": exc, "fields": fields, "editing": replaces}
        values["edit_text" if replaces else "new_text"] = text
        return _page(process_id, exc.status, **values)
    flash_message("Testfallet ”%(name)s” är sparat.", name=row.name)
    return redirect(url_for("modeller.tests", process_id=process_id))


@bp.post("/<process_id>/tester/ta-bort")
@_owners_only
def delete_test(process_id: str) -> BaseResponse | tuple[str, int]:
    """Delete a test case: later versions need not pass it."""
    name = request.form.get("name", "")
    try:
        commit_with_retry(lambda: test_cases.delete_test_case(process_id, name, by=current_user))
    except SamverkanError as exc:
        return _page(process_id, exc.status, error=exc, fields={})
    flash_message("Testfallet ”%(name)s” togs bort.", name=name)
    return redirect(url_for("modeller.tests", process_id=process_id))


@bp.post("/<process_id>/tester/kor")
@_owners_only
def run_tests(process_id: str) -> tuple[str, int]:
    """Run every test case of the process in memory against its latest version and show pass or fail."""
    row = get_latest_definition(process_id)
    if row is None:
        abort(404)
    outcomes = test_cases.run_test_cases(parsed(row), row.forms)
    return _page(process_id, outcomes=outcomes)
