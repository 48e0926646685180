"""What the scheduler runs. Each job opens an app context and commits its own transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from flask import Flask

from service.extensions import db
from service.transactions import commit_with_retry

T = TypeVar("T")
log = logging.getLogger(__name__)
_app: Flask | None = None


def bind(app: Flask) -> None:
    """The app jobs run in (APScheduler stores jobs by reference, not with an app)."""
    global _app
    _app = app


def in_app(work: Callable[[], T]) -> T:
    if _app is None:
        raise RuntimeError("scheduler jobs need jobs.bind(app) first")
    with _app.app_context():
        try:
            return commit_with_retry(work)
        finally:
            db.session.remove()


def fire_timer_job(timer_id: int) -> None:
    """Fire one BPMN timer (idempotent: see processes.operations.fire_timer)."""
    from service.processes.operations import fire_timer
    from service.scheduler.setup import active

    try:
        fired = in_app(lambda: fire_timer(timer_id))
    except Exception:
        log.exception("timer %s could not be fired; retrying later", timer_id)
        scheduler = active()
        if scheduler is not None:
            scheduler.retry_later(timer_id)
        return
    log.info("timer %s %s", timer_id, "fired" if fired else "had nothing to do")


def sync_job() -> None:
    """Pick up timers other processes committed, and drop jobs of timers that ended."""
    from service.scheduler.setup import active

    scheduler = active()
    if scheduler is not None:
        scheduler.sync_recent()


def resync_job() -> None:
    """The periodic full re-sync: repairs anything a missed commit notice or sync window left behind."""
    from service.scheduler.setup import active

    scheduler = active()
    if scheduler is not None and _app is not None:
        with _app.app_context():
            scheduler.full_resync()


def deliver_mail_job() -> None:
    """Send what the outbox holds (failures are retried later; nothing is lost)."""
    from service.notifications.sender import deliver_pending

    if _app is not None:
        config = _app.config
        once_in_app(lambda: deliver_pending(config))


def send_digests_job() -> None:
    """The daily digest for people who chose it."""
    from service.notifications.sender import send_digests

    if _app is not None:
        config = _app.config
        once_in_app(lambda: send_digests(config))


def once_in_app(work: Callable[[], T]) -> T:
    """Like in_app, but never re-run: the work has sent e-mail, and a retry would send it again.
    (Row locks already keep two senders apart; a failed commit means at-least-once delivery.)"""
    if _app is None:
        raise RuntimeError("scheduler jobs need jobs.bind(app) first")
    with _app.app_context():
        try:
            result = work()
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def deadline_reminders_job() -> None:
    """Notify about READY tasks whose deadline is near."""
    from service.processes.operations import remind_due_soon

    if _app is not None:
        lead = timedelta(hours=float(_app.config["REMINDER_LEAD_HOURS"]))
        in_app(lambda: remind_due_soon(lead))


def routine_checks_job() -> None:
    """Daily: overdue improvement actions remind their owners; new routine-health findings go to coordinators."""
    from service.routines.operations import run_daily

    if _app is not None:
        once_in_app(run_daily)


def heartbeat_job() -> None:
    """Tell the app processes (their /readyz) that the scheduler is alive."""
    from service.scheduler.setup import active

    scheduler = active()
    if scheduler is not None and _app is not None:
        in_app(scheduler.beat)


def agreement_leavings_job() -> None:
    """Parties whose notice period has ended leave their agreements; an agreement left with fewer than two
    bound parties, or ended by all together, ends (service/agreements/leaving.py)."""
    from service.agreements.leaving import process_leavings

    if _app is not None:
        in_app(process_leavings)
