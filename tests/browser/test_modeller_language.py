"""The modeller speaks the page's language (issue #18, item 9): bpmn-js's palette and its properties panel, the
BPMN entries and ours, are Swedish on a Swedish page and English on an English one (src/translate.js, src/sv.js)."""

from __future__ import annotations

from typing import Any

from service.i18n import LANGUAGE_COOKIE
from service.parties.models import Membership, Role
from tests.browser.conftest import sign_in
from tests.deviations.world import World, deployed, frozen, world  # noqa: F401 (fixtures)

TEXTS = "elements => elements.map(e => e.textContent.trim())"


def _modeller_in(page: Any, live_server: str, language: str) -> dict[str, Any]:
    """The modeller opened in ``language`` with a user task selected: what its panel and palette say."""
    page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": live_server}])
    page.goto(f"{live_server}/processer/modell?process=deviation")
    page.wait_for_selector("body[data-modeller-ready=true]")
    page.evaluate("""() => {
        const m = window.samverkanModeler, registry = m.get('elementRegistry'), el = registry.get('acknowledge');
        const root = el.parent && !registry.get(el.parent.id + '_plane') ? null : registry.get(el.parent.id + '_plane');
        if (root) m.get('canvas').setRootElement(root);
        m.get('selection').select(el);
    }""")
    page.wait_for_selector("#properties .bio-properties-panel-header-type")
    return {
        "type": page.locator("#properties .bio-properties-panel-header-type").evaluate("e => e.textContent.trim()"),
        "groups": page.locator("#properties .bio-properties-panel-group-header-title").evaluate_all(TEXTS),
        "labels": page.locator("#properties .bio-properties-panel-label").evaluate_all(TEXTS),
        "palette": page.locator(".djs-palette .entry").evaluate_all("es => es.map(e => e.getAttribute('aria-label'))"),
    }


def test_the_modeller_s_panel_and_palette_are_in_the_page_s_language(live_server: str, page: Any,
                                                                      world: World) -> None:  # noqa: F811
    owner = world.user("handlaggare")
    owner.memberships.append(Membership(organisation_id=world.alingsas.id, role=Role.PROCESS_OWNER))
    world.db.session.commit()
    sign_in(page, live_server, "handlaggare")

    swedish = _modeller_in(page, live_server, "sv")
    english = _modeller_in(page, live_server, "en")

    assert (swedish["type"], english["type"]) == ("Användaraktivitet", "User Task")
    assert {"Allmänt", "Samverkan"} <= set(swedish["groups"]) and "General" not in swedish["groups"]
    assert {"General", "Samverkan"} <= set(english["groups"]) and "Allmänt" not in english["groups"]
    assert {"Namn", "Formulär", "Tilldelad person (uttryck)", "Svarstid (ISO-varaktighet)"} <= set(swedish["labels"])
    assert {"Name", "Form", "Assignee (expression)", "Answer period (ISO duration)"} <= set(english["labels"])
    assert {"Skapa aktivitet", "Handverktyget (flytta vyn)"} <= set(swedish["palette"])
    assert {"Create task", "Activate hand tool"} <= set(english["palette"])
    assert page.js_errors == []
