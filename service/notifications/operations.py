"""Write notifications into the outbox in the caller's transaction; list them and mark them read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Boolean, Insert, Select, String, and_, bindparam, false, func, insert, literal, select

from service.columns import now
from service.errors import NotPermitted
from service.extensions import db
from service.notifications.models import Notification, NotificationKind, NotificationSettings
from service.parties.models import ROLE_LABELS, Membership, Organisation, Role, User
from service.processes.models import HumanTask
from service.transactions import execute_core

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


def notify(users: Iterable[User], kind: str, subject: str, body: str, *, instance_id: int | None = None,
           task_row_id: int | None = None, digest_ids: set[int] | None = None) -> list[Notification]:
    """Add one notification per person to the session (written at commit); the sender e-mails those who
    have an address. ``digest_ids``: who wants new tasks in the daily digest, when the caller knows."""
    unique = list({user.id: user for user in users}.values())
    if digest_ids is None:
        digest_ids = _digest_user_ids(unique) if kind == NotificationKind.TASK_OFFERED else set()
    rows = [Notification(user=user, user_id=user.id, kind=kind, subject=subject, body=body, instance_id=instance_id,
                         task_row_id=task_row_id, is_digest=user.id in digest_ids, created_at=now(), attempts=0)
            for user in unique]
    db.session.add_all(rows)
    return rows


def _digest_user_ids(users: list[User]) -> set[int]:
    if not users:
        return set()
    query = select(NotificationSettings.user_id).where(
        NotificationSettings.user_id.in_([user.id for user in users]), NotificationSettings.wants_digest.is_(True))
    return set(db.session.scalars(query))


def set_wants_digest(user: User, wants_digest: bool) -> NotificationSettings:
    """Choose between one e-mail per new task and a daily digest of them."""
    settings = db.session.get(NotificationSettings, user.id)
    if settings is None:
        settings = NotificationSettings(user_id=user.id)
        db.session.add(settings)
    settings.wants_digest = wants_digest
    db.session.flush()
    return settings


def notify_task_offered(task: HumanTask, *, escalated: bool = False) -> int:
    """Tell the task's recipients that it waits for them (or has been escalated to them); how many were told.
    This runs for every new task, inside the completion that created it."""
    whom = "dig" if task.user_id is not None else "din grupp"
    if escalated:
        kind, subject, intro = NotificationKind.ESCALATED, f"Eskalerad uppgift: {task.name}", \
            f"En uppgift har eskalerats till {whom} i Samverkan."
    elif task.user_id is not None:
        kind, subject, intro = NotificationKind.TASK_OFFERED, f"Ny uppgift: {task.name}", \
            "Du har fått en ny uppgift i Samverkan."
    else:
        kind, subject, intro = NotificationKind.TASK_OFFERED, f"Ny uppgift: {task.name}", \
            "En ny uppgift väntar på din grupp i Samverkan. Den som först öppnar och slutför den utför den."
    return _notify_recipients(task, kind, subject, intro)


def notify_deadline_soon(task: HumanTask) -> int:
    """Remind the task's recipients that its deadline is near; how many were reminded."""
    when = f" – senast {local_date(task.due_at)}" if task.due_at is not None else ""
    return _notify_recipients(task, NotificationKind.DEADLINE_SOON, f"Påminnelse: {task.name}{when}",
                              "Påminnelse: en uppgift i Samverkan närmar sig sista dag.")


def _notify_recipients(task: HumanTask, kind: str, subject: str, intro: str) -> int:
    """One INSERT ... SELECT over the task's recipients: the named person, or every enabled member of its group
    (organisation × role), with their digest choice for new tasks. How many rows it wrote."""
    if task.user_id is None and task.organisation_id is None:
        return 0
    head, tail = _body_around_organisation(task, intro)
    statement = _NOTIFY_NAMED if tail is None else _NOTIFY_GROUP
    rows = execute_core(statement, {
        "user_id": task.user_id, "organisation_id": task.organisation_id, "role": task.role,
        "kind": kind, "subject": subject, "body": head, "body_tail": tail or "", "instance_id": task.instance_id,
        "task_row_id": task.id, "created_at": now(), "digest_applies": kind == NotificationKind.TASK_OFFERED,
    }).all()
    return len(rows)


