"""Defaults; each one can be overridden by a SAMVERKAN_* environment variable (DATABASE_URL, SECRET_KEY too)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from service.auth.secret_key import required_secret_key

DEFAULTS: dict[str, Any] = {
    "DISPLAY_TIMEZONE": "Europe/Stockholm",
    # Audit: access-log retention (at least 5 years), the daily anchor of the hash chain's head (file directory,
    # default instance/audit-anchors; usernames to e-mail it to, comma-separated; hour, Stockholm time).
    "ACCESS_LOG_RETENTION_YEARS": 5,
    "AUDIT_ANCHOR_DIR": "",
    # The key each anchor line is signed with (HMAC-SHA256), never stored in the database; at least 32
    # characters. Required outside the local SQLite default (which keeps one in instance/audit_anchor_key).
    "AUDIT_ANCHOR_KEY": "",
    "AUDIT_ANCHOR_EMAIL": "",
    "AUDIT_ANCHOR_HOUR": 2,
    # PostgreSQL connection pool per process (see docs: hosts × workers × (size + overflow) < max_connections).
    "DB_POOL_SIZE": 5,
    "DB_MAX_OVERFLOW": 10,
    "DB_POOL_RECYCLE": 1800,
    "DB_POOL_TIMEOUT": 30,
    # A pooled connection idle this long is pinged before use (one round trip), to find one that a restart
    # of PostgreSQL closed; a busy one is not (see service/app.py, _ping_after_idle).
    "DB_PING_AFTER_IDLE_SECONDS": 10,
    # /metrics (and the details of /readyz) answer a scraper sending "Authorization: Bearer <this>", or an
    # administrator's session; empty: administrators only (service/ops/operators.py).
    "METRICS_TOKEN": "",
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
    "LANGUAGES": "sv,en",
    # Cookies: never readable by scripts, not sent on cross-site posts. Secure (HTTPS only) when set here,
    # when PUBLIC_URL is https://, and for any request that arrived over HTTPS (see service/auth/cookies.py).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "samverkan_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": False,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    # Login throttling (counters in login_throttles, moved atomically, so it holds across every app process;
    # see service/auth/throttle.py): within LOGIN_WINDOW_MINUTES, refuse a username from one address after
    # LOGIN_MAX_FAILURES wrong passwords, an address after LOGIN_MAX_FAILURES_PER_ADDRESS (an office behind
    # one NAT address has many users), a username from every address after LOGIN_MAX_FAILURES_PER_USERNAME,
    # except from an address it signed in from within LOGIN_KNOWN_ADDRESS_DAYS. A successful login resets
    # its username-and-address count.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_MAX_FAILURES_PER_USERNAME": 50,
    "LOGIN_KNOWN_ADDRESS_DAYS": 90,
    "LOGIN_WINDOW_MINUTES": 15,
    "PASSWORD_MIN_LENGTH": 10,
    # OpenID Connect single sign-on (off by default; see service/auth/oidc.py for what is implemented).
    "OIDC_ENABLED": False,
    "OIDC_ISSUER": "",
    "OIDC_CLIENT_ID": "",
    "OIDC_CLIENT_SECRET": "",
    "OIDC_SCOPES": "openid profile email",
    "OIDC_PROVIDER_NAME": "e-legitimation",
    "OIDC_ALLOW_LOCAL_LOGIN": True,
    # Several providers as a JSON list, each tied to its organisations (service/auth/oidc.py, docs/accounts.md).
    "OIDC_PROVIDERS": "",
    # Local accounts that may still sign in with a password when OIDC_ALLOW_LOCAL_LOGIN is false (comma-separated).
    "OIDC_BREAK_GLASS_USERS": "",
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "COMMIT_RETRIES": 5,
    # Scheduler: "auto" runs it inside `samverkan run` (SQLite: directly; PostgreSQL: if this process
    # wins the advisory lock), "off" leaves it to a separate `samverkan scheduler` process.
    "SCHEDULER": "auto",
    "SCHEDULER_SYNC_SECONDS": 2,
    "SCHEDULER_SYNC_WINDOW_SECONDS": 120,
    "SCHEDULER_RESYNC_MINUTES": 10,
    "SCHEDULER_LEADER_POLL_SECONDS": 5,
    "SCHEDULER_WORKERS": 4,
    "SCHEDULER_RETRY_SECONDS": 60,
    "REMINDER_LEAD_HOURS": 48,
    "REMINDER_SCAN_SECONDS": 60,
    # E-mail (SMTP); the outbox is delivered every MAIL_SEND_SECONDS by the scheduler. No MAIL_HOST (the
    # default): mail waits in the outbox, quietly, until one is configured.
    "MAIL_HOST": "",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "samverkan@localhost",
    "MAIL_SEND_SECONDS": 10,
    "MAIL_TIMEOUT": 10,
    # Where the accessibility statement (/tillganglighet) tells people to report problems; MAIL_FROM when empty.
    "ACCESSIBILITY_CONTACT": "",
    "DIGEST_HOUR": 7,
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # Request limits (service/security/limits.py): a bigger body is refused 413 before it is read (attachments
    # are at most 5 MB each by default, x-max-bytes per field); JSON nested deeper is refused 400.
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_JSON_DEPTH": 64,
    # What a script or expression that is not provably cheap may use in the sandbox worker (service/engine/sandbox.py).
    "SCRIPT_TIME_LIMIT_MS": 1000,
    "SCRIPT_MEMORY_MB": 512,
    "BPMN_DIR": str(Path(__file__).resolve().parent.parent / "bpmn"),
    "FORMS_DIR": str(Path(__file__).resolve().parent.parent / "forms"),
    # The decision tables (DMN files) the modeller offers business-rule tasks: beside the diagrams by default.
    "DECISIONS_DIR": str(Path(__file__).resolve().parent.parent / "bpmn"),
}


def load(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration: defaults, then SAMVERKAN_* variables, then explicit overrides."""
    config = dict(DEFAULTS)
    for key in DEFAULTS:
        if f"SAMVERKAN_{key}" in os.environ:
            config[key] = _typed(DEFAULTS[key], os.environ[f"SAMVERKAN_{key}"])
    config["SQLALCHEMY_DATABASE_URI"] = database_url(instance_path)
    config.update(overrides or {})
    _secure_cookies_for_https(config, overrides or {})
    # Refuses to start without a strong key, except on local SQLite, where one is generated (issue #17).
    config["SECRET_KEY"] = required_secret_key(config.get("SECRET_KEY") or os.environ.get("SECRET_KEY"),
                                               str(config["SQLALCHEMY_DATABASE_URI"]), lambda: _instance_secret(instance_path))
    config["SQLALCHEMY_DATABASE_URI"] = normalise_url(config["SQLALCHEMY_DATABASE_URI"])
    return config


def _typed(default: Any, value: str) -> Any:
    """An environment string as the default's type: "false"/"0"/"no"/"off" are false, numbers are numbers."""
    if isinstance(default, bool):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    if isinstance(default, int) and value.strip().isdigit():
        return int(value)
    return value


def _secure_cookies_for_https(config: dict[str, Any], overrides: dict[str, Any]) -> None:
    """A service published on https:// sends its cookies over HTTPS only, unless configured otherwise."""
    if not str(config.get("PUBLIC_URL", "")).startswith("https://"):
        return
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if f"SAMVERKAN_{key}" not in os.environ and key not in overrides:
            config[key] = True


def database_url(instance_path: Path) -> str:
    """DATABASE_URL, or a SQLite file in the instance folder."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'samverkan.sqlite3'}"


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs (as hosting tools write them) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance_path: Path) -> str:
    """A key generated once and kept in the instance folder, readable by the owner only."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key
