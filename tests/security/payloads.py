"""The attacker's payloads, in one place: every security test draws its inputs from here.

Each finding of issue #17 has its own list below; the checks run after review use other payloads, so
each list is a class of input, not one example.
"""

from __future__ import annotations

# --- 1. Script injection (markup and script in every free-text field) ---

# Each one, if it ever runs, sets window.__xss (or the title, or opens a dialog): the browser test looks for
# all three. Every one fits a 100-character field (saved filter names). No long digit runs: the
# personal-data guard would refuse them before they reached a page.
SCRIPT_PAYLOADS: tuple[str, ...] = (
    "</script><script>window.__xss=document.domain</script>",  # no quote: JSON leaves it as it is
    '<img src=x onerror="window.__xss=\'img\'">',
    '<svg onload="window.__xss=\'svg\'"></svg>',
    '"><script>window.__xss="attr-double"</script>',
    "' autofocus onfocus='window.__xss=\"attr-single\"' x='",
    '" autofocus onfocus="window.__xss=\'attr-focus\'" x="',
    'javascript:window.__xss="js-url"//',
    '<a id="xss-link" href="javascript:window.__xss=\'href\'">klicka</a>',
    "{{7*7}}${7*7}<%= 7*7 %>{{config.SECRET_KEY}}",
    '\u2028\u2029</script><script>window.__xss="line-separator"</script>',
    '<!--<script>window.__xss="comment"</script>-->',
    '<iframe srcdoc="<script>parent.__xss=\'srcdoc\'</script>"></iframe>',
    '<details open ontoggle="window.__xss=\'toggle\'"><summary>x</summary></details>',
    '<base href="//evil.example/"><style>@import "//evil.example/x.css";</style>',
    '<math><mtext><table><mglyph><style><img src=x onerror="alert(\'mxss\')">',
    '<meta http-equiv="refresh" content="0;url=javascript:document.title=\'xss\'">',
    '\\u003c/script\\u003e<script>alert(document.domain)</script>',
    '<form><button formaction="javascript:window.__xss=\'form\'">Skicka</button></form>',
)
# A file name holds no "/" (the upload keeps what follows the last one) and no '"' (a browser sends it as
# %22); it must still end in .txt to be accepted.
SCRIPT_FILE_NAME = "'><img src=x onerror=window.__xss='filename'>\u2028.txt"

# --- 2. Audit tampering ---
# What a table owner (not a superuser; triggers switched off, which the owner may do) does to a chain of
# AUDIT_CHAIN_LENGTH events that was anchored after every event, and the event `audit verify` must name.
# Positions count from 1; -1 is the last event. tests/security/test_audit_tampering.py carries them out.
AUDIT_CHAIN_LENGTH = 8
AUDIT_TAMPERINGS: list[dict[str, object]] = [
    {"kind": "edit", "target": 3, "column": "actor_name", "value": "Någon annan"},
    {"kind": "edit", "target": -1, "column": "data", "value": {"beslut": "avslag"}},
    {"kind": "edit", "target": 1, "column": "action", "value": "agreement.withdrawn"},
    {"kind": "edit", "target": 5, "column": "prev_hash", "value": "f" * 64},
    {"kind": "delete", "target": 2},
    {"kind": "delete", "target": 1},
    {"kind": "delete", "target": -1},
    {"kind": "reorder", "target": 3},  # swaps the seq of the target and the next event
    {"kind": "reorder", "target": 1},
    {"kind": "truncate_tail", "keep": 5},  # later rows deleted, the head moved back to the 5th
    {"kind": "truncate_tail", "keep": 0},
    {"kind": "truncate", "keep": 0},  # TRUNCATE audit_events, head back to genesis
    # TRUNCATE, then the chain inserted again re-hashed, one event dropped and one actor renamed, head updated:
    {"kind": "rewrite", "drop": 4, "rename": 6, "actor": "Obehörig"},
    {"kind": "rewrite", "drop": None, "rename": 2, "actor": "Granskare"},
    {"kind": "rewrite", "drop": 7, "rename": None, "actor": ""},
]
# Statements the runtime role must be refused (by its grants or the triggers), on a chain of a few events.
RUNTIME_ROLE_REFUSED = [
    "UPDATE audit_events SET actor_name = 'x' WHERE seq = 1",
    "UPDATE audit_events SET seq = seq + 100",
    "DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)",
    "TRUNCATE audit_events",
    "TRUNCATE audit_events, audit_chain_head",
    "UPDATE audit_chain_head SET seq = seq - 1",
    "UPDATE audit_chain_head SET seq = 0, hash = repeat('0', 64)",
    "UPDATE audit_chain_head SET hash = repeat('a', 64)",  # the same seq, another hash
    "DELETE FROM audit_chain_head",
    "INSERT INTO audit_chain_head (id, seq, hash) VALUES (2, 0, repeat('0', 64))",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
    "ALTER TABLE audit_chain_head DISABLE TRIGGER USER",
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
]
# Anchor lines as an attacker would edit them in the anchor folder (each keeps the old MAC or makes one up).
FORGED_ANCHOR_EDITS: list[dict[str, object]] = [
    {"hash": "0" * 64},
    {"seq": 2},
    {"written_at": "2020-01-01T00:00:00+00:00"},
    {"mac": "0" * 64},
    {"mac": None},
]

