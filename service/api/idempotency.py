"""Idempotency-Key: a retried request gets the first result instead of acting twice.

The key and the response are written in the action's own transaction: either both exist or neither does. Two
requests with the same key at once: the second's insert of the key fails on the unique (user, key) constraint,
its whole transaction rolls back, and it answers with the first one's stored response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.api.errors import ApiProblem
from service.api.models import IdempotencyKey
from service.api.paging import json_response
from service.extensions import db
from service.parties.models import User
from service.transactions import commit_with_retry

HEADER = "Idempotency-Key"
Action = Callable[[], tuple[dict[str, Any], int]]


def run_idempotent(user: User, action: Action) -> Response:
    """Run ``action`` (returning body and status) in one transaction, remembering its result under the key."""
    key = request.headers.get(HEADER)
    if key is None:
        return _json(*commit_with_retry(action))
    key = key.strip()
    if not 1 <= len(key) <= 200:
        raise ApiProblem(400, "bad-request", "Idempotency-Key ska vara 1–200 tecken.", fields={HEADER: ["Ogiltig längd."]})
    fingerprint = _fingerprint()
    stored = _stored(user, key)
    if stored is not None:
        return _replay(stored, fingerprint)

    def work() -> tuple[dict[str, Any], int]:
        body, status = action()
        db.session.add(IdempotencyKey(user_id=user.id, key=key, request_hash=fingerprint, status_code=status, response=body))
        db.session.flush()
        return body, status

    try:
        return _json(*commit_with_retry(work))
    except IntegrityError:
        db.session.rollback()
        stored = _stored(user, key)
        if stored is None:
            raise
        return _replay(stored, fingerprint)


def _fingerprint() -> str:
    body = request.get_json(silent=True)
    content = json.dumps([request.method, request.path, body], sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def _stored(user: User, key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key))


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        raise ApiProblem(422, "idempotency-key-reused",
                         "Idempotency-Key har redan använts för en annan begäran.", fields={HEADER: ["Redan använd."]})
    response = _json(stored.response, stored.status_code)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _json(body: dict[str, Any], status: int) -> Response:
    return json_response(body, status)
