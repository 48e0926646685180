"""Response headers that hold on every response: the Content-Security-Policy, framing, sniffing, referrer, HSTS.

Pages run scripts from our own files only: no inline script, no inline event handler, no ``eval``. Data a
page script needs comes in an ``application/json`` element written with ``|tojson`` (or a ``data-``
attribute). Styles may stay inline: bpmn-js and the properties panel set ``style`` attributes and
CodeMirror adds ``<style>`` elements. Everything that is not a page (JSON, files, downloads) gets a policy
that allows nothing at all, so a stored file opened in the browser cannot run or load anything either.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",  # bpmn-js's icon font is embedded in its CSS as a data: URL
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
))
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
HSTS = "max-age=31536000"
# Types a browser runs, renders as a document or applies to a page. A stored file of one of them would pass
# script-src 'self' (a <script src> pointing at it), so it is served as bytes whatever its form accepted.
_ACTIVE_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/css", "text/xml", "application/xml",
                 "text/xsl", "application/xslt+xml")


def init_app(app: Flask) -> None:
    """Register this defence's hooks on ``app``."""
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Add the policy and the hardening headers to ``response`` (a view's own value wins)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _policy(response))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if _is_https():
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def inert_type(content_type: str) -> str:
    """The type to serve a stored file with: its own, or ``application/octet-stream`` for an active type."""
    base = content_type.split(";", 1)[0].strip().lower()
    is_active = base in _ACTIVE_TYPES or "script" in base or base.endswith("+xml")
    return "application/octet-stream" if is_active else content_type


def _policy(response: Response) -> str:
    """The page policy for HTML shown in the browser; nothing allowed for data, files and downloads."""
    is_download = response.headers.get("Content-Disposition", "").startswith("attachment")
    return PAGE_POLICY if response.mimetype == "text/html" and not is_download else NOTHING_POLICY


def _is_https() -> bool:
    """The request came over HTTPS (behind a proxy: ProxyFix), or the service is published on https://."""
    return request.is_secure or str(current_app.config.get("PUBLIC_URL", "")).startswith("https://")
