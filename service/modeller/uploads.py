"""What a process owner uploads to import a model: one BPMN file and the JSON files beside it, or a zip of them.

SpiffArena keeps a process model as a folder (the .bpmn, each form's JSON Schema and RJSF uiSchema, and
process_model.json); exported, it is a zip. Only .bpmn and .json files are read, by their file names.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from service.errors import ValidationFailed
from service.messages import Message

MAX_FILES = 100
MAX_TOTAL_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Bundle:
    """An uploaded model and the JSON files beside it, by file name (as text)."""

    filename: str
    xml: bytes
    files: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The bundle as one text, carried by the mapping page to the import (checked again there)."""
        return json.dumps({"filename": self.filename, "xml": self.xml.decode("utf-8"), "files": dict(self.files)})

    @classmethod
    def from_json(cls, text: str) -> Bundle:
        try:
            data = json.loads(text)
            return cls(str(data["filename"]), str(data["xml"]).encode("utf-8"),
                       {str(k): str(v) for k, v in dict(data.get("files") or {}).items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValidationFailed("Ladda upp modellen igen.", {"bundle": ["Uppladdningen saknas eller är skadad."]}) from None


def read_uploads(uploads: Iterable[tuple[str, bytes]]) -> Bundle:
    """One .bpmn file and the JSON files beside it, from single files or zip archives (folders flattened)."""
    files: dict[str, bytes] = {}
    for name, content in uploads:
        entries = _unzipped(name, content) if name.lower().endswith(".zip") else [(name, content)]
        for entry_name, entry in entries:
            base = PurePosixPath(entry_name.replace("\\", "/")).name
            if base.lower().endswith((".bpmn", ".json")) and not base.startswith("."):
                files[base] = entry
    if sum(len(content) for content in files.values()) > MAX_TOTAL_BYTES or len(files) > MAX_FILES:
        raise ValidationFailed("Uppladdningen är för stor.", {"files": [Message("Högst %(files)s filer och 10 MB.",
                                                                              files=MAX_FILES)]})
    models = sorted(name for name in files if name.lower().endswith(".bpmn"))
    if len(models) != 1:
        message = (Message("Ladda upp en BPMN-fil.") if not models
                   else Message("Ladda upp en BPMN-fil i taget, inte %(files)s.", files=", ".join(models)))
        raise ValidationFailed("Uppladdningen saknar en modell.", {"files": [message]})
    texts = {name: _text(name, content) for name, content in files.items() if name != models[0]}
    return Bundle(models[0], files[models[0]], texts)


def _unzipped(name: str, content: bytes) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = [info for info in archive.infolist() if not info.is_dir() and not info.filename.startswith("__MACOSX/")]
        if len(infos) > MAX_FILES or sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
            raise ValidationFailed("Uppladdningen är för stor.", {"files": [Message(
                "%(name)s: högst %(files)s filer och 10 MB.", name=name, files=MAX_FILES)]})
        return [(info.filename, archive.read(info)) for info in infos]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError):
        refusal = Message("%(name)s är ingen läsbar zip-fil.", name=name)
        raise ValidationFailed("Zip-filen kan inte läsas.", {"files": [refusal]}) from None


def _text(name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        refusal = Message("%(name)s är inte text i UTF-8.", name=name)
        raise ValidationFailed("En fil är inte UTF-8.", {"files": [refusal]}) from None


def with_ui_schema(schema: dict[str, Any], ui_schema: Mapping[str, Any]) -> dict[str, Any]:
    """Carry an RJSF uiSchema over to our form: ``ui:order`` orders the fields, ``ui:widget: textarea`` is our
    ``x-widget``, ``ui:help`` a field's description. Other hints have no counterpart and are left out."""
    properties = dict(schema.get("properties") or {})
    order = [name for name in ui_schema.get("ui:order", []) if name in properties]
    properties = {name: properties[name] for name in [*order, *(n for n in properties if n not in order)]}
    for name, hints in ui_schema.items():
        if name not in properties or not isinstance(hints, Mapping) or not isinstance(properties[name], Mapping):
            continue
        prop = dict(properties[name])
        if hints.get("ui:widget") == "textarea":
            prop["x-widget"] = "textarea"
        if isinstance(hints.get("ui:help"), str) and "description" not in prop:
            prop["description"] = hints["ui:help"]
        properties[name] = prop
    return {**schema, "properties": properties}
