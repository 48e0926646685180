"""The scheduler's heartbeat: the process running the scheduler writes the moment every few seconds, so
that any app process can tell (for /readyz) whether timers are being fired."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite

from service.extensions import db
from service.scheduler.models import SchedulerHeartbeat

_ROW_ID = 1


def holder_name() -> str:
    """This process, as the heartbeat names it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(holder: str, leading_since: datetime) -> None:
    """Write (insert or update) the one heartbeat row in the caller's transaction."""
    values = {"id": _ROW_ID, "holder": holder, "leading_since": leading_since, "beat_at": datetime.now(UTC)}
    # An upsert: two schedulers (possible on SQLite, briefly during a PostgreSQL take-over) never collide.
    dialect = sqlite if db.session.get_bind().dialect.name == "sqlite" else postgresql
    statement = dialect.insert(SchedulerHeartbeat).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[SchedulerHeartbeat.id],
        set_={"holder": statement.excluded.holder, "leading_since": statement.excluded.leading_since,
              "beat_at": statement.excluded.beat_at})
    db.session.execute(statement)


def last_beat() -> SchedulerHeartbeat | None:
    """The heartbeat row, or None if no scheduler ever ran on this database."""
    return db.session.get(SchedulerHeartbeat, _ROW_ID)


def age_seconds(heartbeat: SchedulerHeartbeat) -> float:
    return (datetime.now(UTC) - heartbeat.beat_at).total_seconds()
