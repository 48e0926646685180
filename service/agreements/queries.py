"""Reading agreements: versions compared section by section."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from service.agreements.checklist import SECTIONS, sections_of
from service.agreements.models import AgreementVersion


@dataclass(frozen=True)
class SectionDiff:
    key: str
    title: str
    change: str  # added, removed, changed, unchanged
    lines: list[tuple[str, str]]  # ("+" | "-" | " ", line of text)
    responsible: tuple[str, str]  # (older, newer)
    due: tuple[str, str]


def diff_versions(older: AgreementVersion, newer: AgreementVersion) -> list[SectionDiff]:
    """Per checklist section: what was added and removed between two versions (text, ansvar, tid)."""
    return [_diff_section(section.key, section.title, older, newer)
            for section in sections_of({**older.sections, **newer.sections})]


def _diff_section(key: str, title: str, older: AgreementVersion, newer: AgreementVersion) -> SectionDiff:
    before, after = older.sections.get(key) or {}, newer.sections.get(key) or {}
    old_text, new_text = str(before.get("text") or ""), str(after.get("text") or "")
    lines = [(line[0], line[2:]) for line in difflib.ndiff(old_text.splitlines(), new_text.splitlines())
             if line[0] in "+- "]
    responsible = (str(before.get("responsible") or ""), str(after.get("responsible") or ""))
    due = (str(before.get("due") or ""), str(after.get("due") or ""))
    if not old_text and new_text:
        change = "added"
    elif old_text and not new_text:
        change = "removed"
    elif old_text != new_text or responsible[0] != responsible[1] or due[0] != due[1]:
        change = "changed"
    else:
        change = "unchanged"
    return SectionDiff(key, title, change, lines, responsible, due)


@dataclass(frozen=True)
class CommentTable:
    """Remiss answers side by side: one column per party, one row per commented section."""

    organisations: list[str]
    rows: list[tuple[str, list[str]]]


def consultation_table(version: AgreementVersion) -> CommentTable:
    comments = [c for c in version.comments if c.adoption_round == version.adoption_round]
    names = sorted({c.organisation.name for c in comments})
    rows = []
    for key, title in [("general", "Övergripande"), *((s.key, s.title) for s in SECTIONS)]:
        texts = {c.organisation.name: c.text for c in comments if c.section_key == key}
        if texts:
            rows.append((title, [texts.get(name, "") for name in names]))
    return CommentTable(names, rows)
