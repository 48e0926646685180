"""APScheduler's job table, declared here so that our migrations create it (APScheduler's own
``create(checkfirst=True)`` then finds it; columns as in apscheduler.jobstores.sqlalchemy 3.x), and the
scheduler's heartbeat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, String, Table, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from service.columns import UtcDateTime
from service.extensions import db

JOBS_TABLE = "scheduler_jobs"

scheduler_jobs = Table(
    JOBS_TABLE, db.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class SchedulerHeartbeat(db.Model):  # type: ignore[name-defined,misc]
    """One row: which process runs the scheduler and when it last said so (readiness reads it).
    Wall-clock time, not the service clock: it measures whether a process is alive."""

    __tablename__ = "scheduler_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    leading_since: Mapped[datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime)
