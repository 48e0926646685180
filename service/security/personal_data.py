"""No Swedish personal identity number in anything a user or API client writes (issue #17, finding 3).

Case text is kept for years and copied into the append-only audit log, which disposal (gallring) never
reaches: the person concerned must not be identifiable from it. A personnummer is YYMMDD-NNNC or
YYYYMMDD-NNNC (C a Luhn check digit over YYMMDDNNN; '+' instead of '-' from the year the person turns 100);
a samordningsnummer has the day plus 60. Before looking, text is normalised: NFKC (fullwidth digits),
invisible and combining characters removed (zero-width space, soft hyphen, word joiner), any digit of
another script read as its value, and any dash, minus, space, line break, dot or slash read as a separator.
Numbers failing the date or the checksum (phone numbers, diarienummer) pass, and so do generated ids (UUIDs,
hex hashes) whose digits happen to read as one.

Enforced once per write request (``_guard_request``: every form field but passwords and the CSRF token, every
string and key of a JSON body by its path, every uploaded file name, every query argument) before a view
runs, and again by ``audit.record`` on what it is about to chain (the CLI and the scheduler write without a
request). A view that shows the refusal in its own form (``refused_in_form``) runs, but cannot commit.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, g, has_request_context, render_template, request
from flask_babel import gettext
from sqlalchemy import event
from sqlalchemy.orm import Session
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.se import personnummer
from werkzeug.wrappers import Response

from service.errors import ValidationFailed

P = ParamSpec("P")
R = TypeVar("R")

_SEPARATOR = "-"
_EXTRA_SEPARATORS = "./\u2212\u2215\u2044\u2043"  # dot, slash, minus sign, division and fraction slash, hyphen bullet
# Linear: bounded quantifiers only, so each starting position costs a constant. Date and serial may be split
# by up to three separators (811228 - 9874) or the centenarian's '+', the serial's halves by one (811228-98 74).
# The date is six or eight digits together: an ISO date and a time ("2026-12-03 14.30") is no candidate.
_CANDIDATE = re.compile(r"(?<!\d)(?P<century>\d{2})?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
                        r"(?P<sep>-{0,3}|\+)(?P<serial>\d{2}-?\d{2})(?!\d)")
# A generated id (a UUID: the engine's task ids, API request ids) is no number someone wrote, even when a run of
# its hex digits happens to read as a date and a valid check digit across its groups.
_UUID = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Za-z])")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NOT_TEXT = ("password", "losenord", "csrf_token")
_PENDING, _ARMED = "personal_data_refusal", "personal_data_refusal_armed"


class PersonalDataFound(ValidationFailed):
    """A written value holds a personnummer or samordningsnummer; ``fields`` names each field and place."""


@dataclass(frozen=True)
class Finding:
    """Where in a text an identity number was found (1-based line and columns of the original text)."""

    line: int
    first_column: int
    last_column: int
    masked: str

    def describe(self) -> str:
        return f"rad {self.line}, tecken {self.first_column}–{self.last_column}"


@functools.cache
def _table() -> dict[int, str | None]:
    """str.translate table: invisible and combining characters dropped, separators to '-', digits to ASCII."""
    table: dict[int, str | None] = {}
    for codepoint in (*range(0x30000), *range(0xE0000, 0xE1000)):
        char = chr(codepoint)
        category = unicodedata.category(char)
        if category in ("Cf", "Mn", "Me"):
            table[codepoint] = None
        elif category in ("Pd", "Zs", "Zl", "Zp") or char.isspace() or char in _EXTRA_SEPARATORS:
            table[codepoint] = _SEPARATOR
        elif category == "Nd" and not char.isascii():
            table[codepoint] = str(unicodedata.decimal(char))
    return table


def normalise(text: str) -> str:
    """The text as the detector reads it (NFKC, invisibles removed, every separator a '-')."""
    return unicodedata.normalize("NFKC", text).translate(_table())


def _normalise_mapped(text: str) -> tuple[str, list[int]]:
    """``normalise`` character by character, with the index in ``text`` of every character produced."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        produced = normalise(char)
        chars.append(produced)
        origin.extend([index] * len(produced))
    return "".join(chars), origin


def _is_identity_number(match: re.Match[str]) -> bool:
    """A valid check digit and a real date (the day less 60 for a samordningsnummer), by python-stdnum."""
    century, yymmdd = match["century"] or "", match["yy"] + match["mm"] + match["dd"]
    if (century and century not in ("18", "19", "20")) or _is_inside_a_word(match):
        return False
    serial = match["serial"].replace(_SEPARATOR, "")
    if not luhn.is_valid(yymmdd + serial):
        return False
    day = int(match["dd"])
    day = day - 60 if day > 60 else day  # stdnum knows no samordningsnummer: check the birth date it stands for
    separator = "+" if match["sep"] == "+" else "-"
    try:
        personnummer.get_birth_date(f"{century}{yymmdd[:4]}{day:02d}{separator}{serial}")
    except (ValidationError, ValueError):
        return False
    return True


def _is_inside_a_word(match: re.Match[str]) -> bool:
    """Digits alone, run together with letters: a hash or a generated id (hex), not a number someone wrote."""
    text, start, end = match.string, match.start(), match.end()
    if _SEPARATOR in match[0] or "+" in match[0]:
        return False
    return (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha())


