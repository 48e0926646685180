"""Tasks: list mine and my groups', claim and release, read one with its form, save a draft, complete it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from service import access
from service.api.auth import api_user, require_write
from service.api.base import resource
from service.api.errors import ApiProblem
from service.api.etags import check_if_match, etag_of
from service.api.idempotency import run_idempotent
from service.api.paging import json_response, page_response, paginate_query
from service.api.schemas import (
    TASK_SCHEMA,
    TASKS_SCHEMA,
    CompletedTaskSchema,
    CompleteTaskSchema,
    TaskDetailSchema,
    TaskListArgs,
    TaskPageSchema,
    TaskSchema,
)
from service.extensions import db
from service.inbox.form_texts import translated_schema
from service.parties.models import User
from service.processes.claims import claim_task, release_task
from service.processes.definitions import form_schema
from service.processes.models import HumanTask, ProcessInstance
from service.processes.operations import complete_with_open_tasks, form_values, save_task_draft, visible_to
from service.transactions import commit_with_retry

bp = resource("tasks", "Uppgifter: mina och mina gruppers, utkast och slutförande.")
IF_MATCH = {"in": "header", "name": "If-Match", "schema": {"type": "string"}}
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 200}}
SORT_COLUMNS = {"due_at": HumanTask.due_at, "created_at": HumanTask.created_at, "name": HumanTask.name,
                "id": HumanTask.id}


@bp.get("/tasks")
@bp.arguments(TaskListArgs, location="query")
@bp.response(200, TaskPageSchema)
def list_tasks(args: dict[str, Any]) -> Response:
    """List the open tasks named to me or offered to my groups."""
    user = api_user()
    query = select(HumanTask).where(visible_to(user))
    if "organisation_id" in args:
        query = query.where(HumanTask.organisation_id == args["organisation_id"])
    if "bpmn_id" in args:
        query = query.where(HumanTask.bpmn_id == args["bpmn_id"])
    if args.get("assigned") == "me":
        query = query.where(or_(HumanTask.user_id == user.id, HumanTask.claimed_by_id == user.id))
    elif args.get("assigned") == "group":
        query = query.where(HumanTask.user_id.is_(None), HumanTask.claimed_by_id.is_(None))
    # Paged in the database: a person in many groups can see thousands of tasks. The page's case titles come
    # along (not the instances' engine state).
    load = [joinedload(HumanTask.instance).load_only(ProcessInstance.title)]
    return page_response(paginate_query(query, args, SORT_COLUMNS, load), TaskSchema)


@bp.get("/tasks/<int(max=2147483647):task_id>")
@bp.response(200, TaskDetailSchema)
def get_task(task_id: int) -> Response:
    """Read a task with its form (JSON Schema) and its current values."""
    task = visible_task(api_user(), task_id)
    return json_response(task_detail(task), headers={"ETag": task_etag(task)})


@bp.put("/tasks/<int(max=2147483647):task_id>/draft")
@bp.arguments(CompleteTaskSchema)
@bp.response(200, TaskDetailSchema)
@bp.doc(parameters=[{**IF_MATCH, "required": True}])
def save_draft(fields: dict[str, Any], task_id: int) -> Response:
    """Save form values without completing the task (If-Match required)."""
    user = require_write()
    task = visible_task(user, task_id)
    check_if_match(task_etag(task), required=True)
    task = commit_with_retry(lambda: save_task_draft(task_id, fields["data"], by=user))
    return json_response(task_detail(task), headers={"ETag": task_etag(task)})


@bp.post("/tasks/<int(max=2147483647):task_id>/complete")
@bp.arguments(CompleteTaskSchema)
@bp.response(200, CompletedTaskSchema)
@bp.doc(parameters=[IF_MATCH, IDEMPOTENCY_KEY])
def complete(fields: dict[str, Any], task_id: int) -> Response:
    """Complete a task with form data; 422 names the fields at fault, 409 if it is already done."""
    user = require_write()

    def check(task: HumanTask) -> None:  # under the instance's lock, before anything changes
        check_if_match(task_etag(_visible(user, task)), required=False)

    def action() -> tuple[dict[str, Any], int]:
        done = complete_with_open_tasks(task_id, fields["data"], by=user, check=check)
        next_tasks = [other for other in done.open_tasks if access.can_work_on(user, other)]
        return {**TASK_SCHEMA.dump(done.task), "next_tasks": TASKS_SCHEMA.dump(next_tasks)}, 200

    return run_idempotent(user, action)


@bp.post("/tasks/<int(max=2147483647):task_id>/claim")
@bp.response(200, TaskSchema)
def claim(task_id: int) -> Response:
    """Take a task offered to one of my groups (409 if a colleague took it first)."""
    return _change_claim(task_id, claim_task)


@bp.post("/tasks/<int(max=2147483647):task_id>/release")
@bp.response(200, TaskSchema)
def release(task_id: int) -> Response:
    """Give a task I have taken back to the group."""
    return _change_claim(task_id, release_task)


def _change_claim(task_id: int, change: Callable[..., HumanTask]) -> Response:
    user = require_write()
    group_task(user, task_id)
    return json_response(TASK_SCHEMA.dump(commit_with_retry(lambda: change(task_id, by=user))))


def group_task(user: User, task_id: int) -> HumanTask:
    """For claim and release: the task if it is offered to one of ``user``'s groups (even if a colleague has
    taken it, so the answer can be 409 "taken"), or visible to them; 404 otherwise."""
    task = db.session.get(HumanTask, task_id)
    if task is None or not (access.holds_task_group(user, task) or access.can_view_task(user, task)):
        raise ApiProblem(404, "not-found", "Uppgiften finns inte.")
    return task


def visible_task(user: User, task_id: int) -> HumanTask:
    """The task if ``user`` may see it (offered to them, done by them, or an auditor); 404 otherwise, as on the web."""
    return _visible(user, db.session.get(HumanTask, task_id))


def _visible(user: User, task: HumanTask | None) -> HumanTask:
    if task is None or not (access.can_view_task(user, task) or task.completed_by_id == user.id):
        raise ApiProblem(404, "not-found", "Uppgiften finns inte.")
    return task


def task_detail(task: HumanTask) -> dict[str, Any]:
    detail: dict[str, Any] = TASK_SCHEMA.dump(task)
    # The form's texts in the request's language (Accept-Language), as the API's messages are.
    detail["form_schema"] = translated_schema(form_schema(task.instance.definition, task.form)) if task.form else {}
    detail["values"] = form_values(task) if task.is_ready else {}
    return detail


def task_etag(task: HumanTask) -> str:
    return etag_of("task", task.id, task.status, task.user_id, task.draft_saved_at)
