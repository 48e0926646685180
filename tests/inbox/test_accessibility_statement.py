"""The accessibility statement that lagen (2018:1937) requires (issue #18): public, in DIGG's model's parts, in
Swedish and English, and linked from every page's footer."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from service.parties.models import Role
from tests.conftest import login

SWEDISH_PARTS = ["Hur tillgänglig är webbtjänsten?", "delvis förenlig", "Innehåll som inte är tillgängligt",
                 "Rapportera brister", "Tillsyn", "Myndigheten för digital förvaltning (DIGG)",
                 "https://www.digg.se/tdosanmalan", "Hur vi testat webbtjänsten", "axe-core", "tangentbord",
                 "(2018:1937)", "Redogörelsen uppdaterades senast 2026-12-03."]
ENGLISH_PARTS = ["Accessibility statement", "How accessible is the service?", "partially compliant",
                 "Content that is not accessible", "Report accessibility problems", "Agency for Digital Government",
                 "How we tested the service", "last updated on 2026-12-03"]
FOOTER_LINK = '<footer class="site-footer">\n    <a href="/tillganglighet">'


def test_the_statement_is_public_with_every_part_of_digg_s_model(client: FlaskClient) -> None:
    page = client.get("/tillganglighet")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert [part for part in SWEDISH_PARTS if part not in text] == []
    assert 'href="mailto:samverkan@localhost"' in text  # ACCESSIBILITY_CONTACT unset: MAIL_FROM


def test_the_statement_in_english_names_the_configured_contact(client: FlaskClient, app: Any) -> None:
    client.set_cookie("samverkan_lang", "en")
    app.config["ACCESSIBILITY_CONTACT"] = "tillganglighet@vgregion.example"
    try:
        text = client.get("/tillganglighet").get_data(as_text=True)
    finally:
        app.config["ACCESSIBILITY_CONTACT"] = ""
    assert [part for part in ENGLISH_PARTS if part not in text] == []
    assert "Hur tillgänglig" not in text and 'href="mailto:tillganglighet@vgregion.example"' in text


def test_every_page_links_the_statement_in_its_footer(client: FlaskClient, make_organisation: Any,
                                                      make_user: Any) -> None:
    assert FOOTER_LINK in client.get("/logga-in").get_data(as_text=True)
    region = make_organisation(name="Västra Götalandsregionen", kind="region")
    make_user([(region, Role.CASE_OFFICER)], username="anna")
    login(client, "anna")
    for path in ("/uppgifter", "/avtal", "/konto", "/finns-inte"):
        assert FOOTER_LINK in client.get(path).get_data(as_text=True), path
