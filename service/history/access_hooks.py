"""Request hooks: every successful read of a case page is logged; auditors change nothing.

The pages belong to other packages; the hook recognises them by their URL arguments (``agreement_id``,
``deviation_id``, ``dispute_id``, ``task_id``, ``instance_id``, and a joint body's or meeting's id for the cases on
its meetings: access_log.cases_named_by), so a new case page is logged without editing it. The API logs its own
reads (service/api/access_logging.py), with the token's user.
"""

from __future__ import annotations

import logging

from flask import abort, request
from flask_login import current_user
from werkzeug.wrappers import Response

from service import access
from service.audit.access_log import cases_named_by, record_case_reads
from service.extensions import db

log = logging.getLogger(__name__)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Writes an auditor may still make: signing in and out, their own account and language.
_AUDITOR_MAY_POST = ("inbox.login", "inbox.logout", "auth.", "i18n.")
# Pages with a case id in the URL that show no case content (or log their reads themselves: history, API).
_NOT_CASE_CONTENT = ("statistic", "history.")
_API = "api_"


def refuse_auditor_writes() -> None:
    """403 for any change by an auditor-only user (service/access.py: auditors read everything and change nothing;
    one who also holds a working role may do that role's work, and the auditor role grants no write)."""
    if request.method in _SAFE_METHODS or not current_user.is_authenticated:
        return
    endpoint = request.endpoint or ""
    if access.is_read_only(current_user) and not endpoint.startswith(_AUDITOR_MAY_POST):
        abort(403)


def log_case_reads(response: Response) -> Response:
    """After a successful GET of a case page, write who read what (the history pages log themselves)."""
    if request.method != "GET" or response.status_code != 200 or not current_user.is_authenticated:
        return response
    endpoint = request.endpoint or ""
    if endpoint.startswith(_API) or any(part in endpoint for part in _NOT_CASE_CONTENT):
        return response
    cases = cases_named_by(request.view_args or {})
    if not cases:
        return response
    try:
        record_case_reads(current_user, cases, endpoint, request.full_path.rstrip("?"))
        db.session.commit()
    except Exception:  # logging a read must not turn the read into an error page; it is reported instead
        db.session.rollback()
        log.exception("could not write the access log for %s", request.path)
    return response

