"""Start instances and complete tasks: engine state, task list and audit event in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import and_, bindparam, false, func, inspect, or_, select, tuple_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from service import access, audit, clock
from service.columns import now
from service.engine import calendar, forms, runner, serializer, specs, timers
from service.engine.runner import EngineFailure, ReadyTask, Step
from service.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from service.extensions import db
from service.notifications.operations import notify_deadline_soon, notify_task_offered
from service.parties.models import User, role_for_lane
from service.processes import incidents
from service.processes.definitions import form_schema, parsed, require_latest_definition
from service.processes.hooks import Progress, hooks_for
from service.processes.models import (
    HumanTask,
    IncidentStatus,
    InstanceStatus,
    ProcessDefinition,
    ProcessIncident,
    ProcessInstance,
    ProcessTimer,
    TaskStatus,
    TimerStatus,
)
from service.processes.timers import remember as remember_timer
from service.processes.timers import sync_timers
from service.rows import insert_as_loaded
from service.transactions import check_when_writing, take_write_lock


def start_process(process_id: str, *, by: User, title: str, data: Mapping[str, Any],
                  latest: ProcessDefinition | None = None) -> ProcessInstance:
    """Start an instance on the latest version of ``process_id`` (``latest``: that version's row, if the
    caller has read it already) and run it to its first wait."""
    row = latest or require_latest_definition(process_id)
    definition = parsed(row)
    engine_input = {**data, "started_by": by.id}
    with clock.pinned() as moment:
        workflow, steps = runner.start(definition, engine_input)
        # Written by advance (new=True), with the state it serializes: every column but the state given here.
        instance = ProcessInstance(definition_id=row.id, definition=row, title=title, started_by_id=by.id,
                                   status=InstanceStatus.RUNNING, lock_version=1, started_at=now(), completed_at=None)
        change = advance(instance, workflow, definition, by, new=True)
        set_committed_value(instance, "tasks", change.created)  # a new instance's tasks: no query to read them
    # ``input`` and ``at`` are what the engine was given: enough to re-execute the case from nothing.
    audit.record(by, "instance.started", instance, instance_id=instance.id, process_id=row.process_id,
                 version=row.version, data=dict(data), steps=_step_ids(steps), input=engine_input,
                 at=moment.isoformat())
    db.session.flush()
    return instance


@dataclass(frozen=True)
class Completion:
    task: HumanTask
    open_tasks: list[HumanTask]  # the case's READY tasks after the completion, in the order open_task_rows gives


def complete_task(task_row_id: int, data: Mapping[str, Any], *, by: User,
                  check: Callable[[HumanTask], None] | None = None) -> HumanTask:
    """Complete a READY task with form data, under the instance's lock; 409 if it is no longer READY.

    ``check`` sees the task first, read under the lock (the API's visibility and If-Match checks), so that
    the task is read once and the checks cannot race a concurrent change."""
    return complete_with_open_tasks(task_row_id, data, by=by, check=check).task


def complete_with_open_tasks(task_row_id: int, data: Mapping[str, Any], *, by: User,
                             check: Callable[[HumanTask], None] | None = None) -> Completion:
    """complete_task, which also gives the case's open tasks afterwards (known from the task-list sync,
    so that the caller does not read them again)."""
    task = _lock_task(task_row_id)
    if check is not None:
        check(task)
    if not task.is_ready:
        raise Conflict("Uppgiften är redan utförd eller har avbrutits.")
    if not access.can_work_on(by, task):
        raise NotPermitted("Uppgiften är inte tilldelad dig eller någon av dina grupper.")
    instance = task.instance
    definition = parsed(instance.definition)
    workflow = runner.load(definition, instance.state)
    spiff_task = runner.get_ready_task(workflow, task.task_id)
    values = _validated(instance, task, data)
    values = hooks_for(instance.definition.process_id).prepare(instance, task, values, spiff_task.data)
    with clock.pinned() as moment:
        steps, failure = runner.tolerating_incident(lambda: runner.complete(workflow, task.task_id, values), task.task_id)
        _write(task, status=TaskStatus.COMPLETED, completed_at=now(), completed_by_id=by.id)
        hooks_for(instance.definition.process_id).completed(instance, task, values, by)
        change = advance(instance, workflow, definition, by, failures=failure)
    audit.record(by, "task.completed", instance, instance_id=instance.id, task=task.bpmn_id,
                 task_id=task.task_id, name=task.name, data=dict(data), steps=_step_ids(steps),
                 input=values, at=moment.isoformat(), on_behalf_of=access.on_behalf_of(by, task))
    db.session.flush()
    return Completion(task, change.open)


# Statements of every task completion, built once. The definition row comes with the lock (the relationship
# then needs no query of its own); only the task and the instance are locked.
_LOCK_TASK = (select(HumanTask, ProcessInstance, ProcessDefinition).join(HumanTask.instance)
              .join(ProcessInstance.definition).where(HumanTask.id == bindparam("task_row_id"))
              .with_for_update(of=[HumanTask.__table__, ProcessInstance.__table__])
              .execution_options(populate_existing=True))
_OPEN_ROWS = (select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"),
                                      HumanTask.status == TaskStatus.READY).order_by(HumanTask.id))


def open_task_rows(instance_id: int) -> list[HumanTask]:
    """The instance's READY task rows (one indexed query: only the open rows, however long its history)."""
    return list(db.session.scalars(_OPEN_ROWS, {"instance_id": instance_id}))


