"""JSON Schema forms for user tasks: schema checks at deploy, data validation at every submit.

Error messages are Swedish and keyed by the field path (``parties``, ``items/2/name``), so a page can
show each one beside its field and the API can name the field at fault.

``pattern`` and ``patternProperties`` run on RE2, a linear-time engine: with Python's ``re`` a pattern such
as ``^(a+)+$`` took 12 s on 29 characters. RE2 has no backreferences or lookaround; a form using them is
refused at deploy, naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError

from service.errors import BpmnError
from service.messages import Message

_FORMAT_CHECKER = FormatChecker()
# Every date of a form lies in a sane range: 0001-01-01 and 9999-12-31 are typing slips, not dates of a case.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)


def iso_date(value: object) -> date | None:
    """``value`` as a date if it is one written YYYY-MM-DD (RFC 3339 full-date), else None."""
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@_FORMAT_CHECKER.checks("date")
def _sane_date(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the "type" keyword speaks about other types
    parsed = iso_date(value)
    return parsed is not None and EARLIEST_DATE <= parsed <= LATEST_DATE
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, options=_RE2_OPTIONS)


def _reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else ""
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = _compiled(pattern).search(instance)
    except re2.error:  # a form deployed before patterns were checked: refuse the value, never run ``re``
        matched = None
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any,
                        schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if _compiled(pattern).search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


# A page control shares the HTML form with the schema's fields, so no field may take a control's name: controls
# are named with a leading underscore (``_action``: save a draft or complete), and no field name may start with
# one or be the CSRF token (issue #18: a field named ``action`` once decided which button had been pressed).
CONTROL = "_action"
CONTROL_NAMES = frozenset({CONTROL, "csrf_token"})


# Draft 2020-12 with every regular expression of the schema run on RE2.
FormValidator = validators.extend(Draft202012Validator, {"pattern": _pattern, "patternProperties": _pattern_properties})


def check_schema(schema: Mapping[str, Any], reserved: Iterable[str] = ()) -> None:
    """Refuse a schema that is invalid, not an object form, or has a field name we reserve."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise BpmnError(None, f"ogiltigt JSON Schema: {exc.message}") from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise BpmnError(None, 'formuläret ska vara ett objekt med "properties"')
    clashes = sorted(set(schema["properties"]) & (set(reserved) | CONTROL_NAMES))
    bad = sorted(n for n in schema["properties"] if n.startswith("_") or not n.isidentifier())
    if clashes or bad:
        raise BpmnError(None, f"otillåtna fältnamn: {', '.join(sorted(set(clashes + bad)))}")
    for path, pattern in _patterns(schema, ""):
        try:
            _compiled(pattern)
        except re2.error as exc:
            where = f"fältet '{path}'" if path else "formuläret"
            raise BpmnError(None, f"{where}: mönstret {pattern!r} stöds inte ({_reason(exc)}); "
                                  "bakåtreferenser och lookaround går inte att använda") from None


def _patterns(schema: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every ``pattern`` and ``patternProperties`` key of the schema, with the field path it belongs to."""
    if isinstance(schema, list):
        for item in schema:
            yield from _patterns(item, path)
        return
    if not isinstance(schema, Mapping):
        return
    if isinstance(schema.get("pattern"), str):
        yield path, schema["pattern"]
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, Mapping):
            if key == "patternProperties":
                yield from ((path, pattern) for pattern in value)
            for name, subschema in value.items():
                yield from _patterns(subschema, f"{path}/{name}" if path else str(name))
        elif isinstance(value, Mapping | list) and key not in ("enum", "const", "default", "examples"):
            yield from _patterns(value, path)


def validate(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return {field path: [Swedish messages]}; empty when the data is valid.

    Fields the schema does not declare are refused, so a form can never set other process data.
    """
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(schema.get("properties", {}))):
        errors.setdefault(name, []).append("Okänt fält.")
    validator = FormValidator(schema, format_checker=_FORMAT_CHECKER)
    for error in sorted(validator.iter_errors(dict(data)), key=lambda e: list(map(str, e.path))):
        path, message = _describe(error)
        errors.setdefault(path, []).append(message)
    return errors


def defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared field with its default (or None): scripts can then name optional fields."""
    return {name: prop.get("default") for name, prop in schema.get("properties", {}).items()}


def _describe(error: ValidationError) -> tuple[str, str]:
    path = "/".join(str(p) for p in error.absolute_path)
    keyword, value = error.validator, error.validator_value
    if keyword == "required":
        missing = next((name for name in value if name in error.message.split("'")), "")
        return _join(path, missing), "Fältet måste fyllas i."
    if keyword == "dependentRequired":
        return path, "Fältet måste fyllas i."
    return path, _MESSAGES.get(str(keyword), _fallback)(value, error)


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _fallback(value: Any, error: ValidationError) -> str:
    return Message("Ogiltigt värde (%(reason)s).", reason=error.message)


_FORMAT_MESSAGES: dict[str, str] = {"date": "Ange ett datum (ÅÅÅÅ-MM-DD).", "email": "Ange en e-postadress."}


def _format_message(name: str, value: Any) -> str:
    if name == "date" and iso_date(value) is not None:
        return Message("Ange ett datum mellan %(first)s och %(last)s.", first=EARLIEST_DATE.isoformat(),
                       last=LATEST_DATE.isoformat())
    return _FORMAT_MESSAGES.get(name, Message("Fel format (%(format)s).", format=name))


# Messages with values are Messages: Swedish as they stand, translated where shown (service.i18n.translate).
_TYPE_MESSAGES: dict[str, str] = {
    "string": "Fel typ av värde (ska vara text).", "integer": "Fel typ av värde (ska vara heltal).",
    "number": "Fel typ av värde (ska vara tal).", "boolean": "Fel typ av värde (ska vara ja/nej).",
    "array": "Fel typ av värde (ska vara lista).", "object": "Fel typ av värde (ska vara objekt).",
}

_MESSAGES: dict[str, Any] = {
    "type": lambda v, e: Message(_TYPE_MESSAGES.get(str(v), "Fel typ av värde (ska vara %(type)s)."), type=v),
    "minLength": lambda v, e: "Fältet måste fyllas i." if v == 1 else Message("Minst %(n)s tecken.", n=v),
    "maxLength": lambda v, e: Message("Högst %(n)s tecken.", n=v),
    "minItems": lambda v, e: Message("Välj minst %(n)s.", n=v),
    "maxItems": lambda v, e: Message("Välj högst %(n)s.", n=v),
    "uniqueItems": lambda v, e: "Samma värde får bara väljas en gång.",
    "enum": lambda v, e: "Välj ett av alternativen.",
    "oneOf": lambda v, e: "Välj ett av alternativen.",
    "const": lambda v, e: "Ogiltigt värde.",
    "format": lambda v, e: _format_message(str(v), e.instance),
    "pattern": lambda v, e: "Värdet har fel format.",
    "minimum": lambda v, e: Message("Minst %(n)s.", n=v),
    "maximum": lambda v, e: Message("Högst %(n)s.", n=v),
}
