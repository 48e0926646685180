"""In a browser: sign in through the real OpenID provider, land in the inbox, sign out of both (issue #21)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from service.parties.models import Role
from tests.auth.oidc.fixtures import ORGANISATION


def test_sign_in_through_the_provider_lands_in_the_inbox_and_logout_ends_both(
        sso_app: Flask, live_server: str, page: Any, make_organisation: Any, make_user: Any,
        oidc_provider: str) -> None:
    organisation = make_organisation(name=ORGANISATION)
    make_user([(organisation, Role.CASE_OFFICER)], username="anna", display_name="Anna Andersson",
              external_issuer=oidc_provider, external_subject="anna")
    page.goto(f"{live_server}/logga-in")
    page.get_by_role("link", name="Logga in med Testleverantören", exact=True).click()
    page.wait_for_url(f"{live_server}/uppgifter")
    assert page.get_by_role("heading", level=1).inner_text() and "Anna Andersson" in page.content()
    page.get_by_role("button", name="Logga ut").click()  # our session ends, then the provider's (its page submits)
    page.wait_for_url(re.compile(re.escape(f"{live_server}/logga-in")))
    page.goto(f"{live_server}/uppgifter")
    assert page.url.startswith(f"{live_server}/logga-in")
    assert page.js_errors == []
