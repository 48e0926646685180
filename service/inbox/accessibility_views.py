"""The accessibility statement (tillgänglighetsredogörelse) that lagen (2018:1937) requires: public, linked from
every page's footer."""

from __future__ import annotations

from flask import current_app, render_template

from service.inbox.views import bp

# When the statement was last reviewed, and how the service was tested (DIGG's model asks for both).
STATEMENT_DATE = "2026-12-03"


@bp.get("/tillganglighet")
def accessibility_statement() -> str:
    """Show the accessibility statement; no sign-in needed."""
    contact = current_app.config["ACCESSIBILITY_CONTACT"] or current_app.config["MAIL_FROM"]
    return render_template("inbox/accessibility.html", contact=contact, statement_date=STATEMENT_DATE)
