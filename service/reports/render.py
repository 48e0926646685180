"""The annual report as an archival PDF/A (PDF/A-3b, WeasyPrint) with its SVG charts and embedded fonts.

The PDF is always rendered in Swedish, the report's language of record, whatever the reader's language."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale

from service.deviations.statistics import swedish_number
from service.reports.models import AnnualReport

PDF_VARIANT = "pdf/a-3b"


def render_print_html(report: AnnualReport, figures: dict[str, Any]) -> str:
    # The environment's template, not render_template: adoption also runs outside a request (demo, jobs), where
    # the inbox's context processors (the signed-in user's menu) have nothing to work on.
    with force_locale("sv"):
        return current_app.jinja_env.get_template("reports/print.html").render(report=report, f=figures,
                                                                              number=swedish_number)


def render_pdf(report: AnnualReport, figures: dict[str, Any]) -> bytes:
    """The report as PDF/A-3b bytes."""
    from weasyprint import HTML  # imported here: it loads pango and fonts, which only this needs

    html = render_print_html(report, figures)
    pdf: bytes = HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT)
    return pdf
