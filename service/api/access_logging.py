"""The API's reads of case content in the access log, as the web pages' (service/history/access_hooks.py).

A GET answered 200 whose URL names a case (an agreement, deviation, dispute, task or instance id, or a case
type and id: access_log.case_named_by) writes one row: who (the token's user, or the session's for a browser
read), which case, which route. List pages whose items carry case content (deviations, disputes, the audit
events) write a row per case on the page. tests/security/test_access_log.py walks every GET route under
/api/v1 with an id in its path and fails for one that is neither logged nor listed as showing no case content.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, g, request

from service.api.auth import api_user
from service.audit.access_log import CaseKey, cases_named_by, cases_of_events, record_case_reads
from service.extensions import db

log = logging.getLogger(__name__)
# Statistics count cases of an agreement or party; they show no case's content (as on the web).
_NOT_CASE_CONTENT = ("statistic",)
# Lists whose items are the cases themselves, in full: a row for each case on the page.
_LISTS_OF_CASES = {"api_deviations.list_deviations": "deviation", "api_disputes.list_disputes": "dispute"}
_EVENTS = "api_history.list_events"


def log_case_reads(response: Response) -> Response:
    """After a successful API read of case content, log who read which case through which route."""
    if request.method != "GET" or response.status_code != 200 or g.get("api_user") is None:
        return response
    endpoint = request.endpoint or ""
    try:
        if record_case_reads(api_user(), _cases_read(endpoint, response), endpoint, request.full_path.rstrip("?")):
            db.session.commit()
    except Exception:  # logging a read must not turn the read into an error; it is reported instead
        db.session.rollback()
        log.exception("could not write the access log for %s", request.path)
    return response


def _cases_read(endpoint: str, response: Response) -> list[CaseKey]:
    if any(part in endpoint for part in _NOT_CASE_CONTENT):
        return []
    if endpoint in _LISTS_OF_CASES:
        return [(_LISTS_OF_CASES[endpoint], int(item["id"])) for item in _items(response)]
    if endpoint == _EVENTS:
        return cases_of_events(_items(response))
    return cases_named_by(request.view_args or {})


def _items(response: Response) -> list[dict[str, Any]]:
    body = response.get_json(silent=True)
    items = body.get("items") if isinstance(body, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
