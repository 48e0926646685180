"""Finding 1 of issue #17: stored script injection. A party writes markup and script into every kind of
free-text field (form values in drafts and submissions, agreement titles and sections, comments, saved
filter names, instance titles, BPMN element names, attachment file names, deviation and dispute texts); every
page that shows them must show them as text: no script runs, the policy blocks nothing of ours, and every
response carries the security headers.

The cases are stored the way an attacker would store them: through the pages, as the parties who may write
them (the BPMN names through a deployed version, as a process owner may).
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from service.inbox.models import Attachment
from service.parties.models import Role, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, TaskStatus
from service.processes.operations import start_process
from service.transactions import commit_with_retry
from tests.browser.conftest import live_server, sign_in  # noqa: F401 (fixtures)
from tests.conftest import ROOT, csrf_token
from tests.deviations import test_deviation_flow as deviation_flow
from tests.deviations.world import World, _user, complete, deployed, frozen, post_form  # noqa: F401 (fixtures)
from tests.disputes import test_dispute_flow as dispute_flow
from tests.security.payloads import SCRIPT_FILE_NAME, SCRIPT_PAYLOADS

EVERY_PAYLOAD = "\n".join(SCRIPT_PAYLOADS)
# Payloads that would be markup if a page printed them unescaped (the others are harmless as plain text).
MARKUP = [p for p in (*SCRIPT_PAYLOADS, SCRIPT_FILE_NAME) if any(c in p for c in "<>\"'")]
INBOX_FIXTURES = ROOT / "tests" / "inbox" / "fixtures"
# Elements whose name is only a label (lanes name roles, data items name variables: those stay as they are).
NAMED = "process|participant|userTask|scriptTask|subProcess|startEvent|endEvent|boundaryEvent|exclusiveGateway|sequenceFlow"
# The pages that draw a diagram or run Swagger UI say when they are done; the check waits for that.
READY = {"/granskning/agreement/": "#replay-canvas[data-ready]", "/granskning/deviation/": "#replay-canvas[data-ready]",
         "/granskning/dispute/": "#replay-canvas[data-ready]", "/jamfor": "body[data-diagram-ready]",
         "/varmekarta": "body[data-diagram-ready]", "/processer/modell": "body[data-modeller-ready]",
         "/api/v1/docs": ".swagger-ui .info"}


def payload(number: int) -> str:
    return SCRIPT_PAYLOADS[number % len(SCRIPT_PAYLOADS)]


@dataclass
class Stored:
    """Where the payloads went: the pages each reader opens, and one payload each page must show as text."""

    pages: dict[str, list[str]] = field(default_factory=dict)  # username: the pages that user opens
    shown: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    downloads: dict[str, str] = field(default_factory=dict)  # attachment URL: the type it must be served as


@pytest.fixture
def stored(app: Flask, db: Any, adoption: Any, deployed: None, frozen: None) -> Stored:  # noqa: F811
    """Every kind of free text written with a payload, by the parties allowed to write it."""
    world = World(app, db)
    _user(db, "granskare", world.region, [Role.AUDITOR, Role.PROCESS_OWNER])
    owner = world.user("admin")
    result = Stored()
    _deploy_named(db, owner)
    agreement_id = _agreement(world)
    deviation_id, dispute_id = _deviation(world), _dispute(world)
    instance_id, task_id = _draft_with_attachment(world)
    for username, kind, case_id in (("handlaggare", "instance", instance_id), ("handlaggare", "agreement", agreement_id),
                                    ("rapportor", "deviation", deviation_id), ("chef_alingsas", "dispute", dispute_id)):
        _post(world.browser(username), f"/arenden/{kind}/{case_id}/kommentarer", {"text": EVERY_PAYLOAD, "next": "/"})
    result.downloads = _downloads(db, instance_id, task_id, world.user("handlaggare"))
    _post(world.browser("handlaggare"), "/uppgifter/filter", {"name": payload(5), "q": payload(6), "lista": "grupp"})
    result.pages = {
        "handlaggare": ["/uppgifter?lista=grupp", "/uppgifter?lista=mina", f"/uppgifter?lista=grupp&q={quote(payload(3))}",
                        f"/uppgifter/{task_id}", "/avtal", f"/avtal/{agreement_id}", f"/avtal/{world.agreement.id}",
                        f"/avtal?q={quote(payload(0))}", "/aviseringar", "/api/v1/docs"],
        "rapportor": ["/avvikelser", f"/avvikelser/{deviation_id}", "/aviseringar"],
        "chef_alingsas": ["/tvister", f"/tvister/{dispute_id}"],
        "granskare": ["/granskning", "/processer/", "/processer/deviation/versioner",
                      "/processer/deviation/jamfor?a=1&b=2", "/processer/deviation/versioner/2/varmekarta",
                      "/processer/inbox_review/versioner", "/processer/modell?process=deviation"],
    }
    for case_type, case_id in (("agreement", agreement_id), ("deviation", deviation_id), ("dispute", dispute_id)):
        base = f"/granskning/{case_type}/{case_id}"
        result.pages["granskare"] += [base, f"{base}/omkorning", f"{base}/rapport"]
    result.pages["granskare"] += [f"/uppgifter/{task.id}" for task in _ready_tasks(db)]
    result.shown = {
        ("handlaggare", f"/uppgifter/{task_id}"): [payload(1), SCRIPT_PAYLOADS[0], SCRIPT_FILE_NAME],
        ("handlaggare", f"/avtal/{agreement_id}"): [payload(0)], ("rapportor", f"/avvikelser/{deviation_id}"): [payload(2)],
        ("chef_alingsas", f"/tvister/{dispute_id}"): [payload(4)],
        ("handlaggare", "/uppgifter?lista=grupp"): [payload(5), payload(7)],
    }
    return result


def _post(client: FlaskClient, url: str, data: dict[str, Any], form_page: str = "/uppgifter", **kwargs: Any) -> Any:
    token = csrf_token(client.get(form_page).get_data(as_text=True))
    response = client.post(url, data={**data, "csrf_token": token}, **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def _renamed(path: str) -> bytes:
    """The BPMN file with every label (process, tasks, events, gateways, flows) replaced by a payload."""
    numbers = itertools.count(7)
    return re.sub(rf'(<bpmn:(?:{NAMED})\b[^>]*?)\sname="[^"]*"',
                  lambda match: f"{match.group(1)} name={quoteattr(payload(next(numbers)))}",
                  open(path, encoding="utf-8").read()).encode()


def _deploy_named(db: Any, owner: User) -> None:
    """deviation.bpmn version 2 and the inbox's test process, their names and version comments all payloads."""
    for path, name, forms in ((ROOT / "bpmn" / "deviation.bpmn", "deviation.bpmn", ROOT / "forms"),
                              (INBOX_FIXTURES / "inbox_review.bpmn", "inbox_review.bpmn", INBOX_FIXTURES)):
        xml = _renamed(str(path))
        row, is_new = commit_with_retry(lambda xml=xml, name=name, forms=forms: deploy_definition(
            xml, name, forms, by=owner, comment=payload(9)))
        assert is_new and "xss-link" in row.bpmn_xml


