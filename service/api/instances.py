"""Process instances: start the latest version of a deployed definition, read one with its open tasks."""

from __future__ import annotations

from typing import Any

from flask import Response
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from service import access
from service.api.auth import api_user, require_write
from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.etags import etag_of
from service.api.idempotency import run_idempotent
from service.api.paging import json_response
from service.api.schemas import INSTANCE_SCHEMA, InstanceSchema, NewInstanceSchema
from service.engine.specs import Definition
from service.errors import NotPermitted, ValidationFailed
from service.extensions import db
from service.messages import Message
from service.parties.models import Role, User, role_for_lane
from service.processes.definitions import get_latest_definition, parsed
from service.processes.hooks import NoHooks, hooks_for
from service.processes.models import ProcessInstance
from service.processes.operations import start_process

bp = resource("instances", "Ärenden (processinstanser): starta och läs.")
FORM_ERROR = "Uppgifterna är ogiltiga. Inget har sparats."


@bp.post("/instances")
@bp.arguments(NewInstanceSchema)
@bp.response(201, InstanceSchema)
@bp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 200}}])
def start_instance(fields: dict[str, Any]) -> Response:
    """Start the latest version of a deployed process (the start event's lane names who may)."""
    user = require_write()

    def action() -> tuple[dict[str, Any], int]:
        instance = _start(user, fields)
        return INSTANCE_SCHEMA.dump(instance), 201

    response = run_idempotent(user, action)
    if response.status_code == 201:
        response.headers["Location"] = f"/api/v1/instances/{response.get_json()['id']}"
    return response


def _start(user: User, fields: dict[str, Any]) -> ProcessInstance:
    process_id, data = fields["process_id"], dict(fields["data"])
    row = get_latest_definition(process_id)
    if row is None:
        not_deployed = Message("Processen '%(process)s' är inte driftsatt.", process=process_id)
        raise ValidationFailed(FORM_ERROR, {"process_id": [not_deployed]})
    if not isinstance(hooks_for(process_id), NoHooks):
        raise ValidationFailed(FORM_ERROR, {"process_id": [
            "Processen startas genom sin egen resurs (avtal, avvikelser eller tvister), inte här."]})
    role = start_role(parsed(row)) or Role.CASE_OFFICER
    allowed = {m.organisation_id for m in user.memberships if m.role == role}
    if not allowed:
        raise NotPermitted("Du har inte rollen som startar den här processen.")
    # The case's organisation decides whose inbox its tasks land in: only one where the starter holds the role.
    organisation_id = data.get("organisation_id")
    if organisation_id is not None and organisation_id not in allowed:
        raise ValidationFailed(FORM_ERROR, {"data.organisation_id": [
            "Ange en organisation där du har rollen som startar processen."]})
    return start_process(process_id, by=user, title=fields["title"], data=data, latest=row)


def start_role(definition: Definition) -> Role | None:
    """The role of the lane holding the process's start event (None: the diagram has no lanes)."""
    for spec in definition.spec.task_specs.values():
        if type(spec).__name__ == "StartEvent" and getattr(spec, "lane", None):
            return role_for_lane(str(spec.lane))
    return None


@bp.get("/instances/<int(max=2147483647):instance_id>")
@bp.response(200, InstanceSchema)
def get_instance(instance_id: int) -> Response:
    """Read a case: status, title, definition version and its open tasks."""
    # The definition (process id, version) comes along; the engine state is not read at all.
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                                 .options(joinedload(ProcessInstance.definition), defer(ProcessInstance.state)))
    if instance is None or not can_view_instance(api_user(), instance):
        raise ApiProblem(404, "not-found", "Ärendet finns inte.")
    return json_response(INSTANCE_SCHEMA.dump(instance), headers={"ETag": instance_etag(instance)})


def instance_etag(instance: ProcessInstance) -> str:
    return etag_of("instance", instance.id, instance.lock_version)


def can_view_instance(user: User, instance: ProcessInstance) -> bool:
    """Auditors, the starter, anyone with a task in it, and whoever may see the domain case it runs."""
    if access.can_read_everything(user) or instance.started_by_id == user.id:
        return True
    if any(access.can_work_on(user, task) or task.completed_by_id == user.id for task in instance.tasks):
        return True
    return _can_view_domain_case(user, instance)


def _can_view_domain_case(user: User, instance: ProcessInstance) -> bool:
    from sqlalchemy import select

    from service.agreements.models import AgreementVersion
    from service.deviations.models import Deviation
    from service.disputes.models import Dispute

    version = db.session.scalar(select(AgreementVersion).where(AgreementVersion.instance_id == instance.id))
    if version is not None:
        return access.can_view_agreement(user, version.agreement)
    deviation = db.session.scalar(select(Deviation).where(Deviation.instance_id == instance.id))
    if deviation is not None:
        return access.can_view_deviation(user, deviation)
    dispute = db.session.scalar(select(Dispute).where(Dispute.instance_id == instance.id))
    return dispute is not None and access.can_view_dispute(user, dispute)
