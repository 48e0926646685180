"""The crawl (issue #18): every demo user, in Swedish and in English, follows every same-site link and GET form
the pages show them, and nothing they are shown fails them.

The demo (`samverkan seed-demo`, with a smaller year of deviations) is seeded once per backend for the module;
the crawl runs once per backend and the tests read what it found. Pages are deduplicated by URL pattern (the route
they match, and the query with numbers replaced by ``{id}``), a few of each, so the crawl stays bounded; English
reads the pages the Swedish walk reached. Problems are collected, then asserted at once:
a 5xx anywhere, a shown link or GET form answering 403 or 404, a raw audit event code in the visible text, and
Swedish text left on an English page (``untranslated_texts``).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.security import generate_password_hash

from service.agreements.demo import seed_demo_agreement
from service.audit.models import AuditEvent
from service.deviations import demo as deviation_demo
from service.deviations.models import Deviation
from service.disputes.models import Dispute
from service.extensions import db
from service.parties import demo as party_demo
from service.parties.models import Membership, Organisation, Role, User
from service.processes.definitions import deploy_definition
from service.reports.demo import seed_demo_report
from service.transactions import commit_with_retry
from tests.conftest import ROOT, _reset, login
from tests.crawl.test_english import stored_strings
from tests.crawl.untranslated import untranslated_texts

PASSWORD = "demo-lösenord"
PER_PATTERN = 2  # pages of one URL pattern visited per user in Swedish (English: see _read_in_english)
PER_PATTERN_IN_ENGLISH = 3  # pages of one URL pattern read in English, all users together
MAX_PAGES = 60  # pages per user and language
SKIPPED = re.compile(r"/logga-ut|/paket\.zip$|\.csv$|^/static/|^/vendor/|/inbox/static/")
NUMBER = re.compile(r"\d+")
EVENT_CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")
HIDDEN = frozenset({"script", "style", "template"})


@dataclass
class Visit:
    """One page a user opened: where, from which page, its status and the links it showed."""

    url: str
    shown_on: str
    status: int
    links: list[str] = field(default_factory=list)


@dataclass
class Crawl:
    """What the crawl saw, per (username, language)."""

    visits: dict[tuple[str, str], list[Visit]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # the demo's data: may stay Swedish on an English page

    def links_seen(self, username: str, language: str = "sv") -> set[str]:
        return {link for visit in self.visits[(username, language)] for link in visit.links}

    def status_of(self, username: str, path: str, language: str = "sv") -> int | None:
        return next((v.status for v in self.visits[(username, language)] if urlsplit(v.url).path == path), None)


@pytest.fixture(scope="module")
def crawl(app: Flask) -> Iterator[Crawl]:
    backend = "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        try:
            _seed_demo(patch)
            actions = set(db.session.scalars(select(AuditEvent.action).distinct()))
            result, read_in_english = Crawl(stored=stored_strings(db)), Counter[str]()
            db.session.remove()
            for username in party_demo.USERS:
                _crawl_as(app.test_client(), username, actions, result)
                _read_in_english(app.test_client(), username, actions, result, read_in_english)
            yield result
        finally:
            db.session.remove()
            _reset(backend)


def _seed_demo(patch: pytest.MonkeyPatch) -> None:
    """What `samverkan deploy bpmn/*.bpmn` and `samverkan seed-demo` do, with a quick password hash."""
    patch.setattr(deviation_demo, "REPORTS_PER_MONTH", 1)
    patch.setattr(User, "set_password", lambda self, pw: setattr(
        self, "password_hash", generate_password_hash(pw, method="pbkdf2:sha256:1000")))
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
        commit_with_retry(lambda path=path: deploy_definition(path.read_bytes(), path.name, ROOT / "forms", by=None))
    commit_with_retry(lambda: party_demo.seed_demo(lambda: PASSWORD))
    commit_with_retry(seed_demo_agreement)
    commit_with_retry(deviation_demo.seed_demo_cases)
    commit_with_retry(seed_demo_report)  # an adopted annual report (issue #20)


def _signed_in(client: FlaskClient, username: str, language: str) -> FlaskClient:
    client.set_cookie("samverkan_lang", language)
    assert login(client, username, PASSWORD).status_code == 302, f"{username} cannot sign in"
    return client


def _crawl_as(client: FlaskClient, username: str, actions: set[str], crawl: Crawl) -> None:
    """Walk the site in Swedish as ``username``, following what each page shows."""
    walk = _Walk(_signed_in(client, username, "sv"), f"{username} (sv)", "sv", actions, crawl)
    crawl.visits[(username, "sv")] = walk.visits
    while walk.queue and len(walk.visits) < MAX_PAGES:
        walk.step(*walk.queue.popleft())


def _read_in_english(client: FlaskClient, username: str, actions: set[str], crawl: Crawl, read: Counter[str]) -> None:
    """Open in English the pages the Swedish walk reached: one of each kind per user, a few per kind in all (the
    links and statuses are the language's business no more than the words are the role's)."""
    _signed_in(client, username, "en")
    visits: list[Visit] = []
    crawl.visits[(username, "en")] = visits
    mine: set[str] = set()
    for swedish in crawl.visits[(username, "sv")]:
        pattern = _pattern(swedish.url)
        if swedish.status != 200 or pattern in mine or read[pattern] >= PER_PATTERN_IN_ENGLISH:
            continue
        mine.add(pattern)
        read[pattern] += 1
        response = client.get(swedish.url)
        visits.append(Visit(swedish.url, swedish.shown_on, response.status_code))
        if response.status_code != 200:
            crawl.problems.append(f"{username} (en): {swedish.url} answers {response.status_code} (200 in Swedish)")
        elif response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            _check_text(f"{username} (en)", swedish.url, page, _parse(page).text(), "en", actions, crawl)


class _Walk:
    """One user's crawl in one language: a queue of (url, the page showing it), bounded per URL pattern."""

    def __init__(self, client: FlaskClient, who: str, language: str, actions: set[str], crawl: Crawl) -> None:
        self.client, self.who, self.language, self.actions, self.crawl = client, who, language, actions, crawl
        self.visits: list[Visit] = []
        self.queue: deque[tuple[str, str]] = deque([("/", "(start)")])
        self.seen = {"/"}
        self.per_pattern: dict[str, int] = {}

    def step(self, url: str, shown_on: str) -> None:
        response = self.client.get(url)
        visit = Visit(url, shown_on, response.status_code)
        self.visits.append(visit)
        if response.status_code >= 500:
            self.crawl.problems.append(f"{self.who}: {url} answers {response.status_code} (linked from {shown_on})")
        elif response.status_code in (403, 404):
            self.crawl.problems.append(f"{self.who}: {url} answers {response.status_code}, yet {shown_on} shows it")
        if response.status_code in (301, 302, 303) and response.location:
            visit.links = [_same_site(url, response.location) or ""]
        elif response.mimetype == "text/html" and response.status_code < 400:
            page = response.get_data(as_text=True)
            parsed = _parse(page)
            visit.links = _links(url, parsed)
            _check_text(self.who, url, page, parsed.text(), self.language, self.actions, self.crawl)
        for link in visit.links:
            self._enqueue(link, url)

    def _enqueue(self, link: str, shown_on: str) -> None:
        pattern = _pattern(link)
        if not link or link in self.seen or SKIPPED.search(urlsplit(link).path):
            return
        if self.per_pattern.get(pattern, 0) < PER_PATTERN:
            self.seen.add(link)
            self.per_pattern[pattern] = self.per_pattern.get(pattern, 0) + 1
            self.queue.append((link, shown_on))