def _lock_task(task_row_id: int) -> HumanTask:
    """Lock the task's instance and read task and instance fresh under the lock, in one statement.

    Two parties approving their own tasks of one instance queue here; the second then works on the
    state the first wrote. PostgreSQL: SELECT ... FOR UPDATE locks both rows. SQLite has no row locks and
    one write lock for the whole database: task and instance are read without it, so that the engine's work
    runs while other cases commit, and read again when the transaction takes it to write (check_when_writing):
    if another writer completed, claimed or released the task or moved the instance on meanwhile, the work is
    retried on the new state. The lock_version check on write stays as a second line of defence.
    """
    session = db.session()
    row = session.execute(_LOCK_TASK, {"task_row_id": task_row_id}).first()
    if row is None:
        raise NotFound("Uppgiften finns inte.")
    task: HumanTask = row[0]
    read = (task.status, task.user_id, row[1].lock_version)
    check_when_writing(session, lambda: _unchanged_since(task_row_id, read))
    # Loaded above: spare the lazy loads their queries (and keep the instance alive: the identity map is weak).
    set_committed_value(task, "instance", row[1])
    set_committed_value(row[1], "definition", row[2])
    return task


_TASK_AND_VERSION = (select(HumanTask.status, HumanTask.user_id, ProcessInstance.lock_version)
                     .join(HumanTask.instance).where(HumanTask.id == bindparam("task_row_id")))


def _unchanged_since(task_row_id: int, read: tuple[Any, ...]) -> None:
    now_ = db.session.connection().execute(_TASK_AND_VERSION, {"task_row_id": task_row_id}).first()
    if now_ is None or tuple(now_) != read:
        raise StaleDataError(f"Uppgiften {task_row_id} ändrades av någon annan medan den utfördes.")