def _agreement(world: World) -> int:
    """An agreement whose title and every section of its draft (saved, then submitted) are payloads."""
    party = world.browser("handlaggare")
    response = post_form(party, "/avtal/nytt", {"title": payload(0), "organisation_id": world.alingsas.id})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    agreement_id = int(re.search(r"/avtal/(\d+)", response.headers["Location"]).group(1))
    sections = ("responsibilities", "steering_group", "mission", "goals", "costs", "deviations_and_disputes",
                "amendments", "follow_up")
    draft: dict[str, Any] = {"title": payload(0), "party_ids": [world.region.id, world.alingsas.id, world.lerum.id],
                             "valid_from": "2027-01-01", "with_consultation": False,
                             "follow_up_responsible": payload(10), "follow_up_due": "2027-12-31",
                             **{name: payload(number) + "\n" + EVERY_PAYLOAD for number, name in enumerate(sections)}}
    complete(world, "handlaggare", "draft", {**draft, "_action": "save"})  # a saved draft also redirects
    complete(world, "handlaggare", "draft", {**draft, "_action": "complete"})
    return agreement_id


def _deviation(world: World) -> int:
    """A deviation on the renamed diagram, its texts and two answered tasks all payloads."""
    world.agreement.title = payload(11)
    world.db.session.commit()
    deviation = deviation_flow.report(world, world.region, world.lerum, description=EVERY_PAYLOAD,
                                      immediate_action=payload(1), reporting_unit=payload(2), receiving_unit=payload(3),
                                      consequence_description=payload(12))
    complete(world, "kontakt_vgr", "acknowledge", {"handler": payload(13), "comment": payload(14)}, world.region.id)
    complete(world, "kontakt_vgr", "investigate", {"action": "question", "question": payload(15)})
    return deviation.id