def _check_text(who: str, url: str, page: str, text: str, language: str, actions: set[str], crawl: Crawl) -> None:
    codes = sorted({code for code in EVENT_CODE.findall(text) if code in actions})
    if codes:
        crawl.problems.append(f"{who}: {url} shows raw event codes {codes}")
    if language == "en":
        untranslated = untranslated_texts(page, allow=crawl.stored)
        if untranslated:
            crawl.problems.append(f"{who}: {url} has untranslated text {untranslated[:8]}")


def _pattern(url: str) -> str:
    """Pages of one kind share it: the route the path matches (``/processer/formular/<name>``; else the path with
    its numbers replaced) and the query with its numbers replaced, keys sorted."""
    parts = urlsplit(url)
    try:
        rule, _ = current_app.url_map.bind("localhost").match(parts.path, method="GET", return_rule=True)
        path = str(rule)
    except HTTPException:  # no such route, or a redirect to add a slash
        path = NUMBER.sub("{id}", parts.path)
    query = sorted((key, NUMBER.sub("{id}", value)) for key, value in parse_qsl(parts.query, keep_blank_values=True))
    return path + ("?" + urlencode(query) if query else "")


def _same_site(base: str, href: str) -> str | None:
    """The path and query of ``href`` (relative to ``base``) if it stays on the site, else None."""
    target = urlsplit(urljoin("http://localhost" + base, href))
    if target.scheme not in ("http", "https") or target.netloc != "localhost":
        return None
    return target.path + ("?" + target.query if target.query else "")


