"""Schemas shared by several resources: problems, tasks and process instances."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import fields, validate

from service.api.paging import PageArgs, page_schema, query_id_field, sort_field
from service.processes.incidents import get_open_incident
from service.processes.models import HumanTask, InstanceStatus, ProcessInstance
from service.processes.operations import open_task_rows


class FieldErrorSchema(ma.Schema):
    field = fields.String(required=True, metadata={"description": "Fältets sökväg, t.ex. 'event_date' eller 'data.note'."})
    messages = fields.List(fields.String(), required=True)


class ProblemSchema(ma.Schema):
    """application/problem+json (RFC 9457)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema))
    element_id = fields.String(allow_none=True, metadata={"description": "BPMN-elementet som felet gäller."})


class TaskSchema(ma.Schema):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    instance_title = fields.Function(lambda task: task.instance.title, required=True, metadata={"type": "string"})
    bpmn_id = fields.String(required=True)
    name = fields.String(required=True)
    form = fields.String(required=True)
    role = fields.String(required=True)
    organisation_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    claimed_by_id = fields.Integer(allow_none=True, metadata={"description": "Vem i gruppen som har tagit uppgiften."})
    status = fields.String(required=True, metadata={"description": "ready, completed eller cancelled."})
    due_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    completed_by_id = fields.Integer(allow_none=True)
    draft_saved_at = fields.AwareDateTime(allow_none=True)


# Schemas keep no state between dumps: one instance each spares building the fields on every request.
TASK_SCHEMA, TASKS_SCHEMA = TaskSchema(), TaskSchema(many=True)


def open_tasks(instance: ProcessInstance) -> list[HumanTask]:
    """The instance's READY tasks: from its task list if loaded (a new instance's), else one indexed query that
    reads only the open rows (an instance's whole history of tasks can be long)."""
    if "tasks" in instance.__dict__:
        return [task for task in instance.tasks if task.is_ready]
    return open_task_rows(instance.id)


class CompletedTaskSchema(TaskSchema):
    next_tasks = fields.List(fields.Nested(TaskSchema), required=True, metadata={
        "description": "Ärendets öppna uppgifter som du kan utföra nu (du behöver inte läsa ärendet för att hitta dem)."})


class TaskDetailSchema(TaskSchema):
    form_schema = fields.Dict(required=True, metadata={"description": "Formulärets JSON Schema."})
    values = fields.Dict(required=True, metadata={"description": "Sparat utkast eller förslag från ärendet."})


TaskPageSchema = page_schema(TaskSchema, "TaskPage")


class TaskListArgs(PageArgs):
    sort = sort_field(("due_at", "created_at", "name", "id"), "due_at")
    organisation_id = query_id_field(metadata={"description": "Bara uppgifter till den här organisationen."})
    bpmn_id = fields.String(validate=validate.Length(max=200), metadata={"description": "Bara den här BPMN-uppgiften."})
    assigned = fields.String(validate=validate.OneOf(("me", "group")),
                             metadata={"description": "me: namngivna till mig; group: till mina grupper."})


class DataWrappedSchema(ma.Schema):
    """A body whose form values go inside ``data``: values sent beside it get a message naming ``data``."""

    @ma.pre_load
    def values_outside_data(self, raw: Any, **_kwargs: Any) -> Any:
        if not isinstance(raw, Mapping) or "data" in raw:
            return raw
        stray = sorted(str(name) for name in set(raw) - set(self.fields))
        if stray:
            raise ma.ValidationError({"data": [_(
                'Saknas: värdena ska ligga i "data", t.ex. {"data": {"%(field)s": …}}. Utanför "data" står: %(fields)s.',
                field=stray[0], fields=", ".join(stray))]})
        return raw


class CompleteTaskSchema(DataWrappedSchema):
    data = fields.Dict(load_default=dict, metadata={"description": "Formulärets värden (valideras mot form_schema)."})


class IncidentSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    bpmn_id = fields.String(allow_none=True, metadata={"description": "BPMN-elementet som inte kunde utföras."})
    message = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class InstanceSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "enum": ["running", "incident", "completed", "cancelled"],
        "description": "running, completed eller cancelled; incident: ärendet står still vid ett fel (se incident) "
                       "tills en processägare rättar och kör om det."})
    incident = fields.Nested(IncidentSummarySchema, allow_none=True, required=True, metadata={
        "description": "Det öppna felet som hindrar ärendet, t.ex. en första uppgift som inte kunde tilldelas; "
                       "annars null."})
    process_id = fields.Function(lambda i: i.definition.process_id, required=True, metadata={"type": "string"})
    version = fields.Function(lambda i: i.definition.version, required=True, metadata={"type": "integer"})
    started_by_id = fields.Integer(allow_none=True)
    started_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    open_tasks = fields.Function(lambda i: TASKS_SCHEMA.dump(open_tasks(i)),
                                 required=True, metadata={"type": "array", "items": {"$ref": "#/components/schemas/Task"}})

    @ma.post_dump(pass_original=True)
    def with_incident(self, data: dict[str, Any], instance: ProcessInstance, **_kwargs: Any) -> dict[str, Any]:
        incident = get_open_incident(instance.id) if instance.status == InstanceStatus.RUNNING else None
        data["incident"] = IncidentSummarySchema().dump(incident) if incident is not None else None
        if incident is not None:
            data["status"] = "incident"
        return data


INSTANCE_SCHEMA = InstanceSchema()


class NewInstanceSchema(DataWrappedSchema):
    process_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    data = fields.Dict(load_default=dict, metadata={"description": "Ärendets startdata."})
