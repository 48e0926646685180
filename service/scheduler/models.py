"""APScheduler's job table, declared here so that our migrations create it (APScheduler's own
``create(checkfirst=True)`` then finds it). Columns as in apscheduler.jobstores.sqlalchemy 3.x."""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from service.extensions import db

JOBS_TABLE = "scheduler_jobs"

scheduler_jobs = Table(
    JOBS_TABLE, db.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
