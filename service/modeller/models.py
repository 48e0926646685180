"""Modeller tables: drafts of diagrams not yet deployed, and forms and decision tables edited in the browser.

A draft is a working copy; deploying it creates an immutable ProcessDefinition version. An edited form
waits here and is stored with the next deployed version of every definition that uses it; so does an edited
decision table (DMN).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.columns import UtcDateTime, now
from service.extensions import db


class ModelDraft(db.Model):  # type: ignore[name-defined,misc]
    """A saved, not deployed diagram: one per process and author (saving again overwrites it)."""

    __tablename__ = "modeller_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    base_version: Mapped[int | None]  # the deployed version it was opened from
    filename: Mapped[str] = mapped_column(String(300))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class EditedForm(db.Model):  # type: ignore[name-defined,misc]
    """A form's JSON Schema (with UI hints) edited in the modeller; overrides forms/<name> at deploy."""

    __tablename__ = "modeller_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class EditedDecision(db.Model):  # type: ignore[name-defined,misc]
    """A decision table (DMN file) edited in the modeller; overrides the file of that name beside the diagrams."""

    __tablename__ = "modeller_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)  # the file name, e.g. avvikelse-routning.dmn
    dmn_xml: Mapped[str] = mapped_column(Text)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