def _notify_statement(recipients: Select[Any], body: Any) -> Insert:
    """INSERT INTO notifications ... SELECT over ``recipients`` (user ids) with ``body``, everything else
    bound per task."""
    table = Notification.__table__
    wants_digest = select(NotificationSettings.wants_digest).where(
        NotificationSettings.user_id == User.id).scalar_subquery()
    bound = ("kind", "subject", "instance_id", "task_row_id", "created_at")
    columns = [bindparam(name, type_=table.c[name].type).label(name) for name in bound]
    is_digest = and_(bindparam("digest_applies", type_=Boolean), func.coalesce(wants_digest, false()))
    rows = recipients.add_columns(*columns, body.label("body"), literal(0).label("attempts"),
                                  literal("").label("last_error"), is_digest.label("is_digest"))
    return (insert(table).from_select(["user_id", *bound, "body", "attempts", "last_error", "is_digest"], rows)
            .returning(table.c.id))


# Built once: one runs for every new task. A group's text names its organisation, read in the same statement.
_BODY = bindparam("body", type_=String)
_NOTIFY_NAMED = _notify_statement(select(User.id).where(User.id == bindparam("user_id")), _BODY)
_NOTIFY_GROUP = _notify_statement(
    select(User.id).join(Membership, Membership.user_id == User.id)
    .join(Organisation, Organisation.id == Membership.organisation_id).where(
        Membership.organisation_id == bindparam("organisation_id"), Membership.role == bindparam("role"),
        User.is_enabled.is_(True)).order_by(User.id),
    _BODY + Organisation.name + bindparam("body_tail", type_=String))


def _body_around_organisation(task: HumanTask, intro: str) -> tuple[str, str | None]:
    """The e-mail text about one task (what, in which case, for whom, by when, and where to open it), before
    and after the name of the organisation a group task is offered to (``None`` after: a named task, which
    names no group). The INSERT ... SELECT puts the name in between."""
    before = [intro, "", f"Uppgift: {task.name}", f"Ärende: {task.case_title}"]
    after = [f"Senast: {local_date(task.due_at)}"] if task.due_at is not None else []
    after += ["", f"Öppna uppgiften: {task_link(task)}"]
    if task.user_id is not None or task.organisation_id is None:
        return "\n".join(before + after), None
    return "\n".join([*before, f"Erbjuden till: {role_label(task.role)}, "]), "\n" + "\n".join(after)


def task_link(task: HumanTask) -> str:
    base = str(current_app.config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
    return f"{base}/uppgifter/{task.id}"


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


def local_date(moment: datetime) -> str:
    zone = ZoneInfo(str(current_app.config.get("DISPLAY_TIMEZONE", "Europe/Stockholm")))
    return moment.astimezone(zone).strftime("%Y-%m-%d")


def list_notifications_for(user: User, limit: int = 50) -> list[Notification]:
    """The person's notifications, newest first."""
    query = (select(Notification).where(Notification.user_id == user.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def list_outbox(limit: int = 100) -> list[Notification]:
    """Rows still waiting for e-mail, oldest first: those of enabled people with an address (others are in-app only)."""
    query = (select(Notification).join(Notification.user)
             .where(Notification.sent_at.is_(None), User.email.is_not(None), User.email != "", User.is_enabled.is_(True))
             .order_by(Notification.created_at, Notification.id).limit(limit))
    return list(db.session.scalars(query))


def count_unread(user: User) -> int:
    """How many of the person's notifications are unread (for a badge in the menu)."""
    query = select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))
    return int(db.session.scalar(query) or 0)


def mark_read(notification: Notification, user: User) -> None:
    """Mark one of the person's own notifications as read."""
    if notification.user_id != user.id:
        raise NotPermitted("Aviseringen tillhör någon annan.")
    if notification.read_at is None:
        notification.read_at = now()
    db.session.flush()
