"""The main pages of every area, for each role, in English: no Swedish text left (issue #18, item 9).

The deviation/dispute world of tests/deviations/world.py, with a deviation escalated and analysed, a dispute
decided at the county level and another deviation and dispute open, plus an auditor and a process owner.
What the tests entered (every string stored: titles, texts, names, submitted form data) is data, allowed to
stay Swedish; everything else on the page must be English.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import JSON, String, Text, select

from service.parties.models import Role
from tests.audit import scenarios
from tests.crawl.untranslated import untranslated_texts
from tests.deviations import test_deviation_flow as deviation_flow
from tests.deviations.world import World, _user, deployed, frozen, world  # noqa: F401 (fixtures)
from tests.disputes import test_dispute_flow as dispute_flow

ENGLISH = {"Accept-Language": "en"}
COMMON = ["/", "/uppgifter", "/avtal", "/avvikelser", "/tvister", "/statistik", "/aviseringar", "/konto", "/franvaro",
          "/tillganglighet", "/avvikelser/ny", "/tvister/ny", "/avtal/nytt", "/avvikelser/svarstider"]
ROLE_PAGES = {
    "rapportor": [], "kontakt_vgr": [], "chef_lerum": [], "analys": [], "styrgrupp": [], "lansniva": [],
    "samordnare_vgr": [],
    "agare": ["/processer/", "/processer/importera", "/processer/deviation/tester", "/processagare/incidenter",
              "/processer/beslut/", "/processer/beslut/avvikelse-routning.dmn"],
    "granskare": ["/granskning", "/granskning/verifiera", "/processer/beslut/", "/processer/beslut/avvikelse-routning.dmn"],
    "admin": ["/admin/", "/admin/anvandare", "/admin/organisationer", "/admin/schemalaggning", "/tvister/nivaer"],
}
DETAIL = re.compile(r'href="(/(?:avtal|avvikelser|tvister|uppgifter|processer/[\w-]+/versioner|processagare/incidenter'
                    r'|granskning/\w+|statistik/(?:avtal|part)|admin/\w+)/\d+[^"#?.]*)"')
DIGITS = re.compile(r"/\d+")


def stored_strings(db: Any) -> list[str]:
    """Every string the tests stored (titles, texts, names, form data): data, not interface."""
    found: set[str] = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in db.session.execute(select(*columns)) if columns else ():
            for value in row:
                found.update(_strings(value))
    return sorted(value for value in found if len(value) > 2)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str) and "<bpmn:" in value:  # a process version: its element names are the owner's words
        yield from (html.unescape(name) for name in re.findall(r'\bname="([^"]+)"', value))
    elif isinstance(value, str):
        yield value.strip()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def pages_of(client: FlaskClient, username: str) -> dict[str, str]:
    """The role's main pages and the case, task, process and admin pages they link to."""
    client.get("/")  # shows (and so clears) the messages of the flows' own Swedish requests
    pages: dict[str, str] = {}
    for url in COMMON + ROLE_PAGES[username]:
        response = client.get(url, headers=ENGLISH)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages[url] = response.get_data(as_text=True)
    links = {link for html in list(pages.values()) for link in DETAIL.findall(html)}
    for url in sorted(links)[:30]:
        response = client.get(url, headers=ENGLISH)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages[url] = response.get_data(as_text=True)
    return pages


@pytest.fixture
def busy_world(world: World) -> World:  # noqa: F811 (the fixture)
    world.users["granskare"] = _user(world.db, "granskare", world.region, [Role.AUDITOR])
    world.users["agare"] = _user(world.db, "agare", world.region, [Role.PROCESS_OWNER])
    scenarios.deviation_escalated(world)
    scenarios.dispute_to_county(world)
    deviation_flow.report(world, world.region)
    dispute_flow.open_dispute(world)
    return world


@pytest.mark.no_reexecution  # tests/audit re-executes these flows; here only the pages count
def test_every_role_s_main_pages_are_english(busy_world: World) -> None:
    data = stored_strings(busy_world.db)
    left: dict[str, list[str]] = {}
    checked: set[str] = set()
    for username in ROLE_PAGES:
        for url, page in pages_of(busy_world.browser(username), username).items():
            area = DIGITS.sub("/<id>", url)
            checked.add(area)
            found = untranslated_texts(page, allow=data)
            if found:
                left.setdefault(area, []).extend(f"{username}: {text}" for text in found if text not in left.get(area, []))
    assert len(checked) > 30  # the walk reached the pages (a broken login would check nothing)
    assert left == {}, "\n".join(f"{area}: {texts}" for area, texts in sorted(left.items()))
