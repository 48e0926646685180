"""The attacker's payloads, in one place: every security test draws its inputs from here.

Each finding of issue #17 has its own list below; the checks run after review use other payloads, so
each list is a class of input, not one example.
"""

from __future__ import annotations

# --- 1. Script injection (markup and script in every free-text field) ---

# --- 2. Audit tampering ---

# --- 3. Personal identity numbers ---

# --- 4. Open redirects ---

# ``next`` values that must never send the browser off the site (login, language switch, claim and comment
# forms). Each is given as the raw query/form value, after the browser's or proxy's percent-decoding.
OPEN_REDIRECTS: list[str] = [
    "//evil.example", "//evil.example/", "///evil.example", "////evil.example", "/\\evil.example",
    "\\\\evil.example", "\\/evil.example", "\\evil.example", "/\t/evil.example", "/\n/evil.example",
    "/\r/evil.example", "\t//evil.example", " //evil.example", "/ /evil.example", "/%09/evil.example",
    "/%0a/evil.example", "/%0d%0a/evil.example", "/%2F/evil.example", "/%2f/evil.example", "%2F%2Fevil.example",
    "/%2F%2Fevil.example", "/%5Cevil.example", "/%5C/evil.example", "/%252F/evil.example",
    "/%25252F/evil.example", "https://evil.example", "http://evil.example", "https:evil.example",
    "https:/evil.example", "HTTPS://evil.example", "ftp://evil.example", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "/javascript:alert(1)//%0aalert(1)", "data:text/html,<script>alert(1)</script>",
    "//evil.example%00", "/%00/evil.example", "\x00//evil.example", "/\x00/evil.example",
    "\uff0f\uff0fevil.example", "/\uff0fevil.example", "/\u2215evil.example", "/\u29f8evil.example",
    "/\ufe68evil.example", "//evil.example@samverkan.example", "/\\@evil.example", "//127.0.0.1.evil.example",
    "https://127.0.0.1.evil.example", "http://127.0.0.1:5000@evil.example", "/.//evil.example",
    "/./%2F/evil.example", "/%2e%2e//evil.example", "/../..//evil.example", "/uppgifter\r\nSet-Cookie: x=1",
    "\r\nSet-Cookie: x=1", "/\u200b/evil.example", "/\u00a0/evil.example", "/\u3000/evil.example",
    "/%E2%80%8B/evil.example", "/%C0%AF/evil.example", "/" + "a" * 5000,
]
# Same-site paths that pass unchanged (a working ``next`` must keep working).
SAME_SITE_PATHS: list[str] = [
    "/", "/uppgifter", "/uppgifter?sida=2&sok=avtal", "/avtal/12", "/avtal/", "/granskning/agreement/3#slut",
    "/uppgifter?q=a%20b", "/uppgifter?next=//evil.example",
]

# --- 5. Denial of service (scripts, patterns, bodies) ---

# --- 6. Sessions and secrets ---

# --- 7. Access log ---
