"""Move chosen running instances to a newer version of their process (dry run first, audited).

Each instance is migrated under its own lock (operations.lock_instance), its state, task list and timers
rewritten and the audit event recorded in the same transaction; an unsafe instance is left as it is
and the refusal names the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from service import audit
from service.engine import migration
from service.errors import NotFound, ValidationFailed
from service.extensions import db
from service.parties.models import User
from service.processes.definitions import parsed
from service.processes.models import HumanTask, InstanceStatus, ProcessDefinition, ProcessInstance, TaskStatus
from service.processes.operations import advance, lock_instance


@dataclass
class InstanceMigration:
    """What happened (or, in a dry run, would happen) to one instance."""

    instance_id: int
    title: str
    from_version: int
    to_version: int
    is_safe: bool
    is_done: bool = False
    refusals: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def list_running(process_id: str) -> list[ProcessInstance]:
    """Running instances of every version of ``process_id``, oldest first."""
    return list(db.session.scalars(select(ProcessInstance).join(ProcessInstance.definition).where(
        ProcessDefinition.process_id == process_id, ProcessInstance.status == InstanceStatus.RUNNING)
        .order_by(ProcessInstance.id)))


def migrate_instances(instance_ids: Sequence[int], target: ProcessDefinition, *, by: User,
                      dry_run: bool) -> list[InstanceMigration]:
    """Check (dry run) or perform the migration of each chosen instance to ``target``."""
    results = [_migrate_one(instance_id, target, by=by, dry_run=dry_run) for instance_id in instance_ids]
    db.session.flush()
    return results


def _migrate_one(instance_id: int, target: ProcessDefinition, *, by: User, dry_run: bool) -> InstanceMigration:
    instance = lock_instance(instance_id)
    current = instance.definition
    result = InstanceMigration(instance.id, instance.title, current.version, target.version, is_safe=False)
    refusal = _precondition(instance, target)
    if refusal:
        result.refusals.append(refusal)
    else:
        plan = migration.plan(instance.state, parsed(current), parsed(target))
        result.is_safe, result.refusals, result.actions = plan.is_safe, plan.refusals, plan.actions
        if plan.workflow is not None and not dry_run:
            _apply(instance, target, plan, by)
            result.is_done = True
    if not dry_run and not result.is_done:
        audit.record(by, "instance.migration_refused", instance, instance_id=instance.id, from_version=current.version,
                     to_version=target.version, reasons=result.refusals)
    return result


def _precondition(instance: ProcessInstance, target: ProcessDefinition) -> str | None:
    if instance.definition.process_id != target.process_id:
        raise ValidationFailed("Ärendet hör till en annan process.", {"instance": [str(instance.id)]})
    if instance.status != InstanceStatus.RUNNING:
        return "ärendet pågår inte"
    if target.version <= instance.definition.version:
        return f"ärendet är redan på version {instance.definition.version}; välj en nyare version"
    return None


def _apply(instance: ProcessInstance, target: ProcessDefinition, plan: migration.MigrationPlan, by: User) -> None:
    old_version = instance.definition.version
    instance.definition = target
    definition = parsed(target)
    advance(instance, plan.workflow, definition, by)
    # Open tasks keep their ids (and rows); name and form follow the new version.
    for row in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == TaskStatus.READY)):
        info = definition.user_tasks.get(row.bpmn_id)
        if info is not None:
            row.name, row.form = info.name, info.form or ""
    audit.record(by, "instance.migrated", instance, instance_id=instance.id, from_version=old_version,
                 to_version=target.version, actions=plan.actions)


def get_instance(instance_id: int) -> ProcessInstance:
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("Ärendet finns inte.")
    return instance
