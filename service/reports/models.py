"""The annual report (årsrapport) for one calendar year: of one agreement's collaboration, or of a collaboration
(a joint body serving several agreements, e.g. a samordningsgrupp). Drafted by the coordinator with the figures
filled in from the data, adopted by the joint body at a meeting, then frozen."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.columns import UtcDateTime, now
from service.extensions import db


class ReportStatus(StrEnum):
    DRAFT = "draft"
    ADOPTED = "adopted"  # frozen: figures and PDF stored, no edits


REPORT_STATUS_LABELS = {ReportStatus.DRAFT: "Utkast", ReportStatus.ADOPTED: "Fastställd"}


class AnnualReport(db.Model):  # type: ignore[name-defined,misc]
    """One agreement's (``agreement_id``) or one collaboration's (``body_id``: the joint body and every agreement
    it serves) annual report for one year; exactly one of the two is set. ``economy`` rows are entered by the
    coordinator in tkr (seed 002: budget and outcome per post, state grants apart); ``figures`` is empty while a
    draft (computed from the data on every view) and holds the adopted figures once adopted (for a collaboration
    also the ids of the agreements it covered then, ``agreement_ids``)."""

    __tablename__ = "annual_reports"
    __table_args__ = (
        UniqueConstraint("agreement_id", "year"),
        UniqueConstraint("body_id", "year"),
        CheckConstraint("(agreement_id IS NULL) <> (body_id IS NULL)", name="agreement_or_body"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), index=True)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("joint_bodies.id"), index=True)
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
    body = relationship("JointBody")

    @property
    def status_label(self) -> str:
        return _(REPORT_STATUS_LABELS[ReportStatus(self.status)])

    @property
    def is_adopted(self) -> bool:
        return self.status == ReportStatus.ADOPTED


    @property
    def is_collaboration(self) -> bool:
        """A collaboration's report (a joint body's), not one agreement's."""
        return self.body_id is not None

    @property
    def covered_agreement_ids(self) -> list[int]:
        """The agreements the report covers: its own; a collaboration's, those its body serves (as adopted, once
        adopted: a body that later serves other agreements does not change what a frozen report covered)."""
        if not self.is_collaboration:
            return [int(self.agreement_id or 0)]
        if self.is_adopted:
            return [int(i) for i in self.figures.get("agreement_ids", [])]
        return [a.id for a in self.body.agreements]
