"""WCAG 2.1 AA with axe-core (issue #18): no main page of any demo role has a violation of impact moderate or above.

The demo is seeded once per backend (as in the crawl). One browser context per role signs in and walks the
links its pages show, breadth first; pages are deduplicated by URL pattern across roles (a few dozen in all).
axe-core comes from the npm registry (node_modules/axe-core), served on a loopback port of its own (the browser
keeps it), and is added to each page with the page's CSP bypassed for the test only: the site's own CSP allows
scripts from 'self' alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from service.extensions import db
from service.parties import demo as party_demo
from tests.conftest import ROOT, _reset
from tests.crawl.test_crawl import PASSWORD, _seed_demo

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PER_ROLE = 7  # pages checked per role (of URL patterns no earlier role showed)
MAX_LOADS = 16  # pages opened per role
SKIPPED = re.compile(r"/logga-ut|\.(zip|csv|json|bpmn|xml)$|/static/|/vendor/|^/api/|/export")  # downloads, not pages
NUMBER = re.compile(r"\d+")
PUBLIC = ["/logga-in", "/tillganglighet"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.filter(v => v.impact !== 'minor').map(v =>
    ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""
HREFS = "() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))"


@pytest.fixture(scope="module")
def demo_site(app: Flask) -> Iterator[str]:
    """The demo, seeded once per backend, served on a loopback port."""
    backend = "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        server = None
        try:
            _seed_demo(patch)
            db.session.remove()
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            if server is not None:
                server.shutdown()
            db.session.remove()
            _reset(backend)


class _Cached(SimpleHTTPRequestHandler):
    """axe-core's file, which the browser may keep: added by path, its 500 kB went through Playwright's pipe for
    every page (a quarter of a second each)."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "max-age=3600")
        super().end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def axe_url() -> Iterator[str]:
    """axe-core served on a loopback port of its own (the pages' CSP is bypassed for the test)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Cached, directory=str(AXE.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{AXE.name}"
    finally:
        server.shutdown()
        server.server_close()


def violations_on(page: Any, url: str, axe: str) -> list[str]:
    """Open ``url`` and return axe's violations there (critical, serious, moderate), one line each."""
    page.goto(url)
    page.add_script_tag(url=axe)
    return [f"{urlsplit(url).path}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
            for v in page.evaluate(RUN_AXE, TAGS)]


def _pattern(path: str) -> str:
    return NUMBER.sub("{id}", urlsplit(path).path)


def _same_site(base: str, href: str) -> str | None:
    target = urlsplit(urljoin(base, href))
    if target.netloc != urlsplit(base).netloc or SKIPPED.search(target.path):
        return None
    return target.path + ("?" + target.query if target.query else "")


def _walk_role(page: Any, base: str, axe: str, seen: set[str], problems: list[str]) -> list[str]:
    """From the inbox, one page of each URL pattern, those no earlier role has shown first (and checked)."""
    queue, patterns, checked, loads = ["/uppgifter"], {"/uppgifter"}, [], 0
    while queue and len(checked) < PER_ROLE and loads < MAX_LOADS:
        path, loads = next((p for p in queue if _pattern(p) not in seen), queue[0]), loads + 1
        queue.remove(path)
        if _pattern(path) not in seen:
            seen.add(_pattern(path))
            problems += violations_on(page, base + path, axe)
            checked.append(path)
        else:
            page.goto(base + path)
        for href in page.evaluate(HREFS):
            link = _same_site(page.url, href)
            if link and _pattern(link) not in patterns:
                patterns.add(_pattern(link))
                queue.append(link)
    return checked


def test_no_axe_violation_on_any_page_of_any_role(demo_site: str, axe_url: str, browser: Any) -> None:
    problems: list[str] = []
    seen: set[str] = set()
    context = browser.new_context(locale="sv-SE", bypass_csp=True, viewport={"width": 1280, "height": 900})
    public = context.new_page()
    for path in PUBLIC:
        problems += violations_on(public, demo_site + path, axe_url)
    context.close()
    checked: dict[str, list[str]] = {}
    for username in party_demo.USERS:
        context = browser.new_context(locale="sv-SE", bypass_csp=True, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto(f"{demo_site}/logga-in")
        page.get_by_label("Användarnamn").fill(username)
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        checked[username] = _walk_role(page, demo_site, axe_url, seen, problems)
        context.close()
    assert sum(len(paths) for paths in checked.values()) >= 25, checked
    assert problems == [], "\n".join(problems)
