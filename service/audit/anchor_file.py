"""Anchor lines outside the database: the chain head (seq, hash, time) signed with a key the database never
holds (HMAC-SHA256), one JSON line each, appended to ``anchor-YYYY-MM-DD.jsonl`` in ``AUDIT_ANCHOR_DIR``."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app

MIN_KEY_LENGTH = 32
_KEY_FILE = "audit_anchor_key"


class AnchorError(Exception):
    """The anchors cannot be trusted or written: a line is forged or unreadable, or there is no key."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.message, self.seq = message, seq


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    written_at: str
    source: str  # file and line number, for the report


def anchor_directory() -> Path:
    """``AUDIT_ANCHOR_DIR``, by default ``audit-anchors`` in the instance folder."""
    configured = current_app.config.get("AUDIT_ANCHOR_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-anchors"


def anchor_key() -> bytes:
    """``AUDIT_ANCHOR_KEY``; on the local SQLite default a key generated once in the instance folder.
    Elsewhere there is no default: a key next to the database would let whoever rewrites it re-sign too."""
    configured = str(current_app.config.get("AUDIT_ANCHOR_KEY") or "")
    if configured:
        if len(configured) < MIN_KEY_LENGTH or configured.startswith("change-me"):  # deploy/'s example
            raise AnchorError(f"AUDIT_ANCHOR_KEY är för kort eller exemplets (minst {MIN_KEY_LENGTH} slumptecken)")
        return configured.encode()
    if not str(current_app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        raise AnchorError("AUDIT_ANCHOR_KEY saknas: ankare skrivs och kontrolleras bara med en nyckel utanför databasen")
    return _instance_key(Path(current_app.instance_path) / _KEY_FILE)


def _instance_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
        except FileExistsError:  # another process made it first
            pass
    return path.read_text().strip().encode()


def mac(key: bytes, seq: int, chain_hash: str | None, written_at: str) -> str:
    """HMAC-SHA256 over the anchored head and the time it was anchored."""
    message = json.dumps([seq, chain_hash, written_at], separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def append_anchor(seq: int, chain_hash: str, moment: datetime) -> Path:
    """Append one signed anchor line to the day's file; the file the line went to."""
    written_at = moment.isoformat()
    line = {"date": moment.date().isoformat(), "written_at": written_at, "seq": seq, "hash": chain_hash,
            "mac": mac(anchor_key(), seq, chain_hash, written_at)}
    directory = anchor_directory()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"anchor-{line['date']}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def read_anchors() -> list[Anchor]:
    """Every anchor line of every file, each MAC checked (the key is needed only when there are lines).
    Raises AnchorError naming the first line that is unreadable or not signed with our key."""
    anchors: list[Anchor] = []
    key: bytes | None = None
    for path in sorted(anchor_directory().glob("anchor-*.jsonl")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            key = key or anchor_key()
            anchors.append(_checked(key, text, f"{path.name}:{number}"))
    return anchors


def _checked(key: bytes, text: str, source: str) -> Anchor:
    try:
        line: dict[str, Any] = json.loads(text)
        seq, chain_hash, written_at = int(line["seq"]), line["hash"], str(line["written_at"])
    except (ValueError, TypeError, KeyError):
        raise AnchorError(f"ankaret {source} går inte att läsa") from None
    expected = mac(key, seq, chain_hash, written_at)
    if not hmac.compare_digest(str(line.get("mac", "")), expected):
        raise AnchorError(f"ankaret {source} för händelse {seq} är inte signerat med ankarnyckeln (fel MAC)", seq)
    return Anchor(seq, str(chain_hash), written_at, source)
