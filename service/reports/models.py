"""The annual report (årsrapport) of an agreement's collaboration for one calendar year: drafted by the
coordinator with the figures filled in from the data, adopted by the joint body at a meeting, then frozen."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db


class ReportStatus(StrEnum):
    DRAFT = "draft"
    ADOPTED = "adopted"  # frozen: figures and PDF stored, no edits


REPORT_STATUS_LABELS = {ReportStatus.DRAFT: "Utkast", ReportStatus.ADOPTED: "Fastställd"}


class AnnualReport(db.Model):  # type: ignore[name-defined,misc]
    """One agreement's annual report for one year. ``economy`` rows are entered by the coordinator in tkr
    (seed 002: budget and outcome per post, state grants apart); ``figures`` is empty while a draft (computed
    from the data on every view) and holds the adopted figures once adopted."""

    __tablename__ = "annual_reports"
    __table_args__ = (UniqueConstraint("agreement_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    year: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.DRAFT)
    summary: Mapped[str] = mapped_column(Text, default="")  # the year in brief, the coordinator's words
    activities: Mapped[str] = mapped_column(Text, default="")  # goals' activities and how they went
    plans: Mapped[str] = mapped_column(Text, default="")  # plans for next year
    economy: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    adopted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The joint body's decision (with §) adopting it, as the body's minutes name it: "Styrgruppen 2027-02-10 § 4".
    adoption_reference: Mapped[str] = mapped_column(String(300), default="")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")

    agreement = relationship("Agreement")

    @property
    def status_label(self) -> str:
        return _(REPORT_STATUS_LABELS[ReportStatus(self.status)])

    @property
    def is_adopted(self) -> bool:
        return self.status == ReportStatus.ADOPTED