# --- 3. Personal identity numbers ---
# Valid personnummer and samordningsnummer, computed here by the Luhn rule (an oracle of the tests' own, not the
# service's code), then written every way a person or a program might: each separator, invisible characters,
# fullwidth digits, ten and twelve digits.


def luhn_check_digit(nine: str) -> str:
    """The check digit of YYMMDDNNN: weights 2,1,2,1,... and the digit sums of the products."""
    total = sum(sum(divmod(int(d) * (2 - i % 2), 10)) for i, d in enumerate(nine))
    return str((10 - total % 10) % 10)


def identity_number(century: str, yymmdd: str, serial: str) -> tuple[str, str]:
    """(date part with century, serial with check digit), e.g. ("19811228", "9874")."""
    return century + yymmdd, serial + luhn_check_digit(yymmdd + serial)


IDENTITY_BASES = {
    "personnummer": identity_number("19", "811228", "987"),
    "personnummer född 2005": identity_number("20", "050517", "402"),
    "samordningsnummer": identity_number("19", "701063", "239"),  # day 3 + 60
}

SEPARATORS = {
    "hyphen": "-", "none": "", "space": " ", "en dash": "\u2013", "em dash": "\u2014", "non-breaking hyphen": "\u2011",
    "minus sign": "\u2212", "zero-width space": "\u200b", "zero-width joiner": "\u200d", "word joiner": "\u2060",
    "soft hyphen": "\u00ad", "BOM": "\ufeff", "dot": ".", "slash": "/", "line break": "\n", "CRLF": "\r\n",
    "NBSP": "\u00a0", "narrow NBSP": "\u202f", "tab": "\t", "spaced hyphen": " - ", "fullwidth hyphen": "\uff0d",
    "hyphen + zero-width": "-\u200b",
}


def _written_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for base, (birth, serial) in IDENTITY_BASES.items():
        for digits in (12, 10):
            date_part = birth[-digits + 4:]
            for name, separator in SEPARATORS.items():
                forms[f"{base}, {digits} siffror, {name}"] = f"{date_part}{separator}{serial}"
            fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in date_part + serial)
            forms[f"{base}, {digits} siffror, fullwidth"] = fullwidth[:-4] + "\uff0d" + fullwidth[-4:]
            forms[f"{base}, {digits} siffror, zero-width between every digit"] = "\u200b".join(date_part + serial)
        forms[f"{base}, serial in pairs"] = f"{birth[2:]} {serial[:2]} {serial[2:]}"
    forms["centenarian, plus"] = "121212+" + identity_number("19", "121212", "121")[1]
    return forms


IDENTITY_NUMBERS: dict[str, str] = _written_forms()
# Ten and twelve digits that are not identity numbers: wrong check digit, no such date, phone numbers,
# diarienummer, organisation numbers (month + 20), hashes and generated ids.
_BIRTH, _SERIAL = IDENTITY_BASES["personnummer"]
NOT_IDENTITY_NUMBERS: dict[str, str] = {
    "wrong check digit": f"{_BIRTH[2:]}-{_SERIAL[:3]}{(int(_SERIAL[3]) + 1) % 10}",
    "wrong check digit, 12": f"{_BIRTH}-{_SERIAL[:3]}{(int(_SERIAL[3]) + 5) % 10}",
    "31 February, valid check digit": "990231-118" + luhn_check_digit("990231118"),
    "month 13, valid check digit": "811328-987" + luhn_check_digit("811328987"),
    "day 92 (samordning of 32), valid check digit": "811292-987" + luhn_check_digit("811292987"),
    "century 21": "21811228-" + _SERIAL,
    "mobile": "070-123 45 67",
    "mobile, no spaces": "0701234567",
    "landline": "031-712 34 56",
    "international": "+46 70 123 45 67",
    "diarienummer": "KS 2026/1234",
    "diarienummer, long": "Dnr 2026-01234-12",
    "organisationsnummer": "212000-1355",
    "date and time": "2026-12-03 14.30",
    "date and time, no separator": "2026-11-20 1430",
    "date and time in pairs": "2026-11-20 14 30",
    "thirteen digits": "1234567890123",
    "hex hash": "a" + _BIRTH[2:] + _SERIAL + "bc4f",
    "amount": "1 811 228 kr",
    "uuid, date and serial across its groups": f"{_BIRTH[2:]}{_SERIAL[:2]}-{_SERIAL[2:]}ab-4c1d-9e2f-0123456789ab",
    "uuid, letters then date and serial": f"ab{_BIRTH[2:]}-{_SERIAL}-4c1d-9e2f-0123456789ab",
    "uuid, all digits": f"{_BIRTH}-{_SERIAL}-4000-8000-000000000000",
}


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
    "sorted([str(a) for a in x for b in x for c in x])",
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
    "-" * 20_000 + "1",
    "+".join(["1"] * 40_000),
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


