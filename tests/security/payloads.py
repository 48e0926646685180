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
# Expressions that pass the allow-list but cost unbounded CPU or memory in one C-level operation (or a few):
# each must end within the sandbox's limits with a clear error, and the service process stay responsive.
# (``**`` is refused by the allow-list already, so the big numbers are written out.)
EXPENSIVE_EXPRESSIONS = [
    "sum([[0]]*120000, [])",
    "sum([[0]]*200000, [])",
    '"x"*3*1000000000',
    '"x"*10000000000',
    "[0]*1000000000",
    "len([0]*100000000*10)",
    "[a for a in x for b in x for c in x]",
    "max(a*b for a in x for b in x for c in x)",
    "sorted([str(a) for a in x for b in x])",
    "sum(sum(range(10000)) for a in x for b in x)",
    '"%0999999999d" % 1',
    'f"{1:>999999999}"',
    '"-".join(["x"*100000]*100000)',
    "round(5, -100000000)",
    "len(str(sum([[0]]*100000, [])))",
]
# The same in scripts (exec mode): loops and growth through assignment.
EXPENSIVE_SCRIPTS = [
    "total = 0\nfor a in x:\n    for b in x:\n        for c in x:\n            total += 1\n",
    "s = \"x\"\nfor i in range(60):\n    s = s + s\n",
    "a = [0]\nfor i in range(40):\n    a = a * 2\n",
    "t = sum([[0]]*150000, [])\n",
]
# Scripts that grow their data without a loop: cheap-looking lines, exponential growth (a = a + a ...).
GROWTH_SCRIPTS = [
    "a = x\n" + "a = a + a\n" * 40,
    "a = \"xx\"\n" + "a = f\"{a}{a}\"\n" * 40,
    "a = {\"k\": \"x\"}\n" + "a[\"k\"] = str(a) + str(a)\n" * 40,
]
# Nesting deep enough to exhaust the parser or the compiler: refused at deploy, never a crash.
DEEP_EXPRESSIONS = [
    "(" * 10_000 + "1" + ")" * 10_000,
    "-" * 100_000 + "1",
    "+".join(["1"] * 100_000),
    "not " * 50_000 + "x",
    "[" * 10_000 + "]" * 10_000,
    "x" + "[0]" * 100_000,
]
# (form pattern, adversarial input): catastrophic backtracking under Python's re, linear under RE2.
REDOS_PATTERNS = [
    ("^(a+)+$", "a" * 29 + "!"),
    ("(a|aa)+$", "a" * 40 + "!"),
    ("(.*a){20}", "a" * 30),
    ("^(\\w+\\s?)*$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"),
    ("^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
     "aaaaaaaaaaaaaaaaaaaaaaaa!"),
]
# Patterns RE2 cannot run (backreferences, lookaround): refused at deploy, naming the field.
UNSUPPORTED_PATTERNS = ["(a)\\1", "^(?=.*\\d).+$", "(?<=a)b", "(?!x)y", "(?P<n>a)(?P=n)"]
# Characters no text column can hold, in JSON strings, keys, form fields and query strings.
BAD_CHARACTERS = ["a\x00b", "\x00", "x\ud800y", "\udfff", "\ud83d"]
# JSON documents nested past any sensible depth (and past the parser's recursion limit).
DEEP_JSON = ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000, "[" * 65 + "]" * 65]