def _dispute(world: World) -> int:
    """A dispute whose question, background and one party's position are payloads."""
    dispute = dispute_flow.open_dispute(world, question=payload(4), background=EVERY_PAYLOAD)
    complete(world, "chef_vgr", "line_position", {"outcome": "agreed", "solution": payload(16)}, world.region.id)
    return dispute.id


def _draft_with_attachment(world: World) -> tuple[int, int]:
    """The inbox's test process started with a payload title; its form saved as a draft with an attachment."""
    by = world.user("handlaggare")
    data = {"organisation_id": world.alingsas.id, "next_organisation_id": world.lerum.id, "review_days": 5}
    instance = commit_with_retry(lambda: start_process("inbox_review", by=by, title=payload(7), data=data))
    task = world.db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
    url = f"/uppgifter/{task.id}"
    _post(world.browser("handlaggare"), url, {
        "_action": "save", "summary": payload(1), "details": EVERY_PAYLOAD,
        "evidence": (io.BytesIO(b"Protokoll"), SCRIPT_FILE_NAME)}, form_page=url, content_type="multipart/form-data")
    return instance.id, task.id


def _downloads(db: Any, instance_id: int, task_id: int, by: User) -> dict[str, str]:
    """The uploaded text file, and a script as a form whose x-accept allowed JavaScript would have stored it."""
    script = Attachment(instance_id=instance_id, task_id=task_id, field="evidence", filename="underlag.js",
                        content_type="text/javascript", size=20, content=b"window.__xss='file'", uploaded_by_id=by.id)
    db.session.add(script)
    db.session.commit()
    text = db.session.scalars(select(Attachment).where(Attachment.content_type == "text/plain")).one()
    return {f"/bilagor/{text.id}": "text/plain", f"/bilagor/{script.id}": "application/octet-stream"}


def _ready_tasks(db: Any) -> list[HumanTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(HumanTask).where(HumanTask.status == TaskStatus.READY).order_by(HumanTask.id)))


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    _post(client, "/logga-in", {"username": username, "password": "rätt-lösenord-1"}, form_page="/logga-in")
    return client


def test_every_page_shows_the_payloads_as_text_with_the_security_headers(app: Flask, stored: Stored) -> None:
    problems: dict[str, list[str]] = {}
    for username, urls in stored.pages.items():
        client = _signed_in(app, username)
        for url in urls:
            response = client.get(url)
            body = response.get_data(as_text=True)
            found = [f"status {response.status_code}"] if response.status_code != 200 else []
            found += header_problems(response.headers)
            found += [f"unescaped {p!r}" for p in MARKUP if p in body] + Markup.of(body)
            found += [f"not shown {text!r}" for text in stored.shown.get((username, url), []) if str(escape(text)) not in body]
            if found:
                problems[f"{username} {url}"] = found
    uploader = _signed_in(app, "handlaggare")
    for url, served_as in stored.downloads.items():
        response = uploader.get(url)
        assert (response.status_code, response.mimetype) == (200, served_as), url
        assert "sandbox" in response.headers["Content-Security-Policy"], url
    assert problems == {}