def _parse(page: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(page)
    parser.close()
    return parser


def _links(base: str, parser: _PageParser) -> list[str]:
    found = [_same_site(base, href) for href in parser.hrefs]
    found += [_same_site(base, action) for action in parser.get_forms]
    return [link for link in dict.fromkeys(found) if link]


class _PageParser(HTMLParser):
    """The a hrefs, the GET forms (submitted with their default values) and the visible text of a page (outside
    script, style and template elements)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self.hrefs: list[str] = []
        self.get_forms: list[str] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        self._hidden += tag in HIDDEN
        if tag == "a" and a.get("href") and not a["href"].startswith(("#", "mailto:")) and "download" not in a:
            self.hrefs.append(a["href"])
        elif tag == "form" and a.get("method", "get").lower() == "get":
            self._form = (a.get("action", ""), [])
        elif self._form is not None:
            self._field(tag, a)

    def _field(self, tag: str, a: dict[str, str]) -> None:
        assert self._form is not None
        if tag == "input" and a.get("name") and a.get("type", "text") not in ("submit", "button", "checkbox", "radio"):
            self._form[1].append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("name") and "checked" in a:
            self._form[1].append((a["name"], a.get("value", "on")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_value = a["name"], None
        elif tag == "option" and self._select is not None and (self._select_value is None or "selected" in a):
            self._select_value = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in HIDDEN and self._hidden > 0
        if tag == "select" and self._form is not None and self._select is not None:
            self._form[1].append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "form" and self._form is not None:
            action, values = self._form
            self.get_forms.append(action.split("?")[0] + ("?" + urlencode(values) if values else ""))
            self._form = None

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)

    def text(self) -> str:
        return " ".join(self.parts)


def test_every_page_every_demo_user_is_shown_opens_and_reads_well(crawl: Crawl) -> None:
    """No 5xx, no shown link answering 403/404, no raw event code, no Swedish on English pages."""
    assert len(crawl.visits) == 2 * len(party_demo.USERS)
    assert not crawl.problems, f"{len(crawl.problems)} problems:\n" + "\n".join(crawl.problems)


def test_the_links_issue_18_found_are_shown_only_to_those_who_may_follow_them(app: Flask, crawl: Crawl) -> None:
    """Item 5: rita, greta (and karin, who now holds the county level), an auditor and admin."""
    with app.app_context():
        lerum = db.session.scalars(select(Dispute).join(Dispute.opening_organisation)
                                   .where(Organisation.name == deviation_demo.LERUM)).one()
        region = db.session.scalar(select(Organisation.id).where(Organisation.name == deviation_demo.REGION))
        # Every demo deviation is between the region and a municipality: rita (the region's contact) sees each.
        deviation = db.session.scalars(select(Deviation).order_by(Deviation.id)).first()
        assert deviation is not None
        lerum.deviation_id = deviation.id  # a dispute opened after a deviation's analysis
        db.session.commit()
        dispute, agreement = f"/tvister/{lerum.id}", f"/avtal/{lerum.agreement_id}"
        _shows_only_what_opens(app, "rita", "/avvikelser", "/avvikelser/svarstider", 403)
        _shows_only_what_opens(app, "rita", f"/avvikelser/{deviation.id}", dispute, 404)
        _shows_only_what_opens(app, "greta", dispute, agreement, 404)
        _shows_only_what_opens(app, "greta", dispute, f"/avvikelser/{deviation.id}", 404)
        _shows_only_what_opens(app, "karin", "/uppgifter", agreement, 404)
        _shows_only_what_opens(app, "admin", "/granskning", f"/granskning/dispute/{lerum.id}", 404)
        admin = _signed_in(app.test_client(), "admin", "sv")
        case_list = admin.get("/granskning").get_data(as_text=True)
        assert lerum.case_number in case_list  # listed, not linked: no case content through the admin role
        assert {admin.get(link).status_code for link in re.findall(r'href="(/granskning/[a-z]+/\d+)"', case_list)} <= {200}
        region_organisation = db.session.get(Organisation, region)
        auditor = User(username="granskare", display_name="Gun Granskare", email="gun@example.se",
                       memberships=[Membership(organisation=region_organisation, role=Role.AUDITOR)])
        auditor.set_password(PASSWORD)
        db.session.add(auditor)
        db.session.commit()
        _shows_only_what_opens(app, "granskare", "/avvikelser", "/avvikelser/ny", 403)
        assert 'href="/avvikelser/ny"' in _signed_in(app.test_client(), "ingrid", "sv").get("/avvikelser").get_data(
            as_text=True)  # ingrid also coordinates the region's deviations: she reports, and sees the link


def _shows_only_what_opens(app: Flask, username: str, page: str, target: str, refused: int) -> None:
    """``page`` opens for ``username`` and shows no link to ``target``, which answers ``refused``."""
    client = _signed_in(app.test_client(), username, "sv")
    response = client.get(page)
    assert response.status_code == 200, (username, page)
    assert f'href="{target}"' not in response.get_data(as_text=True), f"{page} shows {username} a link to {target}"
    assert client.get(target).status_code == refused, (username, target)
