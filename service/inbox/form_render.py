"""Render a task's JSON Schema as HTML form fields, and read a submitted HTML form back as typed data.

Supported: text, long text (``x-widget: textarea``), dates (``format: date``), choices (``enum`` or
``oneOf`` of ``const`` with ``title``), integers chosen from options the server provides
(``x-options``), multiple choice (arrays of such), yes/no (boolean), lists of repeated items (an array
of objects: one row per item plus an empty one; inputs named ``field-<row>-<name>``) and file
attachments (``x-widget: file``: the value is the id of a stored attachment, see attachments.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from service.i18n import translate
from service.inbox.form_texts import translated_schema


@dataclass
class Field:
    name: str
    label: str
    widget: str  # text, textarea, date, select, radio, checkboxes, checkbox, number, items, file
    is_required: bool
    value: Any
    description: str = ""
    group: str = ""
    choices: Sequence[tuple[str, str]] = field(default_factory=list)
    errors: Sequence[str] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)  # widget "items": one list of fields per item
    accept: str = ""  # widget "file": the allowed content types

    def is_chosen(self, choice: str) -> bool:
        if isinstance(self.value, list):
            return choice in {str(v) for v in self.value}
        return self.value is not None and str(self.value) == choice


def build_fields(schema: Mapping[str, Any], values: Mapping[str, Any], errors: Mapping[str, Sequence[str]],
                 options: Mapping[str, Sequence[tuple[int, str]]]) -> list[Field]:
    """One Field per schema property, in schema order, with its current value and errors, in the reader's
    language (form_texts.py)."""
    schema = translated_schema(schema)
    required = set(schema.get("required", []))
    return [_field(name, prop, name in required, values.get(name), errors.get(name, []), options, errors)
            for name, prop in schema.get("properties", {}).items()]


def _field(name: str, prop: Mapping[str, Any], is_required: bool, value: Any, errors: Sequence[str],
           options: Mapping[str, Sequence[tuple[int, str]]], all_errors: Mapping[str, Sequence[str]] | None = None) -> Field:
    widget, choices = _widget(prop, options)
    result = Field(name=name, label=prop.get("title", name), widget=widget, is_required=is_required, value=value,
                   description=prop.get("description", ""), group=prop.get("x-group", ""), choices=choices,
                   errors=[translate(error) for error in errors], accept=",".join(prop.get("x-accept", [])))
    if widget == "items":
        result.rows = _rows(name, prop, value if isinstance(value, list) else [], all_errors or {}, options)
    return result


def _rows(name: str, prop: Mapping[str, Any], items: list[Any], errors: Mapping[str, Sequence[str]],
          options: Mapping[str, Sequence[tuple[int, str]]]) -> list[list[Field]]:
    """A row per item, then empty rows up to ``minItems`` or one more (unless ``maxItems`` is reached)."""
    item_schema = prop.get("items", {})
    required = set(item_schema.get("required", []))
    count = max(len(items) + 1, int(prop.get("minItems", 1)))
    count = min(count, int(prop.get("maxItems", count)))
    rows = []
    for index in range(max(count, len(items))):
        item = items[index] if index < len(items) and isinstance(items[index], Mapping) else {}
        rows.append([_field(f"{name}-{index}-{sub}", sub_prop, sub in required, item.get(sub),
                            errors.get(f"{name}/{index}/{sub}", []), options)
                     for sub, sub_prop in item_schema.get("properties", {}).items()])
    return rows


def _widget(prop: Mapping[str, Any], options: Mapping[str, Sequence[tuple[int, str]]]) -> tuple[str, list[tuple[str, str]]]:
    if prop.get("x-widget") == "file":
        return "file", []
    if _type(prop) == "array" and prop.get("items", {}).get("type") == "object":
        return "items", []
    if "x-options" in prop:
        choices = [(str(key), label) for key, label in options.get(prop["x-options"], [])]
        return ("checkboxes" if prop.get("type") == "array" else "select"), choices
    if "oneOf" in prop:
        return "radio", [(str(item["const"]), item.get("title", str(item["const"]))) for item in prop["oneOf"]]
    if "enum" in prop:
        return "select", [(str(item), translate(str(item))) for item in prop["enum"]]
    kind = _type(prop)
    if kind == "boolean":
        return "checkbox", []
    if kind in ("integer", "number"):
        return "number", []
    if prop.get("format") == "date":
        return "date", []
    return ("textarea" if prop.get("x-widget") == "textarea" else "text"), []


def _type(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), "string")
    return str(kind)


def parse_submission(schema: Mapping[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """Typed data from an HTML form: empty fields are left out, so ``required`` reports them.

    A value that cannot be converted is kept as text; schema validation then names the field.
    """
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = _type(prop)
        if prop.get("x-widget") == "file":
            if form.get(name, "").strip():  # the attachment already stored (a draft); a new upload replaces it
                data[name] = _convert("integer", form[name].strip())
        elif kind == "array" and prop.get("items", {}).get("type") == "object":
            items = _parse_items(name, prop["items"], form)
            if items or any(key.startswith(f"{name}-") for key in form):
                data[name] = items
        elif kind == "array":
            items = [_convert(_type(prop.get("items", {})), v) for v in form.getlist(name) if v.strip()]
            if items or name in form:
                data[name] = items
        elif kind == "boolean":
            data[name] = form.get(name) in ("on", "true", "1")
        elif form.get(name, "").strip():
            data[name] = _convert(kind, form[name].strip() if kind != "string" else form[name])
    return data


def _convert(kind: str, raw: str) -> Any:
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    return raw


def _parse_items(name: str, item_schema: Mapping[str, Any], form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The rows of a list of repeated items, in order; a row left entirely empty is not an item."""
    items = []
    index = 0
    while any(key.startswith(f"{name}-{index}-") for key in form):
        prefix = f"{name}-{index}-"
        sub_form: MultiDict[str, str] = MultiDict(
            [(key[len(prefix):], value) for key, value in form.items(multi=True) if key.startswith(prefix)])
        item = parse_submission(item_schema, sub_form)
        if any(value not in (None, "", [], False) for value in item.values()):
            items.append(item)
        index += 1
    return items
