"""JSON Schema forms for user tasks: schema checks at deploy, data validation at every submit.

Error messages are Swedish and keyed by the field path (``parties``, ``items/2/name``), so a page can
show each one beside its field and the API can name the field at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from service.errors import BpmnError

_FORMAT_CHECKER = FormatChecker()


def check_schema(schema: Mapping[str, Any], reserved: Iterable[str] = ()) -> None:
    """Refuse a schema that is invalid, not an object form, or has a field name we reserve."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise BpmnError(None, f"ogiltigt JSON Schema: {exc.message}") from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise BpmnError(None, 'formuläret ska vara ett objekt med "properties"')
    clashes = sorted(set(schema["properties"]) & set(reserved))
    bad = sorted(n for n in schema["properties"] if n.startswith("_") or not n.isidentifier())
    if clashes or bad:
        raise BpmnError(None, f"otillåtna fältnamn: {', '.join(clashes + bad)}")


def validate(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return {field path: [Swedish messages]}; empty when the data is valid.

    Fields the schema does not declare are refused, so a form can never set other process data.
    """
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(schema.get("properties", {}))):
        errors.setdefault(name, []).append("Okänt fält.")
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
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
    return f"Ogiltigt värde ({error.message})."


_FORMAT_MESSAGES: dict[str, str] = {"date": "Ange ett datum (ÅÅÅÅ-MM-DD).", "email": "Ange en e-postadress."}
_TYPE_NAMES: dict[str, str] = {
    "string": "text", "integer": "heltal", "number": "tal", "boolean": "ja/nej", "array": "lista", "object": "objekt",
}

_MESSAGES: dict[str, Any] = {
    "type": lambda v, e: f"Fel typ av värde (ska vara {_TYPE_NAMES.get(str(v), v)}).",
    "minLength": lambda v, e: "Fältet måste fyllas i." if v == 1 else f"Minst {v} tecken.",
    "maxLength": lambda v, e: f"Högst {v} tecken.",
    "minItems": lambda v, e: f"Välj minst {v}.",
    "maxItems": lambda v, e: f"Välj högst {v}.",
    "uniqueItems": lambda v, e: "Samma värde får bara väljas en gång.",
    "enum": lambda v, e: "Välj ett av alternativen.",
    "oneOf": lambda v, e: "Välj ett av alternativen.",
    "const": lambda v, e: "Ogiltigt värde.",
    "format": lambda v, e: _FORMAT_MESSAGES.get(v, f"Fel format ({v})."),
    "pattern": lambda v, e: "Värdet har fel format.",
    "minimum": lambda v, e: f"Minst {v}.",
    "maximum": lambda v, e: f"Högst {v}.",
}
