"""Refuse text that identifies the person concerned by a Swedish personal identity number.

Deviations that cross organisations must be anonymised (seed 004, the county routine). A personnummer
is YYMMDD-NNNC or YYYYMMDD-NNNC, with '-' (or '+' from the year the person turns 100) or no separator;
C is a Luhn check digit over the ten digits YYMMDDNNN. A samordningsnummer is the same with the day
plus 60. Ten- and twelve-digit strings that fail the date or the checksum are ordinary numbers and pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from service.errors import ValidationFailed

_CANDIDATE = re.compile(r"(?<!\d)(?P<century>\d{2})?(?P<date>\d{6})(?P<separator>[-+]?)(?P<serial>\d{4})(?!\d)")


@dataclass(frozen=True)
class Finding:
    """Where in a text an identity number was found (1-based line and columns)."""

    line: int
    first_column: int
    last_column: int
    masked: str

    def describe(self) -> str:
        return f"rad {self.line}, tecken {self.first_column}–{self.last_column}"


def find_identity_numbers(text: str) -> list[Finding]:
    """Every valid personnummer or samordningsnummer in ``text``."""
    return [_finding(text, match) for match in _CANDIDATE.finditer(text) if _is_identity_number(match)]


def _is_identity_number(match: re.Match[str]) -> bool:
    digits = match["date"] + match["serial"]
    return _has_valid_date(match["century"], match["date"], match["separator"]) and luhn_is_valid(digits)


def _has_valid_date(century: str | None, yymmdd: str, separator: str) -> bool:
    year, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    if day > 60:  # samordningsnummer
        day -= 60
    centuries = [int(century)] if century else ([18, 19] if separator == "+" else [19, 20])
    if not set(centuries) <= {18, 19, 20}:
        return False
    return any(_is_date(c * 100 + year, month, day) for c in centuries)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def luhn_is_valid(digits: str) -> bool:
    """The Luhn checksum over the ten digits YYMMDDNNNC (weights 2,1,2,1,...)."""
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def _finding(text: str, match: re.Match[str]) -> Finding:
    start, end = match.span()
    line_start = text.rfind("\n", 0, start) + 1
    masked = f"{match['century'] or ''}{match['date']}{match['separator']}****"
    return Finding(line=text.count("\n", 0, start) + 1, first_column=start - line_start + 1,
                   last_column=end - line_start, masked=masked)


def refuse_identity_numbers(values: Mapping[str, object], labels: Mapping[str, str]) -> None:
    """Raise ValidationFailed naming every text field that holds an identity number, and where; store nothing."""
    fields: dict[str, list[str]] = {}
    places: list[str] = []
    for name, value in values.items():
        findings = find_identity_numbers(value) if isinstance(value, str) else []
        if findings:
            where = "; ".join(f"{f.describe()} (”{f.masked}”)" for f in findings)
            fields[name] = [f"Texten innehåller ett personnummer eller samordningsnummer: {where}. "
                            "Ta bort det: den enskilde får inte kunna identifieras."]
            places.append(f"”{labels.get(name, name)}” ({', '.join(f.describe() for f in findings)})")
    if fields:
        raise ValidationFailed("Uppgifterna får inte innehålla personnummer eller samordningsnummer, som i "
                               f"{' och '.join(places)}. Inget har sparats.", fields)
