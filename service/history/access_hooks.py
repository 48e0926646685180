"""Request hooks: every successful read of a case page is logged; auditors change nothing.

The pages belong to other packages; the hook recognises them by their URL arguments (``agreement_id``,
``deviation_id``, ``dispute_id``, ``task_id``), so a new case page is logged without editing it.
"""

from __future__ import annotations

import logging

from flask import abort, request
from flask_login import current_user
from werkzeug.wrappers import Response

from service import access
from service.audit.access_log import record_access
from service.audit.cases import case_of_instance
from service.extensions import db
from service.processes.models import HumanTask

log = logging.getLogger(__name__)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Writes an auditor may still make: signing in and out, their own account and language.
_AUDITOR_MAY_POST = ("inbox.login", "inbox.logout", "auth.", "i18n.")
_CASE_ARGS = {"agreement_id": "agreement", "deviation_id": "deviation", "dispute_id": "dispute"}
# Pages with a case id in the URL that show no case content.
_NOT_CASE_CONTENT = ("statistic", "history.")


def refuse_auditor_writes() -> None:
    """403 for any change by an auditor (service/access.py: auditors read everything and change nothing)."""
    if request.method in _SAFE_METHODS or not current_user.is_authenticated:
        return
    endpoint = request.endpoint or ""
    if access.is_auditor(current_user) and not endpoint.startswith(_AUDITOR_MAY_POST):
        abort(403)


def log_case_reads(response: Response) -> Response:
    """After a successful GET of a case page, write who read what (the history pages log themselves)."""
    if request.method != "GET" or response.status_code != 200 or not current_user.is_authenticated:
        return response
    endpoint = request.endpoint or ""
    if any(part in endpoint for part in _NOT_CASE_CONTENT):
        return response
    target = _case_of(request.view_args or {})
    if target is None:
        return response
    try:
        record_access(current_user, target[0], target[1], endpoint, request.full_path.rstrip("?"))
        db.session.commit()
    except Exception:  # logging a read must not turn the read into an error page; it is reported instead
        db.session.rollback()
        log.exception("could not write the access log for %s", request.path)
    return response


def _case_of(view_args: dict[str, object]) -> tuple[str, int] | None:
    for name, case_type in _CASE_ARGS.items():
        if isinstance(view_args.get(name), int):
            return case_type, int(view_args[name])  # type: ignore[call-overload]
    task_id = view_args.get("task_id")
    if isinstance(task_id, int):
        instance_id = db.session.scalar(db.select(HumanTask.instance_id).where(HumanTask.id == task_id))
        case = case_of_instance(instance_id) if instance_id is not None else None
        if case is not None:
            return case.case_type, case.id
    return None