def test_the_replay_data_is_json_that_no_text_can_end(app: Flask, stored: Stored) -> None:
    client = _signed_in(app, "granskare")
    url = next(u for u in stored.pages["granskare"] if re.fullmatch(r"/granskning/deviation/\d+", u))
    body = client.get(url).get_data(as_text=True)
    element = re.search(r'<script type="application/json" id="replay-json">(.*?)</script>', body, re.DOTALL)
    assert element is not None
    assert "<" not in element.group(1) and "\u2028" not in element.group(1)
    shown = json.dumps(json.loads(element.group(1)), ensure_ascii=False)
    assert json.dumps(payload(13), ensure_ascii=False)[1:-1] in shown  # the text survives, as data


class Markup(HTMLParser):
    """What a page's HTML would run: inline handlers, javascript: URLs, inline scripts, frames and base/meta."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    @classmethod
    def of(cls, body: str) -> list[str]:
        parser = cls()
        parser.feed(body)
        return parser.found

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.found += [f"<{tag} {name}>" for name, value in attrs
                       if name.startswith("on") or (value or "").strip().lower().startswith("javascript:")]
        if tag == "script" and not values.get("src") and values.get("type") != "application/json":
            self.found.append("<script> inline")
        if tag in ("iframe", "base", "object", "embed") or (tag == "meta" and "http-equiv" in values):
            self.found.append(f"<{tag}>")


def header_problems(headers: Any) -> list[str]:
    """What a page's headers lack: the strict policy (scripts from our files only), no framing, no sniffing."""
    policy = headers.get("Content-Security-Policy", "")
    directives = dict([*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip())
    expected = {"script-src": "'self'", "object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'",
                "form-action": "'self'", "default-src": "'self'"}
    found = [f"{name} is {directives.get(name)!r}" for name, value in expected.items() if directives.get(name) != value]
    found += ["unsafe-eval allowed"] if "unsafe-eval" in policy else []
    found += [f"{name}: {headers.get(name)!r}" for name, value in (
        ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"))
        if headers.get(name) != value]
    return found


# Markup(...) is allowed only around a rendered .html template (autoescaped): these two, checked by hand.
MARKUP_ALLOWED = {"service/deviations/context.py", "service/disputes/context.py"}
UNSAFE_TEMPLATE = re.compile(r"\|\s*safe\b|\{%-?\s*autoescape\s+false|<script(?![^>]*\b(?:src=|type=\"application/json\"))"
                             r"|\son[a-z]+\s*=|\shx-on|javascript:", re.IGNORECASE)


def test_no_template_marks_text_safe_or_holds_inline_script() -> None:
    templates = sorted((ROOT / "service").rglob("templates/**/*"))
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in templates if path.is_file()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if UNSAFE_TEMPLATE.search(line)]
    assert {path.suffix for path in templates if path.is_file()} == {".html"}  # autoescaped by Flask
    for path in sorted((ROOT / "service").rglob("*.py")):
        text, name = path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
        found += [f"{name}: render_template_string"] if "render_template_string" in text else []
        found += [f"{name}: Markup("] if "Markup(" in text and name not in MARKUP_ALLOWED else []
    assert found == []


def test_api_answers_and_files_carry_the_headers_and_hsts_only_over_https(client: FlaskClient) -> None:
    for url in ("/api/v1/openapi.json", "/api/v1/agreements", "/api/v1/finns-inte", "/healthz",
                "/vendor/htmx.org/dist/htmx.min.js"):
        response = client.get(url)
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url
        assert response.headers.get("X-Frame-Options") == "DENY", url
        assert response.headers.get("Referrer-Policy") == "same-origin", url
        assert "default-src 'none'" in response.headers.get("Content-Security-Policy", ""), url
        assert "Strict-Transport-Security" not in response.headers, url
    login_page = client.get("/logga-in")
    assert header_problems(login_page.headers) == []
    assert "Strict-Transport-Security" not in login_page.headers
    over_https = client.get("/logga-in", base_url="https://samverkan.example")
    assert over_https.headers.get("Strict-Transport-Security", "").startswith("max-age=")
    assert client.get("/api/v1/agreements", base_url="https://samverkan.example").headers.get("Strict-Transport-Security")


# --- In the browser: nothing runs, nothing is blocked ---

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(event.violatedDirective + ' ' + event.blockedURI + ' ' + (event.sample || ''));
});
"""

INSPECT = """() => {
  const attributes = [...document.querySelectorAll('*')].flatMap((element) => [...element.attributes]
    .filter((a) => /^on/i.test(a.name) || /^\\s*javascript:/i.test(a.value)).map((a) => element.tagName + ' ' + a.name));
  return {
    xss: typeof window.__xss === 'undefined' ? null : String(window.__xss),
    title: document.title,
    violations: window.__violations,
    attributes,
    injected: [...document.querySelectorAll('iframe, base, meta[http-equiv], object, embed')].map((e) => e.outerHTML),
    scripts: [...document.scripts].filter((s) => !s.src && s.type !== 'application/json').map((s) => s.text.slice(0, 80)),
  };
}"""


SELECT_TASK = """() => {
  const modeller = window.samverkanModeler;
  const task = modeller.get('elementRegistry').filter((element) => element.type === 'bpmn:UserTask')[0];
  modeller.get('selection').select(task);
}"""


@pytest.fixture
def watched(browser: Any) -> Iterator[Any]:
    """A browser page recording policy violations, dialogs (an alert() that ran) and script errors."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH)
    tab = context.new_page()
    tab.dialogs, tab.errors = [], []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()


