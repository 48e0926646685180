"""Where a ``next`` from the request may send the browser: a path on this site, or the inbox.

Issue #17, finding 4. A target is refused, never repaired: browsers drop tabs and line breaks from a URL, read
a backslash as a slash, and a proxy may decode ``%2F`` or ``%5C``, so "/\t/evil.example" or "/%2F/evil.example"
can become the protocol-relative "//evil.example". Only printable ASCII passes, starting with one slash; the
path (before "?" or "#") must stay a plain path also after percent-decoding, with no empty, "." or ".."
segment ("/.//evil" resolves to the path "//evil").
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import url_for

MAX_LENGTH = 2048
# Printable ASCII without the backslash: no control characters (tab, CR, LF, NUL, DEL), no Unicode look-alikes.
_PRINTABLE = re.compile(r"[\x21-\x5b\x5d-\x7e]*")
_DECODINGS = 3  # "%252F" is "/" after two; a path still encoded after three is refused


def safe_next(target: str | None, default: str | None = None) -> str:
    """``target`` when it is a same-site path, else ``default`` (the inbox when not given)."""
    if target and is_same_site_path(target):
        return target
    return default if default is not None else url_for("inbox.my_tasks")


def is_same_site_path(target: str) -> bool:
    """True for "/path?query" that no browser or proxy can read as another host or scheme."""
    if len(target) > MAX_LENGTH or not _PRINTABLE.fullmatch(target):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return False
    path = re.split(r"[?#]", target, maxsplit=1)[0]
    for _ in range(_DECODINGS):
        if not _is_plain_path(path):
            return False
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:
            return False
        if decoded == path:
            return True
        path = decoded
    return False


def _is_plain_path(path: str) -> bool:
    if not path.startswith("/") or not _PRINTABLE.fullmatch(path):
        return False
    segments = path[1:].split("/")
    # The last segment may be empty ("/" or "/avtal/"); any other empty one makes a "//".
    return all(segment not in ("", ".", "..") for segment in segments[:-1]) and segments[-1] not in (".", "..")
