"""Structured logs: one JSON object per line, with the request id of the request being served.

The request id comes from the caller's ``X-Request-Id`` (a load balancer's) when it looks sane, otherwise a
new one; it is echoed in the response, so a user's error report can be matched to the log lines.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, has_request_context, request
from werkzeug.wrappers import Response

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # no spaces or control characters: it ends up in the logs
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
log = logging.getLogger("service.requests")


REQUEST_ID, STARTED = "samverkan.request_id", "samverkan.request_started"  # keys in the WSGI environ


def current_request_id() -> str | None:
    if has_request_context():
        return request.environ.get(REQUEST_ID)
    return None


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, any ``extra`` fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and k != "request_id"})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(app: Flask) -> None:
    """JSON lines on stderr for the whole process (not under tests: pytest captures logs itself)."""
    if app.testing or str(app.config["LOG_FORMAT"]) != "json":
        return
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.handlers = [handler]
    root.setLevel(str(app.config["LOG_LEVEL"]).upper())


# SpiffWorkflow logs every state change at INFO with the task's details, and the whole task data (free text
# included) whenever its logger has no level of its own (Task.collect_log_extras tests ``logger.level < 20``):
# 3.8 lines a request, 7.3 of 8.4 MB of a bench log. Its loggers are set to WARNING one by one, not just
# "spiff": that also spares the work of collecting the data. Our own lines carry ids, never case text.
SPIFF_LOGGERS = ("spiff", "spiff.task", "spiff.workflow", "spiff.data", "spiff.dmn")


def quiet_spiff() -> None:
    """No task data in the logs: SpiffWorkflow's loggers at WARNING, under tests too."""
    for name in SPIFF_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


SCHEDULER_LOGGER = "apscheduler"


def quiet_scheduler() -> None:
    """APScheduler logs every run of every job at INFO (the outbox and the timer sync run every few seconds):
    its loggers at WARNING, unless a level was configured for them."""
    logger = logging.getLogger(SCHEDULER_LOGGER)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    configure(app)
    quiet_spiff()
    quiet_scheduler()
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    incoming = request.headers.get(HEADER, "")
    # In the environ rather than flask.g: g can outlive a request (or be emptied by a test fixture).
    request.environ[REQUEST_ID] = incoming if _SANE.match(incoming) else uuid.uuid4().hex
    request.environ[STARTED] = time.perf_counter()


def _finish(response: Response) -> Response:
    request_id = request.environ.get(REQUEST_ID)
    if request_id:
        response.headers[HEADER] = request_id
    started = request.environ.get(STARTED)
    if started is not None and request.endpoint not in {"ops.metrics", "ops.healthz", "ops.readyz"}:
        log.info("%s %s %s", request.method, request.path, response.status_code,
                 extra={"method": request.method, "path": request.path, "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
    return response
