"""Claim, release and hand over a group task: one member takes it so colleagues do not do it twice.

A claim is a conditional UPDATE (``... WHERE claimed_by_id IS NULL``): of two members claiming at once,
the database lets one row change and the other finds nothing left to claim (409), on both databases.
"""

from __future__ import annotations

from sqlalchemy import update

from service import access, audit
from service.columns import now
from service.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from service.extensions import db
from service.parties.models import User
from service.processes.models import HumanTask, TaskStatus


def claim_task(task_row_id: int, *, by: User) -> HumanTask:
    """Take an unclaimed group task; 409 when someone else took it first."""
    task = _ready_group_task(task_row_id)
    if not (access.holds_task_group(by, task) or access.acting_for(by, task) is not None):
        raise NotPermitted("Uppgiften är inte erbjuden någon av dina grupper.")
    taken = db.session.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == TaskStatus.READY,
                                HumanTask.claimed_by_id.is_(None))
        .values(claimed_by_id=by.id, claimed_at=now()).execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(task)
        raise Conflict(_taken_message(task))
    db.session.refresh(task)
    audit.record(by, "task.claimed", task.instance, instance_id=task.instance_id, task=task.bpmn_id,
                 task_id=task.task_id, name=task.name, on_behalf_of=access.on_behalf_of(by, task))
    return task


def release_task(task_row_id: int, *, by: User) -> HumanTask:
    """Give a claimed task back to the whole group."""
    task = _ready_group_task(task_row_id)
    if task.claimed_by_id is None:
        raise Conflict("Uppgiften är inte tagen av någon.")
    if not access.can_work_on(by, task):
        raise NotPermitted("Bara den som har tagit uppgiften kan lämna tillbaka den.")
    _set_claim(task, None)
    audit.record(by, "task.released", task.instance, instance_id=task.instance_id, task=task.bpmn_id,
                 task_id=task.task_id, name=task.name)
    return task


def hand_over_task(task_row_id: int, to: User | None, *, by: User) -> HumanTask:
    """Give a group task to a colleague who holds the same role in the same organisation."""
    task = _ready_group_task(task_row_id)
    if not access.can_work_on(by, task):
        raise NotPermitted("Du kan bara lämna över en uppgift som du själv kan utföra.")
    if to is None or not to.is_active or not access.holds_task_group(to, task):
        raise ValidationFailed("Uppgiften kan bara lämnas över till någon i samma grupp.",
                               {"to_user_id": ["Välj en kollega med samma roll i samma organisation."]})
    previous = task.claimed_by_id
    _set_claim(task, to)
    audit.record(by, "task.handed_over", task.instance, instance_id=task.instance_id, task=task.bpmn_id,
                 task_id=task.task_id, name=task.name, to={"id": to.id, "name": to.display_name},
                 previous_claim=previous)
    return task


def _ready_group_task(task_row_id: int) -> HumanTask:
    task = db.session.get(HumanTask, task_row_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise NotFound("Uppgiften finns inte.")
    if not task.is_ready:
        raise Conflict("Uppgiften är redan utförd eller har avbrutits.")
    if task.user_id is not None:
        raise Conflict("Uppgiften är tilldelad en namngiven person och kan inte tas eller lämnas över.")
    return task


def _set_claim(task: HumanTask, user: User | None) -> None:
    task.claimed_by_id = None if user is None else user.id
    task.claimed_at = None if user is None else now()
    db.session.flush()


def _taken_message(task: HumanTask) -> str:
    if not task.is_ready:
        return "Uppgiften är redan utförd eller har avbrutits."
    who = task.claimed_by.display_name if task.claimed_by is not None else "någon annan"
    return f"Uppgiften har redan tagits av {who}."
