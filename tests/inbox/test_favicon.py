"""Browsers ask every page for /favicon.ico: it is served, and pages link the SVG icon (issue #18, item 10)."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_favicon_is_served_and_linked(client: FlaskClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    page = client.get("/logga-in").get_data(as_text=True)
    link = page.split('<link rel="icon" href="', 1)[1].split('"', 1)[0]
    svg = client.get(link)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
