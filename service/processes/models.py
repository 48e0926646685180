"""Deployed process definitions, running instances and the task list projected from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db


class ProcessDefinition(db.Model):  # type: ignore[name-defined,misc]
    """One immutable, numbered version of a BPMN process and the forms it uses."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    # Deferred: read once per version into definitions.parsed()'s cache, not on every task.
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True, deferred_group="content")
    forms: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True, deferred_group="content")
    # Process id -> version of each separately deployed process a call activity runs, bound at deploy: an
    # instance keeps the callee it started with when the callee is deployed again.
    called_versions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, deferred=True, deferred_group="content")
    # DMN file name -> XML text of each decision table a business-rule task calls, as deployed.
    decisions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, deferred=True, deferred_group="content")
    # The process owner's test cases this version passed when it was deployed (service/processes/test_cases.py):
    # the cases as they were then, kept with the version whatever later happens to the process's cases.
    # Deferred: every start and every completion reads its version's row, and none needs these.
    test_cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class InstanceStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProcessInstance(db.Model):  # type: ignore[name-defined,misc]
    """A running or finished case. ``state`` is the engine's serialized state without the spec."""

    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=InstanceStatus.RUNNING)
    state: Mapped[str] = mapped_column(Text)
    # Checked on every write (UPDATE ... WHERE lock_version = n): a stale writer gets StaleDataError.
    lock_version: Mapped[int] = mapped_column(default=1)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    definition: Mapped[ProcessDefinition] = relationship()
    tasks: Mapped[list[HumanTask]] = relationship(
        back_populates="instance", cascade="all, delete-orphan", order_by="HumanTask.id")

    __mapper_args__ = {"version_id_col": lock_version}


class TaskStatus(StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class HumanTask(db.Model):  # type: ignore[name-defined,misc]
    """A user task, offered to an organisation's role and/or a named user. Rows are kept after
    completion (who and when), so a repeated submit is answered "already done", not "not found"."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        Index("ix_human_tasks_group", "organisation_id", "role", "status"),
        Index("ix_human_tasks_user", "user_id", "status"),
        Index("ix_human_tasks_claimed", "claimed_by_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    # The case's title, copied when the task is created (a case's title never changes): the inbox searches
    # and sorts by it without a lookup of the case for every task that matches.
    case_title: Mapped[str] = mapped_column(String(300), default="")
    form: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.READY)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # "due soon" notice sent
    # Form values saved without completing the task (one or several sittings); not validated.
    draft_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    draft_saved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A group task taken by one member (inbox claim); NULL while it is offered to the whole group.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    instance: Mapped[ProcessInstance] = relationship(back_populates="tasks")
    organisation = relationship("Organisation")
    user = relationship("User", foreign_keys=[user_id])
    completed_by = relationship("User", foreign_keys=[completed_by_id])
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])

    @property
    def is_ready(self) -> bool:
        return self.status == TaskStatus.READY


class TimerStatus(StrEnum):
    WAITING = "waiting"
    FIRED = "fired"
    CANCELLED = "cancelled"


class ProcessTimer(db.Model):  # type: ignore[name-defined,misc]
    """A BPMN timer an instance waits on, written in the same transaction as the engine state.

    The source of truth for the scheduler: APScheduler jobs are derived from the waiting rows, and a
    job only fires a row that is still waiting, under the instance lock (so firing is idempotent).
    A cycle timer gets one row per occurrence (its due moment changes).
    """

    __tablename__ = "process_timers"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id", "due_at"),
        Index("ix_process_timers_status_due", "status", "due_at"),
        Index("ix_process_timers_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20), default=TimerStatus.WAITING)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    instance: Mapped[ProcessInstance] = relationship()


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ProcessIncident(db.Model):  # type: ignore[name-defined,misc]
    """A script, condition or expression failed in a running case: the case is not silently stuck.

    The engine keeps the failed task (ERROR, or READY but not offerable); a process owner corrects the
    data and retries. Written in the same transaction as the state that contains the failed task.
    """

    __tablename__ = "process_incidents"
    __table_args__ = (Index("ix_process_incidents_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the failed task's data: what a correction starts from
    status: Mapped[str] = mapped_column(String(20), default=IncidentStatus.OPEN)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    instance: Mapped[ProcessInstance] = relationship()
    resolved_by = relationship("User")

    @property
    def is_open(self) -> bool:
        return self.status == IncidentStatus.OPEN


class ProcessTestCase(db.Model):  # type: ignore[name-defined,misc]
    """A process owner's test case for a process (service.engine.process_tests): start data, the answers
    at each user task and the timers that fire, with the path and end it expects. Every new version of the
    process must pass all of them before it is stored."""

    __tablename__ = "process_test_cases"
    __table_args__ = (UniqueConstraint("process_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    case: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