def find_identity_numbers(text: str) -> list[Finding]:
    """Every valid personnummer or samordningsnummer in ``text``, however written."""
    if "-" in text:
        text = _UUID.sub(lambda uuid: "x" * len(uuid[0]), text)  # same length: the places found stay right
    if not any(_is_identity_number(m) for m in _CANDIDATE.finditer(normalise(text))):
        return []  # the common case: one pass in C, no index bookkeeping
    normal, origin = _normalise_mapped(text)
    return [_finding(text, origin, m) for m in _CANDIDATE.finditer(normal) if _is_identity_number(m)]


def _finding(text: str, origin: list[int], match: re.Match[str]) -> Finding:
    start, last = origin[match.start()], origin[match.end() - 1]
    line_start = text.rfind("\n", 0, start) + 1
    separator = "+" if match["sep"] == "+" else "-"
    masked = f"{match['century'] or ''}{match['yy']}{match['mm']}{match['dd']}{separator}****"
    return Finding(line=text.count("\n", 0, start) + 1, first_column=start - line_start + 1,
                   last_column=last - line_start + 1, masked=masked)


def refusal(values: Mapping[str, object], labels: Mapping[str, str] | None = None) -> PersonalDataFound | None:
    """The refusal naming every text value (by field name or path) that holds an identity number, or None."""
    fields: dict[str, list[str]] = {}
    places: list[str] = []
    for name, value in values.items():
        findings = find_identity_numbers(value) if isinstance(value, str) else []
        if findings:
            where = "; ".join(f"{f.describe()} (”{f.masked}”)" for f in findings)
            fields[name] = [f"Texten innehåller ett personnummer eller samordningsnummer: {where}. "
                            "Ta bort det: den enskilde får inte kunna identifieras."]
            places.append(f"”{(labels or {}).get(name, name)}” ({', '.join(f.describe() for f in findings)})")
    if not fields:
        return None
    return PersonalDataFound("Uppgifterna får inte innehålla personnummer eller samordningsnummer, som i "
                             f"{' och '.join(places)}. Inget har sparats.", fields)


def refuse_identity_numbers(values: Mapping[str, object], labels: Mapping[str, str] | None = None) -> None:
    """Raise PersonalDataFound naming every text field that holds an identity number, and where."""
    found = refusal(values, labels)
    if found is not None:
        raise found


def texts_of(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON-like value, keys included, with its path (``data.comment``, ``sections[2].text``)."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:  # not recursive: a deeply nested body must not exhaust the stack
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                inner_path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str):
                    yield f"{inner_path} (namnet)", key
                stack.append((inner_path, inner))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{index}]", inner) for index, inner in enumerate(item))


def refuse_in_audit(data: Mapping[str, Any]) -> None:
    """Refuse an audit event whose details hold an identity number: the chain keeps it for ever."""
    if has_request_context() and (found := g.get(_ARMED)) is not None:
        raise found  # the request's own refusal names the fields as the form or the client wrote them
    refuse_identity_numbers(dict(texts_of(data)))


def _request_texts() -> dict[str, str]:
    """Every free-text value of the request: form fields, query arguments, file names and the JSON body."""
    texts: dict[str, str] = {}
    for name, value in [*request.args.items(multi=True), *request.form.items(multi=True)]:
        if not any(part in name.lower() for part in _NOT_TEXT):
            texts[name if name not in texts else f"{name} ({len(texts)})"] = value
    for name, upload in request.files.items(multi=True):
        texts[f"{name} (filnamnet)"] = upload.filename or ""
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # too deep to parse: refused elsewhere, and nothing of it is stored
            body = None
        texts.update((path, text) for path, text in texts_of(body)
                     if not any(part in path.lower() for part in _NOT_TEXT))
    return texts


def _guard_request() -> None:
    """Refuse a write whose free text holds an identity number before its view runs (or, for a view that
    shows the refusal in its form, before it can commit)."""
    if request.method not in _WRITES or request.url_rule is None:
        return
    found = refusal(_request_texts())
    if found is None:
        return
    if getattr(current_app.view_functions.get(request.endpoint or ""), "refuses_in_form", False):
        g.setdefault(_PENDING, found)
        return
    raise found


def refused_in_form(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view that renders a ValidationFailed of its commit in its own form: the guard then lets it run,
    and refuses its commits (the view's own check, with the form's labels, usually speaks first)."""

    @functools.wraps(view)
    def armed(*args: P.args, **kwargs: P.kwargs) -> R:
        g.setdefault(_ARMED, g.get(_PENDING))
        try:
            return view(*args, **kwargs)
        finally:
            g.pop(_ARMED, None)

    armed.refuses_in_form = True  # type: ignore[attr-defined]
    return armed


def _refuse_commit(session: Session) -> None:
    """No commit while the view of a refused request runs."""
    if has_request_context() and (found := g.get(_ARMED)) is not None:
        raise found


def _render_refusal(error: PersonalDataFound) -> Response | tuple[str, int]:
    """The API's problem document, or the Swedish error page naming each field and place."""
    from service.extensions import db

    db.session.rollback()
    if request.path.startswith("/api/"):  # (the API's own blueprints answer with their handler first)
        from service.api.errors import problem

        return problem(422, None, error.message, fields=error.fields)
    detail = " ".join(f"”{name}”: {' '.join(messages)}" for name, messages in error.fields.items())
    heading = gettext("Inget har sparats: uppgifterna innehåller ett personnummer eller samordningsnummer.")
    return render_template("inbox/error.html", message=heading, detail=detail), 422


def init_app(app: Flask) -> None:
    """Register this defence's hooks on ``app``."""
    app.before_request(_guard_request)
    app.register_error_handler(PersonalDataFound, _render_refusal)
    if not event.contains(Session, "before_commit", _refuse_commit):
        event.listen(Session, "before_commit", _refuse_commit)
