"""File attachments of task forms, stored in the database with size and type limits.

A form field ``{"type": "integer", "x-widget": "file"}`` holds the id of a stored attachment. It may set
``x-accept`` (content types) and ``x-max-bytes``; otherwise the defaults below apply.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from service import audit
from service.errors import ValidationFailed
from service.extensions import db
from service.inbox.models import Attachment
from service.messages import Message
from service.parties.models import User
from service.processes.models import HumanTask

DEFAULT_ACCEPT = ("application/pdf", "image/png", "image/jpeg", "text/plain",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def file_fields(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {name: prop for name, prop in schema.get("properties", {}).items() if prop.get("x-widget") == "file"}


def store_uploads(task: HumanTask, schema: Mapping[str, Any], files: MultiDict[str, FileStorage],
                  values: dict[str, Any], *, by: User) -> dict[str, Any]:
    """Store each uploaded file of ``task``'s form and put its id into ``values``; refuse (naming the
    field) a file of a type or size the field does not allow, or an id of another case's attachment."""
    errors: dict[str, list[str]] = {}
    for name, prop in file_fields(schema).items():
        upload = files.get(name)
        if upload is not None and upload.filename:
            stored = _store(task, name, prop, upload, by, errors)
            if stored is not None:
                values[name] = stored.id
        elif name in values and not _belongs(values[name], task):
            errors[name] = ["Bilagan finns inte i det här ärendet."]
    if errors:
        raise ValidationFailed("Bilagan kunde inte tas emot. Inget har sparats.", errors)
    return values


def _store(task: HumanTask, name: str, prop: Mapping[str, Any], upload: FileStorage, by: User,
           errors: dict[str, list[str]]) -> Attachment | None:
    accept = tuple(prop.get("x-accept", DEFAULT_ACCEPT))
    limit = int(prop.get("x-max-bytes", DEFAULT_MAX_BYTES))
    content_type = _content_type(upload)
    if content_type not in accept:
        errors[name] = [Message("Filtypen (%(type)s) är inte tillåten. Tillåtna: %(allowed)s.", type=content_type,
                                 allowed=", ".join(_labels(accept)))]
        return None
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        errors[name] = [Message("Filen är för stor (högst %(size)s).", size=_size(limit))]
        return None
    if not content:
        errors[name] = ["Filen är tom."]
        return None
    attachment = Attachment(instance_id=task.instance_id, task_id=task.id, field=name,
                            filename=_safe_name(upload.filename or name), content_type=content_type,
                            size=len(content), content=content, uploaded_by_id=by.id)
    db.session.add(attachment)
    db.session.flush()
    audit.record(by, "attachment.uploaded", attachment, instance_id=task.instance_id, task_id=task.task_id,
                 field=name, filename=attachment.filename, size=attachment.size, content_type=content_type)
    return attachment


def _content_type(upload: FileStorage) -> str:
    """The type the file name implies: a browser's own claim is not trusted over the extension."""
    guessed, _ = mimetypes.guess_type(upload.filename or "")
    return guessed or upload.mimetype or "application/octet-stream"


def _belongs(value: Any, task: HumanTask) -> bool:
    attachment = db.session.get(Attachment, value) if isinstance(value, int) else None
    return attachment is not None and attachment.instance_id == task.instance_id


def _safe_name(filename: str) -> str:
    return filename.replace("\\", "/").rsplit("/", 1)[-1][:255] or "bilaga"


def _labels(accept: tuple[str, ...]) -> list[str]:
    return sorted({(mimetypes.guess_extension(t) or t).lstrip(".") for t in accept})


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} kB"


def get_attachments(ids: list[int]) -> dict[int, Attachment]:
    return {a.id: a for a in db.session.query(Attachment).filter(Attachment.id.in_(ids))} if ids else {}
