"""Domain errors. Raised by operations, rendered by api/ as JSON and by inbox/ as Swedish messages."""

from __future__ import annotations


class SamverkanError(Exception):
    """Base class: a refusal the user can act on. ``message`` is Swedish, shown as is."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(SamverkanError):
    status = 404


class NotPermitted(SamverkanError):
    status = 403


class InvalidTransition(SamverkanError):
    """The object is not in a state that allows this change."""

    status = 409


class Conflict(SamverkanError):
    """Somebody else changed the same thing first (a task already completed, a stale version)."""

    status = 409


class ValidationFailed(SamverkanError):
    """Input refused; ``fields`` maps a field path to its Swedish messages."""

    status = 422

    def __init__(self, message: str, fields: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.fields = fields


class BpmnError(SamverkanError):
    """A diagram (or a script in it) is refused; ``element_id`` names the BPMN element at fault."""

    status = 422

    def __init__(self, element_id: str | None, message: str) -> None:
        where = f"BPMN-element '{element_id}': " if element_id else ""
        super().__init__(f"{where}{message}")
        self.element_id = element_id
        self.detail = message


class ScriptRejected(BpmnError):
    """A script, condition or expression uses something outside the restricted environment."""
