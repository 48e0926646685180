"""Every form that posts carries the CSRF token (CSRFProtect refuses the post otherwise, see test_access_matrix)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "service"
TEMPLATES = sorted(SERVICE.glob("**/templates/**/*.html"))
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.IGNORECASE | re.DOTALL)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(SERVICE)))
def test_every_post_form_has_a_csrf_token(template: Path) -> None:
    forms = POST_FORM.findall(template.read_text())
    assert all("csrf_token()" in body or "csrf_field" in body for body in forms), template


def test_templates_were_found() -> None:
    assert len(TEMPLATES) > 30
