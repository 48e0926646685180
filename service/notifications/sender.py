"""Deliver the outbox by SMTP. Runs in its own transaction (the caller commits), never in the workflow's."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from itertools import groupby
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager

from service.columns import now
from service.extensions import db
from service.notifications.models import Notification
from service.parties.models import User

log = logging.getLogger(__name__)

# Everything a mail server, the network or a malformed address can throw; none of it may reach the caller.
DELIVERY_ERRORS = (smtplib.SMTPException, OSError, ValueError)
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0


def is_configured(config: Mapping[str, Any]) -> bool:
    """Whether a mail server is configured (MAIL_HOST); without one, mail waits in the outbox, quietly."""
    return bool(str(config.get("MAIL_HOST") or "").strip())


def deliver_pending(config: Mapping[str, Any], *, limit: int = 100) -> DeliveryReport:
    """Send due, non-digest notifications, oldest first; a failure postpones the row, never raises."""
    if not is_configured(config):
        return DeliveryReport()  # no attempt, no warning, no backoff: the rows wait as they are
    rows = list(db.session.scalars(_unsent(is_digest=False, limit=limit)))
    if not rows:
        return DeliveryReport()
    sent = failed = 0
    try:
        connection = open_connection(config)
    except DELIVERY_ERRORS as exc:
        log.warning("cannot reach the mail server: %s", exc)
        _postpone(rows, exc)
        db.session.flush()
        return DeliveryReport(failed=len(rows))
    try:
        for row in rows:
            if _send(connection, config, [row], row.subject, row.body):
                sent += 1
            else:
                failed += 1
    finally:
        close_quietly(connection)
    db.session.flush()
    return DeliveryReport(sent=sent, failed=failed)


def send_digests(config: Mapping[str, Any]) -> int:
    """Send each person with held rows one e-mail listing them all; return how many e-mails were sent."""
    if not is_configured(config):
        return 0
    rows = list(db.session.scalars(_unsent(is_digest=True)))
    if not rows:
        return 0
    try:
        connection = open_connection(config)
    except DELIVERY_ERRORS as exc:
        log.warning("cannot reach the mail server for the digest: %s", exc)
        _postpone(rows, exc)
        db.session.flush()
        return 0
    sent = 0
    try:
        for _, group in groupby(rows, key=lambda row: row.user_id):
            held = list(group)
            sent += _send(connection, config, held, digest_subject(held), digest_body(held))
    finally:
        close_quietly(connection)
    db.session.flush()
    return sent


def _unsent(*, is_digest: bool, limit: int | None = None) -> Select[Notification]:
    # SKIP LOCKED: two senders (two workers, or a manual run beside the scheduler) never pick the same
    # row, so nobody gets the same e-mail twice. SQLAlchemy leaves it out on SQLite, which locks the file.
    query = (select(Notification).join(Notification.user).options(contains_eager(Notification.user))
             .where(Notification.sent_at.is_(None), Notification.is_digest.is_(is_digest),
                    User.email.is_not(None), User.email != "", User.is_enabled.is_(True)))
    if is_digest:
        query = query.order_by(Notification.user_id, Notification.created_at, Notification.id)
    else:
        query = query.where(or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now()))
        query = query.order_by(Notification.created_at, Notification.id)
    return query.limit(limit).with_for_update(skip_locked=True, of=Notification)


def _send(connection: smtplib.SMTP, config: Mapping[str, Any], rows: Sequence[Notification], subject: str,
          body: str) -> bool:
    """Send one e-mail about ``rows`` (all the same person's): mark them sent, or postpone them on failure."""
    try:
        connection.send_message(build_message(config, rows[0].user, subject, body))
    except DELIVERY_ERRORS as exc:
        log.warning("e-mail to user %s failed: %s", rows[0].user_id, exc)
        _postpone(rows, exc)
        return False
    moment = now()
    for row in rows:
        row.sent_at, row.next_attempt_at = moment, None
    return True


def build_message(config: Mapping[str, Any], user: User, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = str(config.get("MAIL_FROM") or "samverkan@localhost")
    message["To"] = formataddr((user.display_name, str(user.email)))
    message["Subject"] = subject
    message["Date"] = format_datetime(now())
    message["Message-ID"] = make_msgid(domain=parseaddr(message["From"])[1].rpartition("@")[2] or None)
    message.set_content(body)
    return message


def open_connection(config: Mapping[str, Any]) -> smtplib.SMTP:
    """One connection per batch: TLS from the start (MAIL_USE_SSL) or upgraded by STARTTLS (MAIL_USE_TLS)."""
    host, port = str(config["MAIL_HOST"]).strip(), int(config.get("MAIL_PORT") or 25)
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    use_ssl = flag(config, "MAIL_USE_SSL")
    if use_ssl:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if flag(config, "MAIL_USE_TLS") and not use_ssl:
            connection.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            connection.login(str(config["MAIL_USERNAME"]), str(config.get("MAIL_PASSWORD") or ""))
    except BaseException:
        close_quietly(connection)
        raise
    return connection


# What the outbox page says of a failed delivery, by the kind of error; the technical text (the exception) is
# in the log and in ``last_error``, not on the page.
UNREACHABLE, LOGIN_REFUSED, ADDRESS_REFUSED, FAILED = "unreachable", "login_refused", "address_refused", "failed"
_PROBLEMS = (
    (("SMTPAuthenticationError", "SMTPNotSupportedError"), LOGIN_REFUSED),
    (("SMTPRecipientsRefused", "SMTPSenderRefused", "ValueError"), ADDRESS_REFUSED),
    (("SMTPConnectError", "SMTPServerDisconnected", "ConnectionRefusedError", "ConnectionResetError",
      "ConnectionError", "TimeoutError", "timeout", "gaierror", "herror", "OSError", "SSLError",
      "SSLCertVerificationError"), UNREACHABLE),
)


def problem_kind(last_error: str) -> str:
    """The kind of a stored delivery error (``last_error``, "ExceptionName: text")."""
    name = last_error.split(":", 1)[0].strip()
    return next((kind for names, kind in _PROBLEMS if name in names), FAILED)


def server_name(config: Mapping[str, Any]) -> str:
    return f"{config.get('MAIL_HOST') or ''}:{config.get('MAIL_PORT') or 25}"


def flag(config: Mapping[str, Any], key: str) -> bool:
    """A yes/no setting, also when it comes from an environment variable as text ("true", "1", "ja")."""
    value = config.get(key)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "ja", "on"}
    return bool(value)


def close_quietly(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except DELIVERY_ERRORS:
        connection.close()


def _postpone(rows: Sequence[Notification], error: BaseException) -> None:
    for row in rows:
        row.attempts += 1
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        row.next_attempt_at = now() + backoff(row.attempts)


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4, ... minutes after each failed attempt, at most an hour."""
    return min(BASE_BACKOFF * 2 ** min(attempts, 10), MAX_BACKOFF)


def digest_subject(rows: Sequence[Notification]) -> str:
    return "Samverkan: 1 ny avisering" if len(rows) == 1 else f"Samverkan: {len(rows)} nya aviseringar"


def digest_body(rows: Sequence[Notification]) -> str:
    parts = [f"Sammanfattning av {len(rows)} aviseringar sedan förra utskicket.", ""]
    for number, row in enumerate(rows, start=1):
        parts += [f"{number}. {row.subject}", "", row.body, "", "-" * 40, ""]
    return "\n".join(parts)
