"""A form's texts in the reader's language.

Forms (forms/*.json, and forms edited in the modeller) are written in Swedish: each title, description, group
heading (``x-group``), choice title (``oneOf`` items) and enum value shown as a label is its own msgid in the
gettext catalogue, translated when a page or the API shows the form. The form files stay Swedish-first; a
text the catalogue lacks is shown as written. tests/inbox/test_form_translations.py holds every form in
forms/ to having an English entry for each of its texts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from service.i18n import translate

TEXT_KEYS = ("title", "description", "x-group")
# Keywords whose values are data, not schemas: nothing under them is shown as text.
DATA_KEYS = ("enum", "const", "default", "examples")
# Conditions on the data: their fields are not shown (an ``enum`` there is a test, not a list of choices).
CONDITION_KEYS = ("if", "not", "dependentSchemas", "contains")


def form_texts(schema: Any, *, shown: bool = True) -> Iterator[str]:
    """Every text of the form shown to a reader: titles, descriptions, groups, and enum values of fields."""
    if isinstance(schema, list):
        for item in schema:
            yield from form_texts(item, shown=shown)
        return
    if not isinstance(schema, Mapping):
        return
    for key, value in schema.items():
        if key in TEXT_KEYS and isinstance(value, str):
            yield value
        elif key == "properties" and isinstance(value, Mapping):
            for prop in value.values():
                yield from _enum_labels(prop) if shown else ()
                yield from form_texts(prop, shown=shown)
        elif key not in DATA_KEYS and isinstance(value, Mapping | list):
            yield from form_texts(value, shown=shown and key not in CONDITION_KEYS)


def _enum_labels(prop: Any) -> Iterator[str]:
    """The values of a field's ``enum`` (or its items'), which the form shows as the choices' labels."""
    for holder in (prop, prop.get("items") if isinstance(prop, Mapping) else None):
        if isinstance(holder, Mapping) and isinstance(holder.get("enum"), list):
            yield from (str(value) for value in holder["enum"])


def translated_schema(schema: Mapping[str, Any], translate_text: Callable[[str], str] = translate) -> dict[str, Any]:
    """A copy of the schema with its texts in the reader's language (values, enums and keys unchanged)."""
    return _translated(schema, translate_text)


def _translated(node: Any, translate_text: Callable[[str], str]) -> Any:
    if isinstance(node, list):
        return [_translated(item, translate_text) for item in node]
    if not isinstance(node, Mapping):
        return node
    copy: dict[str, Any] = {}
    for key, value in node.items():
        if key in TEXT_KEYS and isinstance(value, str):
            copy[key] = translate_text(value)
        elif key == "properties" and isinstance(value, Mapping):
            copy[key] = {name: _translated(prop, translate_text) for name, prop in value.items()}
        elif key in DATA_KEYS:
            copy[key] = value
        else:
            copy[key] = _translated(value, translate_text)
    return copy
