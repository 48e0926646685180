"""Our own pages with a JSON Schema form (reporting a deviation, opening a dispute): the same schema
handling and field rendering as task pages, with server-provided choices."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app, request

from service.engine import forms
from service.inbox.form_render import Field, build_fields, parse_submission


def load_form(name: str) -> dict[str, Any]:
    """A schema from forms/, re-read when the file changes."""
    path = Path(current_app.config["FORMS_DIR"]) / name
    return _read(str(path), path.stat().st_mtime)


@lru_cache(maxsize=16)
def _read(path: str, mtime: float) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return schema


def read_submission(schema: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The posted form as typed data (declared fields with defaults) and its errors by field."""
    values = parse_submission(schema, request.form)
    return {**forms.defaults(schema), **values}, forms.validate(schema, values)


def fields_for(schema: Mapping[str, Any], values: Mapping[str, Any], errors: Mapping[str, Sequence[str]],
               options: Mapping[str, Sequence[tuple[int, str]]]) -> list[Field]:
    """The page's fields; every ``x-options`` list the form names must be one the page provides (issue #18: a
    misnamed list once rendered the required "Din part" empty, and nobody could open a dispute)."""
    named = {prop["x-options"] for prop in schema.get("properties", {}).values() if "x-options" in prop}
    if named - set(options):
        raise LookupError(f"the page provides no x-options {sorted(named - set(options))}")
    return build_fields(schema, values, errors, options)