def _validated(instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    schema = form_schema(instance.definition, task.form)
    errors = forms.validate(schema, data)
    if errors:
        raise ValidationFailed("Formuläret innehåller fel. Inget har sparats.", errors)
    return {**forms.defaults(schema), **data}


def advance(instance: ProcessInstance, workflow: Any, definition: specs.Definition, actor: User | None, *,
            by_timer: bool = False, failures: Sequence[EngineFailure] = (), new: bool = False) -> TaskListChange:
    """Write the engine state, project its READY user tasks and waiting timers into their tables, and
    notify the people new tasks are offered to (a timer that cancelled a task escalated it). Engine
    failures (given, or found describing READY tasks) open incidents in the same transaction. ``new``:
    the instance has just been created, so it has no task rows yet."""
    failures = list(failures)
    ready = runner.ready_tasks(workflow, definition, failures)
    written: dict[str, Any] = {"state": serializer.dump(workflow), "updated_at": now()}
    if runner.is_completed(workflow):
        written.update(status=InstanceStatus.COMPLETED, completed_at=written["updated_at"])
    _write_instance(instance, written, new=new)
    change = _sync_task_list(instance, ready, keep={failure.task_id for failure in failures}, new=new)
    for failure in failures:
        incidents.open_incident(instance, workflow, failure, actor)
    fired = sync_timers(instance, workflow) if definition.has_timers else []
    for timer in fired:  # by its own job, or as a side effect of other work
        audit.record(None, "timer.fired", instance, instance_id=instance.id, timer=timer.bpmn_id, name=timer.name,
                     due_at=timer.due_at.isoformat())
    if change.created:
        for task in change.created:
            notify_task_offered(task, escalated=by_timer)
    progress = Progress(ready=ready, is_completed=runner.is_completed(workflow), data=runner.final_data(workflow))
    hooks_for(instance.definition.process_id).advanced(instance, progress, actor)
    return change


def _write(task: HumanTask, **values: Any) -> None:
    """UPDATE one task row at once, by a Core statement (the hot path of every completion spares the unit of
    work), and keep the loaded object equal to the row. Core statements run on the session's connection
    (its transaction), not through Session.execute: no autoflush (other pending changes are flushed with the
    rest, later) and half the overhead; the columns set are the parameters' (one cached form per set)."""
    take_write_lock(db.session())  # SQLite: the task read without it is checked again now (_lock_task)
    db.session.connection().execute(_UPDATE_TASK, {**values, "task_row_id": task.id})
    for name, value in values.items():
        set_committed_value(task, name, value)


def _write_instance(instance: ProcessInstance, values: dict[str, Any], *, new: bool) -> None:
    """Write the engine state: a new instance's by its INSERT (insert_as_loaded: every other column given by
    start_process), which gives it its id; one the unit of work has pending, by its flush; a stored one's at
    once by a Core UPDATE that checks and steps ``lock_version`` as the ORM's version counter would
    (StaleDataError if another writer got there first), keeping the loaded object equal to the row."""
    if new or not inspect(instance).persistent:
        for name, value in values.items():
            setattr(instance, name, value)
        if new:
            insert_as_loaded([instance])
            incidents.remember_started(instance)  # before it can open one (advance, after the task list)
        return
    take_write_lock(db.session())
    version = instance.lock_version
    values = {**values, "lock_version": version + 1}
    # No autoflush (the session's connection): a pending change of the instance (a migration's new version)
    # would step lock_version under us; it is flushed later, checked against the version written here.
    result = db.session.connection().execute(_UPDATE_INSTANCE, {**values, "instance_id": instance.id, "version": version})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleDataError(f"Ärendet {instance.id} har ändrats av någon annan (version {version}).")
    for name, value in values.items():
        set_committed_value(instance, name, value)


_TASKS, _INSTANCES = HumanTask.__table__, ProcessInstance.__table__
_UPDATE_TASK = update(_TASKS).where(_TASKS.c.id == bindparam("task_row_id"))
_UPDATE_INSTANCE = update(_INSTANCES).where(_INSTANCES.c.id == bindparam("instance_id"),
                                            _INSTANCES.c.lock_version == bindparam("version"))


@dataclass(frozen=True)
class TaskListChange:
    created: list[HumanTask]
    cancelled: list[HumanTask]
    open: list[HumanTask]  # every READY row afterwards, by id


def _sync_task_list(instance: ProcessInstance, ready: Sequence[ReadyTask], keep: set[str | None],
                    new: bool = False) -> TaskListChange:
    """Make the READY rows equal the engine's READY user tasks (``keep``: tasks with an incident keep
    their rows). Only open rows are read, so the cost does not grow with the instance's history."""
    wanted = {task.task_id: task for task in ready}
    with db.session.no_autoflush:  # the state and the completed task are written with the rest, in one flush
        rows = [] if new else open_task_rows(instance.id)
    open_rows = [row for row in rows if row.is_ready]  # not the task completed in memory, not yet written
    cancelled = [row for row in open_rows if row.task_id not in wanted and row.task_id not in keep]
    for row in cancelled:
        row.status = TaskStatus.CANCELLED  # cancelled by the engine: a rejection, timer or completion condition
    known = {row.task_id for row in open_rows}
    created = [_new_task_row(task, instance) for task in ready if task.task_id not in known]
    insert_as_loaded(created)
    still_open = [row for row in open_rows if row.status == TaskStatus.READY]
    return TaskListChange(created=created, cancelled=cancelled, open=still_open + created)


def _new_task_row(task: ReadyTask, instance: ProcessInstance) -> HumanTask:
    """A new READY row, every column given (insert_as_loaded writes them all and reads none back)."""
    role = role_for_lane(task.lane or "")
    created = now()
    return HumanTask(
        instance_id=instance.id, task_id=task.task_id, bpmn_id=task.bpmn_id, name=task.name, form=task.form or "",
        case_title=instance.title,
        role=str(role), organisation_id=_optional_int(task.organisation), user_id=_optional_int(task.assignee),
        status=TaskStatus.READY, created_at=created, due_at=_due_at(task, created), completed_at=None,
        completed_by_id=None, reminded_at=None, draft_data=None, draft_saved_at=None, claimed_by_id=None,
        claimed_at=None,
    )


def _due_at(task: ReadyTask, created: datetime) -> datetime | None:
    if task.due_at is not None:
        return task.due_at
    if task.due_in_working_days is not None:
        return calendar.working_days_deadline(created, task.due_in_working_days)
    return specs.due_at(task.due_in, created) if task.due_in else None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _step_ids(steps: Sequence[Step]) -> list[str]:
    return [step.bpmn_id for step in steps]


def list_tasks_for(user: User, scope: str = "all") -> list[HumanTask]:
    """READY tasks named to or claimed by ``user`` or offered to a group (organisation × role) they belong
    to, and those of the people they stand in for; ``scope`` "mine" or "group" gives one of the two lists."""
    return list(db.session.scalars(select(HumanTask).where(visible_to(user, scope))
                                   .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)))


