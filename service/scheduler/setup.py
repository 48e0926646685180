"""One APScheduler per deployment: a date job per waiting BPMN timer in the application database.

Misfire policy, chosen deliberately: ``misfire_grace_time=None`` runs a job however late (a timer
that came due while the service was down fires at start), ``coalesce=True`` runs a job that missed
several run times once. The ``process_timers`` table is the source of truth; jobs are derived from it
at start (``full_resync``, both directions), right after a commit in this process, and every few
seconds for commits in other processes (``sync_recent``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import select

from service.columns import now
from service.extensions import db
from service.processes import timers as process_timers
from service.processes.models import ProcessTimer, TimerStatus
from service.processes.timers import TimerChange
from service.scheduler import heartbeat, jobs
from service.scheduler.models import JOBS_TABLE

log = logging.getLogger(__name__)
FIRE = "service.scheduler.jobs:fire_timer_job"
_active: TimerScheduler | None = None


def active() -> TimerScheduler | None:
    return _active


def job_id(timer_id: int) -> str:
    return f"timer-{timer_id}"


class TimerScheduler:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.sync_window = timedelta(seconds=float(app.config["SCHEDULER_SYNC_WINDOW_SECONDS"]))
        self._seen: dict[int, bool] = {}
        self.holder, self.started_at = heartbeat.holder_name(), datetime.now(UTC)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename=JOBS_TABLE),
                       "local": MemoryJobStore()},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            executors={"default": {"type": "threadpool", "max_workers": int(app.config["SCHEDULER_WORKERS"])}},
            timezone=UTC)

    def start(self) -> None:
        """Start firing: re-sync with the database, then listen for commits in this process."""
        global _active
        jobs.bind(self.app)
        with self.app.app_context():
            # Paused while the re-sync adds jobs: a running main loop wakes (and queries) after each add.
            self.scheduler.start(paused=True)
            self.full_resync()
            self.scheduler.resume()
            self._first_beat()
        seconds = float(self.app.config["SCHEDULER_SYNC_SECONDS"])
        self.scheduler.add_job("service.scheduler.jobs:sync_job", "interval", seconds=seconds, id="sync",
                               jobstore="local", replace_existing=True)
        self._add_periodic_jobs()
        process_timers.listeners.append(self.on_commit)
        _active = self

    def _add_periodic_jobs(self) -> None:
        config = self.app.config
        periodic = [
            ("resync", "interval", {"minutes": float(config["SCHEDULER_RESYNC_MINUTES"])}),
            ("deliver_mail", "interval", {"seconds": float(config["MAIL_SEND_SECONDS"])}),
            ("deadline_reminders", "interval", {"seconds": float(config["REMINDER_SCAN_SECONDS"])}),
            ("send_digests", "cron", {"hour": int(config["DIGEST_HOUR"]), "timezone": config["DISPLAY_TIMEZONE"]}),
            ("routine_checks", "cron", {"hour": int(config["DIGEST_HOUR"]), "minute": 30,
                                        "timezone": config["DISPLAY_TIMEZONE"]}),
            ("heartbeat", "interval", {"seconds": float(config.get("SCHEDULER_HEARTBEAT_SECONDS", 5))}),
            # A notice period ends at the end of a day (Stockholm): the job runs just after every hour.
            ("agreement_leavings", "cron", {"minute": 1, "timezone": config["DISPLAY_TIMEZONE"]}),
        ]
        for name, trigger, options in periodic:
            self.scheduler.add_job(f"service.scheduler.jobs:{name}_job", trigger, id=name, jobstore="local",
                                   replace_existing=True, **options)
        # The audit chain verified and its head written to the anchor file once a day (service/audit/anchor.py).
        self.scheduler.add_job("service.audit.anchor:daily_job", "cron", id="audit_anchor", jobstore="local",
                               replace_existing=True, hour=int(config["AUDIT_ANCHOR_HOUR"]),
                               timezone=config["DISPLAY_TIMEZONE"])

    def beat(self) -> None:
        """Write the heartbeat (in the caller's transaction)."""
        heartbeat.beat(self.holder, self.started_at)

    def _first_beat(self) -> None:
        # At once, not after the first interval: a fresh deployment is ready as soon as timers can fire.
        try:
            self.beat()
            db.session.commit()
        except Exception:  # the periodic job tries again; a heartbeat never stops the scheduler
            db.session.rollback()
            log.exception("could not write the scheduler heartbeat")
        finally:
            db.session.remove()

    def shutdown(self, wait: bool = True) -> None:
        global _active
        if self.on_commit in process_timers.listeners:
            process_timers.listeners.remove(self.on_commit)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if _active is self:
            _active = None

    def on_commit(self, changes: Sequence[TimerChange]) -> None:
        """Timers committed by this process: scheduled or removed at once, not at the next sync."""
        for change in changes:
            self._apply(change.timer_id, change.due_at, change.is_waiting)

    def _apply(self, timer_id: int, due_at: datetime, is_waiting: bool) -> None:
        if self._seen.get(timer_id) == is_waiting:
            return
        self._seen[timer_id] = is_waiting
        if is_waiting:
            self.scheduler.add_job(FIRE, "date", run_date=due_at, args=[timer_id], id=job_id(timer_id),
                                   replace_existing=True)
        else:
            with contextlib.suppress(JobLookupError):  # already run, or never scheduled here
                self.scheduler.remove_job(job_id(timer_id))

    def full_resync(self) -> tuple[int, int]:
        """Jobs for every waiting timer, and no job for any other: returns (added, removed)."""
        # Earliest first, so the timers due soonest get their jobs first.
        waiting = {row.id: row.due_at for row in db.session.execute(
            select(ProcessTimer.id, ProcessTimer.due_at).where(ProcessTimer.status == TimerStatus.WAITING)
            .order_by(ProcessTimer.due_at))}
        scheduled = {job.id for job in self.scheduler.get_jobs(jobstore="default")}
        missing = [(i, due) for i, due in waiting.items() if job_id(i) not in scheduled]
        extra = scheduled - {job_id(i) for i in waiting}
        self._seen = {}
        for timer_id, due in missing:
            self._apply(timer_id, due, True)
        for stale in extra:
            self.scheduler.remove_job(stale)
        self._seen = dict.fromkeys(waiting, True)
        db.session.remove()
        log.info("scheduler re-sync: %s jobs added, %s removed", len(missing), len(extra))
        return len(missing), len(extra)

    def sync_recent(self) -> None:
        """Apply timer rows changed within the sync window (by any process)."""
        with self.app.app_context():
            since = now() - self.sync_window
            rows = db.session.execute(select(ProcessTimer.id, ProcessTimer.due_at, ProcessTimer.status)
                                      .where(ProcessTimer.updated_at >= since)).all()
            db.session.remove()
        for row in rows:
            self._apply(row.id, row.due_at, row.status == TimerStatus.WAITING)

    def retry_later(self, timer_id: int) -> None:
        """A firing failed (APScheduler drops a run date job even then): try again after a pause."""
        delay = timedelta(seconds=float(self.app.config["SCHEDULER_RETRY_SECONDS"]))
        self.scheduler.add_job(FIRE, "date", run_date=now() + delay, args=[timer_id], id=job_id(timer_id),
                               replace_existing=True)

    def next_runs(self) -> list[tuple[str, datetime | None, list[int]]]:
        """(job id, next run, args) of every timer job: for the admin view."""
        return [(job.id, job.next_run_time, list(job.args)) for job in self.scheduler.get_jobs(jobstore="default")]


def start_scheduling(app: Flask) -> TimerScheduler | None:
    """Start the scheduler as this deployment wants it: directly on SQLite (one node), by leader
    election on PostgreSQL. Returns the scheduler when started directly, None under election."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        scheduler = TimerScheduler(app)
        scheduler.start()
        return scheduler
    from service.scheduler.leader import Leadership

    Leadership(app).start()
    return None
