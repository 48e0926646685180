"""The routine-health page: the findings for the organisations I coordinate for."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from service.routines.checks import KIND_LABELS, findings_for

bp = Blueprint("routines", __name__, template_folder="templates")


@bp.get("/rutiner")
@login_required
def routine_health() -> str:
    """Show what shows that a routine has stopped: groups without members, late analyses, missed follow-ups,
    bodies that do not meet."""
    found = findings_for(current_user)
    groups = {kind: [f for f in found if f.kind == kind] for kind in KIND_LABELS}
    return render_template("routines/health.html", groups=groups, labels=KIND_LABELS)
