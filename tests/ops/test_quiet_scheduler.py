"""Setup noise (issue #18, item 10): APScheduler's INFO line for every run of every job stays out of the console."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from service.ops.logs import SCHEDULER_LOGGER, quiet_scheduler


@pytest.fixture
def scheduler_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger(SCHEDULER_LOGGER)
    level = logger.level
    logger.setLevel(logging.NOTSET)
    yield logger
    logger.setLevel(level)


def test_the_scheduler_s_job_runs_are_not_logged_at_info(scheduler_logger: logging.Logger) -> None:
    logging.getLogger().setLevel(logging.INFO)  # as `make run` logs
    executor = logging.getLogger("apscheduler.executors.default")
    assert executor.isEnabledFor(logging.INFO)  # APScheduler's own default: "Running job ..." every few seconds
    quiet_scheduler()
    assert not executor.isEnabledFor(logging.INFO) and executor.isEnabledFor(logging.WARNING)


def test_a_configured_level_is_kept(scheduler_logger: logging.Logger) -> None:
    scheduler_logger.setLevel(logging.DEBUG)  # an operator who wants to see the job runs
    quiet_scheduler()
    assert scheduler_logger.level == logging.DEBUG


def test_the_app_quiets_the_scheduler(app: Flask) -> None:
    assert logging.getLogger(SCHEDULER_LOGGER).getEffectiveLevel() >= logging.WARNING