def count_tasks_for(user: User, scope: str = "all") -> int:
    """How many tasks list_tasks_for would show (one COUNT)."""
    return int(db.session.scalar(select(func.count()).select_from(HumanTask).where(visible_to(user, scope))) or 0)


def count_tasks_by_scope(user: User) -> tuple[int, int]:
    """(mine, my groups'): the two counts of the menu on every page, in one statement."""
    mine, offered = _scopes(user)
    row = db.session.execute(select(func.count().filter(mine), func.count().filter(offered)).select_from(HumanTask)
                             .where(HumanTask.status == TaskStatus.READY, or_(mine, offered))).one()
    return int(row[0]), int(row[1])


def visible_to(user: User, scope: str = "all") -> Any:
    """Only indexed columns of human_tasks: user_id, claimed_by_id, (organisation_id, role) with status."""
    mine, offered = _scopes(user)
    chosen = {"mine": mine, "group": offered}.get(scope, or_(mine, offered))
    return and_(HumanTask.status == TaskStatus.READY, chosen)


def _scopes(user: User) -> tuple[Any, Any]:
    """The conditions of "mine" (named to or claimed by the user or the people they stand in for) and of
    "my groups'" (offered to a group of theirs, or by another rule such as a drafting group)."""
    mine_conditions, groups, extra = _visibility(user)
    mine = or_(*mine_conditions)
    offered = and_(HumanTask.user_id.is_(None), HumanTask.claimed_by_id.is_(None),
                   tuple_(HumanTask.organisation_id, HumanTask.role).in_(groups)) if groups else false()
    return mine, or_(offered, *extra)


_VISIBILITY = "samverkan_visibility"


def _visibility(user: User) -> tuple[list[Any], list[tuple[int, str]], list[Any]]:
    """Whose tasks and which groups' ``user`` sees (of the people they stand in for, only in organisations
    ``user`` belongs to: access.may_stand_in_on), and the other rules' task ids. A page asks three times
    (its list and the menu's counts): a GET request reads them once; a change may alter them, so other
    requests read them every time."""
    cache: dict[int, Any] = g.setdefault(_VISIBILITY, {}) if has_request_context() and request.method == "GET" else {}
    if user.id not in cache:
        absent, own = access.substituting_for(user), access.organisation_ids(user)
        groups = sorted(user.groups() | {group for person in absent for group in person.groups() if group[0] in own})
        cache[user.id] = (_named_or_claimed(user, [person.id for person in absent], own), groups,
                          _extra_task_ids(user))
    found: tuple[list[Any], list[tuple[int, str]], list[Any]] = cache[user.id]
    return found