def test_no_script_runs_and_the_policy_blocks_nothing_of_ours(live_server: str, watched: Any, stored: Stored) -> None:  # noqa: F811
    problems: dict[str, dict[str, Any]] = {}
    for username, urls in stored.pages.items():
        watched.context.clear_cookies()
        sign_in(watched, live_server, username)
        for url in urls:
            seen = _open(watched, f"{live_server}{url}")
            found = {key: value for key, value in seen.items() if value and key not in ("title", "ready")}
            found.update({"title": seen["title"]} if seen["title"] == "xss" else {})
            found.update({"not drawn": True} if not seen["ready"] else {})
            found.update({"dialogs": list(watched.dialogs)} if watched.dialogs else {})
            found.update({"errors": list(watched.errors)} if watched.errors else {})
            watched.dialogs.clear()
            watched.errors.clear()
            if found:
                problems[f"{username} {url}"] = found
    assert problems == {}


def _open(tab: Any, url: str) -> dict[str, Any]:
    """Open ``url``, wait until its scripts have drawn it (and the modeller's panel shows a task), inspect it."""
    from playwright.sync_api import TimeoutError as Timeout

    tab.goto(url)
    tab.wait_for_load_state("networkidle")
    ready = next((selector for part, selector in READY.items() if part in url and not url.endswith(("/omkorning", "/rapport"))),
                 None)
    try:
        if ready:
            tab.wait_for_selector(ready, state="attached")
        if "/processer/modell" in url:
            tab.evaluate(SELECT_TASK)
            tab.wait_for_selector("#properties .bio-properties-panel-header")
        is_ready = True
    except Timeout:
        is_ready = False
    return {**tab.evaluate(INSPECT), "ready": is_ready}
