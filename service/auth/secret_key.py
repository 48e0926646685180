"""SECRET_KEY signs every session cookie: a weak or published one lets anyone forge a session (issue #17, finding 6).

The service does not start with a weak key. Only the local SQLite default may go without one: then a random key
is generated once and kept in the instance folder (service/config.py). Make a key with
``python3 -c 'import secrets; print(secrets.token_urlsafe(48))'``.
"""

from __future__ import annotations

from collections.abc import Callable

MIN_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10
MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
# Values published in deploy/, docs/ and the README, and the usual placeholders: tests/security/test_sessions.py
# checks that every SECRET_KEY=... example in those files is refused.
KNOWN_EXAMPLES = frozenset({
    "change-me-to-64-random-hex-characters", "x", "changeme", "change-me", "test-secret", "test", "secret", "dev",
    "development", "bench", "reliability", "…", "...",
})
PLACEHOLDER_WORDS = ("change", "example", "replace", "secret", "your", "xxxx", "dummy", "default", "password",
                     "samverkan")


class SecretKeyRefused(SystemExit):
    """Startup stops with one line, not a traceback (a SystemExit with a message prints it and exits 1)."""


def required_secret_key(given: str | None, database_uri: str, generate: Callable[[], str]) -> str:
    """The key to sign cookies with: ``given`` if strong, generated on local SQLite when missing, else refuse."""
    if not given:
        if not database_uri.startswith("sqlite"):
            raise SecretKeyRefused(f"SECRET_KEY saknas: ange en stark nyckel för varje process, t.ex. {MAKE_ONE}")
        given = generate()
    problem = weakness(given)
    if problem:
        raise SecretKeyRefused(f"SECRET_KEY duger inte ({problem}): skapa en ny med {MAKE_ONE}")
    return given


def weakness(key: str) -> str | None:
    """Why ``key`` is too weak to sign sessions with, or None."""
    lowered = key.strip().lower()
    if lowered in KNOWN_EXAMPLES or any(word in lowered for word in PLACEHOLDER_WORDS):
        return "ett känt exempelvärde"
    if len(key) < MIN_LENGTH:
        return f"kortare än {MIN_LENGTH} tecken"
    if len(set(key)) < MIN_DISTINCT_CHARACTERS or key in (key + key)[1:-1]:
        return "för lite slump: upprepade tecken eller mönster"
    return None