def _named_or_claimed(user: User, absent_ids: list[int], own_organisations: set[int]) -> list[Any]:
    """Tasks named to or claimed by ``user``, and those of the people they stand in for in their own organisations."""
    conditions = [HumanTask.user_id == user.id, HumanTask.claimed_by_id == user.id]
    if absent_ids and own_organisations:
        conditions.append(and_(or_(HumanTask.user_id.in_(absent_ids), HumanTask.claimed_by_id.in_(absent_ids)),
                               HumanTask.organisation_id.in_(sorted(own_organisations))))
    return conditions


def _extra_task_ids(user: User) -> list[Any]:
    """Tasks other rules offer ``user`` (access.register_task_rule), as a list of ids: a subquery ORed
    into the list query would keep PostgreSQL from using the indexes above (a scan of every task)."""
    conditions = access.extra_task_conditions(user)
    if not conditions:
        return []
    ids = db.session.scalars(select(HumanTask.id).where(HumanTask.status == TaskStatus.READY, or_(*conditions))).all()
    return [HumanTask.id.in_(ids)] if ids else []


def fire_timer(timer_id: int) -> bool:
    """Fire a waiting timer that has come due and run the instance on. Idempotent: a timer that was
    fired, cancelled or is not yet due changes nothing (a duplicate or early job is harmless)."""
    timer = db.session.get(ProcessTimer, timer_id)
    if timer is None or timer.status != TimerStatus.WAITING:
        return False
    instance = lock_instance(timer.instance_id)
    db.session.refresh(timer)
    if timer.status != TimerStatus.WAITING or timer.due_at > now():
        return False
    definition = parsed(instance.definition)
    workflow = runner.load(definition, instance.state)
    with clock.pinned() as moment:
        steps, failure = runner.tolerating_incident(lambda: timers.fire_due(workflow), None)
        change = advance(instance, workflow, definition, None, by_timer=True, failures=failure)
    audit.record(None, "instance.timers_run", instance, instance_id=instance.id, job_timer=timer.bpmn_id,
                 steps=_step_ids(steps), at=moment.isoformat())
    for task in change.cancelled:
        audit.record(None, "task.cancelled_by_timer", instance, instance_id=instance.id, task=task.bpmn_id,
                     task_id=task.task_id, name=task.name, by_timer=timer.bpmn_id)
    for task in change.created:  # a deadline passed and the process offers the case to someone (else)
        audit.record(None, "task.escalated", instance, instance_id=instance.id, task=task.bpmn_id,
                     task_id=task.task_id, name=task.name, role=task.role, by_timer=timer.bpmn_id)
    db.session.flush()
    return True


def lock_instance(instance_id: int) -> ProcessInstance:
    """The instance row, locked until commit (see _lock_task for how on each database)."""
    take_write_lock(db.session())
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                                 .with_for_update().execution_options(populate_existing=True))
    if instance is None:
        raise NotFound("Ärendet finns inte.")
    return instance


def remind_due_soon(lead: timedelta, limit: int = 500) -> int:
    """Notify the people of READY tasks due within ``lead`` once (before a deadline)."""
    moment = now()
    tasks = db.session.scalars(select(HumanTask).where(
        HumanTask.status == TaskStatus.READY, HumanTask.reminded_at.is_(None),
        HumanTask.due_at.is_not(None), HumanTask.due_at <= moment + lead).limit(limit)
        .with_for_update(skip_locked=True)).all()
    for task in tasks:
        notify_deadline_soon(task)
        task.reminded_at = moment
    return len(tasks)


MAX_DRAFT_BYTES = 512 * 1024


