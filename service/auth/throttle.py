"""Login throttling against password guessing: counters in the database, moved atomically (issue #17, finding 6).

Every attempt first takes a number from each counter that applies, by one INSERT ... ON CONFLICT DO UPDATE
... RETURNING (PostgreSQL and SQLite alike), committed before the password is checked: thirty parallel
guesses get the numbers 1..30, and only those within the limit are checked. Counters, per fixed window of
LOGIN_WINDOW_MINUTES:

- ``pair``: one username from one address, LOGIN_MAX_FAILURES. Guessing from one address locks only that
  address out of that account; the owner elsewhere is not kept out.
- ``address``: every username from one address, LOGIN_MAX_FAILURES_PER_ADDRESS (an office behind one NAT
  address has many users, hence higher).
- ``username``: one username from every address, LOGIN_MAX_FAILURES_PER_USERNAME, against guessing spread
  over many addresses. It does not apply to an address the account signed in from successfully within
  LOGIN_KNOWN_ADDRESS_DAYS: whoever guesses from elsewhere cannot keep the owner out at their usual place.

A successful login gives its numbers back (and empties its ``pair`` counter): only failures stay counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.auth.models import LoginAttempt, LoginOutcome, LoginThrottle
from service.columns import UtcDateTime, now
from service.extensions import db


@dataclass(frozen=True)
class Throttle:
    """Whether this attempt may check a password, for how long it is refused, and the counters it moved."""

    is_refused: bool
    retry_after_seconds: int = 0
    counted: tuple[str, ...] = ()


def reserve_check(username: str, address: str) -> Throttle:
    """Count one attempt on each counter that applies; refused when one is over its limit (the caller commits)."""
    config = current_app.config
    window = timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"]))
    counters = [(f"pair:{username} {address}", int(config["LOGIN_MAX_FAILURES"])),
                (f"address:{address}", int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]))]
    if not _is_known_address(username, address):
        counters.append((f"username:{username}", int(config["LOGIN_MAX_FAILURES_PER_USERNAME"])))
    counted: list[str] = []
    for key, limit in counters:
        attempts, started_at = _count(key, window)
        counted.append(key)
        if attempts > limit:  # later counters are not moved: an attempt refused here checks nothing
            seconds = int((started_at + window - now()).total_seconds()) + 1
            return Throttle(True, max(1, seconds), tuple(counted))
    return Throttle(False, counted=tuple(counted))


def release_check(throttle: Throttle) -> None:
    """After a successful login: give back the attempt's numbers and forget its pair's failures."""
    pairs = [key for key in throttle.counted if key.startswith("pair:")]
    others = [key for key in throttle.counted if not key.startswith("pair:")]
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(pairs)))
    db.session.execute(update(LoginThrottle).where(LoginThrottle.key.in_(others), LoginThrottle.attempts > 0)
                       .values(attempts=LoginThrottle.attempts - 1))


def record_attempt(username: str, address: str, outcome: LoginOutcome) -> LoginAttempt:
    """Remember one attempt in the caller's transaction (the history; the counters decide)."""
    attempt = LoginAttempt(username=username, address=address, outcome=outcome, attempted_at=now())
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _count(key: str, window: timedelta) -> tuple[int, datetime]:
    """Add one to ``key``'s counter (a new window when the last one is over); return the count and window start."""
    moment = now()
    table = LoginThrottle.__table__
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    started = literal(moment, UtcDateTime())
    expired = table.c.window_started_at <= literal(moment - window, UtcDateTime())
    statement = dialect.insert(table).values(key=key, attempts=1, window_started_at=started)
    statement = statement.on_conflict_do_update(index_elements=[table.c.key], set_={
        "attempts": case((expired, 1), else_=table.c.attempts + 1),
        "window_started_at": case((expired, started), else_=table.c.window_started_at),
    }).returning(table.c.attempts, table.c.window_started_at)
    attempts, started_at = db.session.execute(statement).one()
    return int(attempts), started_at


def _is_known_address(username: str, address: str) -> bool:
    """Whether ``username`` signed in successfully from ``address`` within LOGIN_KNOWN_ADDRESS_DAYS."""
    since = now() - timedelta(days=int(current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"]))
    return db.session.scalar(select(LoginAttempt.id).where(
        LoginAttempt.username == username, LoginAttempt.address == address,
        LoginAttempt.outcome == LoginOutcome.SUCCEEDED, LoginAttempt.attempted_at >= since).limit(1)) is not None
