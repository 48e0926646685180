"""Request limits: body size, JSON nesting, NUL bytes and lone surrogates; and the engine's script limits.

A 200 MB JSON body was parsed in full before being refused; JSON nested 100 000 deep, a NUL byte or a lone
surrogate (``"\\ud800"``, which no database column can store) gave 500s. Each is now a 4xx naming the field,
before the view runs: the API's problem document, or the Swedish error page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from service.engine import sandbox, scripting

_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class RequestRefused(BadRequest):
    """Bad input found before the view ran; ``field`` names where (a JSON path, form or query field)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(description=message)
        self.field = field
        # api/errors.http_problem reads these: the problem document names the field.
        self.data = {"message": message, "messages": {field or "body": [message]}}


def init_app(app: Flask) -> None:
    """Register this defence's hooks on ``app``."""
    app.config.setdefault("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
    app.config.setdefault("MAX_JSON_DEPTH", 64)
    # The engine has no Flask: its limits are module settings, set here from the configuration.
    scripting.DEFAULT_TIME_LIMIT_S = app.config.get("SCRIPT_TIME_LIMIT_MS", 1000) / 1000
    sandbox.LIMITS.memory_bytes = app.config.get("SCRIPT_MEMORY_MB", 512) * 1024 * 1024
    app.before_request(_check_request)
    app.register_error_handler(RequestRefused, _render_refusal)
    app.register_error_handler(RequestEntityTooLarge, _render_too_large)


def _check_request() -> None:
    """Refuse an oversized body before anything reads it, then bad characters and nesting anywhere."""
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge(f"Begäran är för stor (högst {limit // (1024 * 1024)} MB).")
    for name, values in request.args.lists():
        _check_text(name, "query")
        for value in values:
            _check_text(value, name)
    if request.method not in _BODY_METHODS or request.url_rule is None:
        return
    if request.mimetype == "application/x-www-form-urlencoded" or request.mimetype == "multipart/form-data":
        for name, values in request.form.lists():
            _check_text(name, "form")
            for value in values:
                _check_text(value, name)
    elif request.is_json:
        _check_json(int(current_app.config["MAX_JSON_DEPTH"]))


def _check_json(depth_limit: int) -> None:
    try:
        document = request.get_json(silent=True)  # parsed once: the view gets Flask's cached copy
    except RecursionError:  # json.loads gives up past Python's recursion limit: not ValueError, so not silent
        raise RequestRefused(_too_deep(depth_limit), "body") from None
    for path, depth, value in _walk(document):
        if depth > depth_limit and isinstance(value, dict | list):
            raise RequestRefused(_too_deep(depth_limit), path)
        if isinstance(value, str):
            _check_text(value, path or "body")


def _too_deep(depth_limit: int) -> str:
    # Translated only when refusing: gettext (locale negotiation, catalogue lookup) was ~1% of every JSON
    # request's time (cProfile, issue #23).
    return _("JSON-dokumentet är för djupt nästlat (högst %(depth)s nivåer).", depth=depth_limit)


def _walk(document: Any) -> Iterator[tuple[str, int, Any]]:
    """Every key and value with its path and depth (the document itself: 1), without recursion."""
    stack: list[tuple[str, int, Any]] = [("", 1, document)]
    while stack:
        path, depth, value = stack.pop()
        yield path, depth, value
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                yield child, depth + 1, str(key)
                stack.append((child, depth + 1, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", depth + 1, item) for index, item in enumerate(value))


def _check_text(value: str, field: str) -> None:
    if "\x00" in value:
        raise RequestRefused(_("Fältet innehåller ett NUL-tecken, som inte är tillåtet."), field)
    if _has_lone_surrogate(value):
        raise RequestRefused(_("Fältet innehåller ett ogiltigt tecken (ett ensamt surrogattecken)."), field)


def _has_lone_surrogate(value: str) -> bool:
    """Encoding to UTF-8 fails on a lone surrogate only; no database column can store one."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _render_refusal(error: RequestRefused) -> Response | tuple[str, int]:
    if (request.blueprint or "").startswith("api"):
        from service.api.errors import http_problem

        return http_problem(error)
    detail = f"”{error.field}”: {error.description}" if error.field else error.description
    return render_template("inbox/error.html", message=_("Begäran innehåller otillåtna uppgifter."), detail=detail), 400


def _render_too_large(error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    limit = (request.max_content_length or 0) // (1024 * 1024)
    detail = _("Begäran får vara högst %(limit)s MB.", limit=limit)
    if (request.blueprint or "").startswith("api") or request.path.startswith("/api/"):
        from service.api.errors import problem

        return problem(413, None, detail)
    return render_template("inbox/error.html", message=_("Begäran är för stor."), detail=detail), 413