def save_task_draft(task_row_id: int, data: Mapping[str, Any], *, by: User) -> HumanTask:
    """Keep form values without completing the task; nothing is validated or sent to the engine."""
    task = db.session.get(HumanTask, task_row_id)
    if task is None:
        raise NotFound("Uppgiften finns inte.")
    if not access.can_work_on(by, task):
        raise NotPermitted("Uppgiften är inte tilldelad dig eller någon av dina grupper.")
    if not task.is_ready:
        raise Conflict("Uppgiften är redan utförd eller har avbrutits.")
    if len(json.dumps(data, default=str)) > MAX_DRAFT_BYTES:
        raise ValidationFailed("Utkastet är för stort för att sparas.", {"": ["Högst 512 kB."]})
    known = set(form_schema(task.instance.definition, task.form).get("properties", {}))
    task.draft_data = {key: value for key, value in data.items() if key in known}
    task.draft_saved_at = now()
    audit.record(by, "task.draft_saved", task.instance, instance_id=task.instance_id, task=task.bpmn_id,
                 task_id=task.task_id, data=task.draft_data)
    return task


def form_values(task: HumanTask) -> dict[str, Any]:
    """What a task's form shows when opened: the saved draft, else what the domain proposes."""
    if task.draft_data is not None:
        return dict(task.draft_data)
    return hooks_for(task.instance.definition.process_id).initial_values(task)


def cancel_instance(instance: ProcessInstance, reason: str, *, by: User | None) -> None:
    """End an instance without running it on: open tasks and timers are cancelled (e.g. the lifecycle of
    an agreement version that a newer version replaces)."""
    moment = now()
    for task in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.status == TaskStatus.READY)):
        task.status = TaskStatus.CANCELLED
    for timer in db.session.scalars(select(ProcessTimer).where(ProcessTimer.instance_id == instance.id,
                                                               ProcessTimer.status == TimerStatus.WAITING)):
        timer.status, timer.updated_at = TimerStatus.CANCELLED, moment
        remember_timer(timer)
    instance.status, instance.completed_at = InstanceStatus.CANCELLED, moment
    audit.record(by, "instance.cancelled", instance, instance_id=instance.id, reason=reason)


def retry_incident(incident_id: int, data: Mapping[str, Any], *, by: User) -> ProcessIncident:
    """Run an incident's failed task again with corrected ``data`` (process owners).

    Still failing at the same task: nothing of the engine state changes; the incident keeps the corrected
    data and the new message. Failing further on: the work done stands, this incident is resolved and a
    new one opens there. Either way the attempt is audited with the data before and after.
    """
    if not access.can_manage_definitions(by):
        raise NotPermitted("Bara processägare kan åtgärda incidenter.")
    incident = db.session.get(ProcessIncident, incident_id)
    if incident is None:
        raise NotFound("Incidenten finns inte.")
    instance = lock_instance(incident.instance_id)
    db.session.refresh(incident)
    if not incident.is_open:
        raise Conflict("Incidenten är redan åtgärdad.")
    definition = parsed(instance.definition)
    workflow = runner.load(definition, instance.state)
    before, incident.data, incident.attempts = incident.data, dict(data), incident.attempts + 1
    with clock.pinned() as moment:
        failure, steps = _retry_failure(workflow, definition, incident, data)
        if failure is not None and failure.task_id in (incident.task_id, None):
            incident.message = failure.detail
            audit.record(by, "incident.retry_failed", incident, instance_id=instance.id, incident=incident.id,
                         task=incident.bpmn_id, data_before=before, data=dict(data), message=failure.detail)
            return incident
        incident.status, incident.resolved_at, incident.resolved_by_id = IncidentStatus.RESOLVED, now(), by.id
        advance(instance, workflow, definition, by, failures=[failure] if failure else [])
    audit.record(by, "incident.resolved", incident, instance_id=instance.id, incident=incident.id,
                 task=incident.bpmn_id, task_id=incident.task_id, data_before=before, input=dict(data),
                 steps=_step_ids(steps), at=moment.isoformat())
    db.session.flush()
    return incident


def _retry_failure(workflow: Any, definition: specs.Definition, incident: ProcessIncident,
                   data: Mapping[str, Any]) -> tuple[EngineFailure | None, list[Step]]:
    try:
        steps = runner.retry(workflow, incident.task_id, data)
    except EngineFailure as failure:
        return failure, []
    failures: list[EngineFailure] = []
    runner.ready_tasks(workflow, definition, failures)  # a READY task's properties may still fail
    return next((failure for failure in failures if failure.task_id == incident.task_id), None), steps