# --- 6. Sessions and secrets ---

# SECRET_KEY values the service must refuse to start with (besides every SECRET_KEY=... example in deploy/,
# docs/ and README.md, which tests/security/test_sessions.py reads from the files).
WEAK_SECRET_KEYS: list[str] = [
    "x", "changeme", "CHANGEME", "change-me", "test-secret", "secret", "dev", "…", "change-me-to-64-random-hex-characters",
    "a" * 64, "ab" * 32, "0123456789" * 3, "kort-men-slumpad-3f9", "your-secret-key-here-0123456789abcdef",
    "replace-with-a-long-random-string-please", "samverkan-production-key-2026-12-03-abcdef",
    "password" + "1234567890" * 3, " " * 40, "abcdefghi" * 4,
]

# --- 7. Access log ---

# Every API read of case content, as (endpoint, URL with {placeholders} of tests/security/test_access_log.py's
# world, the case type the access log must name). Each read must write one access-log row.
CASE_CONTENT_READS: list[tuple[str, str, str]] = [
    ("api_agreements.get_agreement", "/api/v1/agreements/{agreement}", "agreement"),
    ("api_agreements.get_version", "/api/v1/agreements/{agreement}/versions/1", "agreement"),
    ("api_follow_ups.get_follow_ups", "/api/v1/agreements/{agreement}/follow-ups", "agreement"),
    ("api_deviations.get_deviation", "/api/v1/deviations/{deviation}", "deviation"),
    ("api_deviations.list_deviations", "/api/v1/deviations", "deviation"),
    ("api_disputes.get_dispute", "/api/v1/disputes/{dispute}", "dispute"),
    ("api_disputes.list_disputes", "/api/v1/disputes?level=line", "dispute"),
    ("api_instances.get_instance", "/api/v1/instances/{deviation_instance}", "deviation"),
    ("api_instances.get_instance", "/api/v1/instances/{plain_instance}", "instance"),
    ("api_tasks.get_task", "/api/v1/tasks/{deviation_task}", "deviation"),
    ("api_tasks.get_task", "/api/v1/tasks/{plain_task}", "instance"),
    ("api_history.case_history", "/api/v1/cases/deviation/{deviation}/events", "deviation"),
    ("api_history.case_history", "/api/v1/cases/agreement/{agreement}/events?page=1", "agreement"),
    ("api_history.case_export", "/api/v1/cases/dispute/{dispute}/export", "dispute"),
    ("api_history.list_events", "/api/v1/audit/events?action=deviation.reported", "deviation"),
]

# GET routes under /api/v1 with an id in the path that show no case content, and why.
NOT_CASE_CONTENT: dict[str, str] = {
    "api_definitions.download_bpmn": "a process diagram, the same for every case",
    "api_organisations.get_organisation": "an organisation's name and kind",
    "api_organisations.list_bodies": "an organisation's authorised bodies",
    "api_history.agreement_statistics": "counts over an agreement's cases, no case's content",
    "api_history.party_statistics": "counts over a party's cases, no case's content",
}

# Paths an anonymous caller tries on the operational endpoints, with what may never appear in the answer.
OPERATIONAL_PATHS = ["/metrics", "/readyz", "/readyz?details=1", "/metrics?format=text"]
READYZ_SECRETS = ["holder", "age_seconds", "max_age_seconds", "error", "pid", "host", "version"]
BAD_METRICS_CREDENTIALS = ["", "Bearer", "Bearer ", "Bearer wrong-token", "Basic bWV0cmljczptZXRyaWNz",
                           "Bearer {token}x", "bearer  {token} extra", "Token {token}"]
