"""Browser tests: the app served on a loopback port, driven by Playwright through Debian's Chromium.

No browser is downloaded: Playwright launches /usr/bin/chromium (``make test`` installs it when missing).
The server runs in a thread of the test process against the same test database as the other tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots-latest"


@pytest.fixture
def live_server(app: Flask, db: Any) -> Iterator[str]:
    """The app on 127.0.0.1 at a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) in Swedish, desktop width."""
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def sign_in(page: Any, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form and wait for the inbox."""
    page.goto(f"{base_url}/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state("networkidle")


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG under tests/screenshots-latest/ (the README shows chosen copies from docs/screenshots/)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
