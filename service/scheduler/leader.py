"""Exactly one scheduler among several processes on one PostgreSQL: whoever holds the advisory lock.

The lock is held by one dedicated connection; if the holder dies its connection closes, PostgreSQL
releases the lock and the next candidate (polling every few seconds) takes over. Firing itself stays
idempotent under the instance lock, so even an overlap during take-over cannot fire a timer twice.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection

from service.extensions import db
from service.scheduler.setup import TimerScheduler

log = logging.getLogger(__name__)
LOCK_KEY = 0x53616D76  # "Samv"


class Leadership(threading.Thread):
    """Campaign for the advisory lock; run the scheduler while holding it."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="samverkan-scheduler-leadership", daemon=True)
        self.app = app
        self.interval = float(app.config["SCHEDULER_LEADER_POLL_SECONDS"])
        self.stopping = threading.Event()
        self.is_leader = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._campaign()
            except Exception:  # a lost database connection: try again after the interval
                log.exception("scheduler leadership lost or not obtained")
            self.is_leader.clear()
            self.stopping.wait(self.interval)

    def _campaign(self) -> None:
        with self.app.app_context(), db.engine.connect() as connection:
            if not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
                return
            log.info("this process now runs the scheduler")
            scheduler = TimerScheduler(self.app)
            scheduler.start()
            self.is_leader.set()
            try:
                self._hold(connection)
            finally:
                scheduler.shutdown(wait=False)

    def _hold(self, connection: Connection) -> None:
        while not self.stopping.wait(self.interval):
            connection.execute(text("SELECT 1"))  # raises when the connection (and with it the lock) is gone
            connection.commit()

    def stop(self) -> None:
        self.stopping.set()
