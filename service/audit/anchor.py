"""The daily anchor: the chain head written outside the database (a signed line in a file, optionally an
e-mail), so that rewriting history would also need the anchors that left the system and the key that signs them."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from service.audit.anchor_file import AnchorError, anchor_directory, append_anchor, read_anchors
from service.audit.models import AuditChainHead
from service.audit.operations import GENESIS_HASH
from service.audit.verification import Verification, verify
from service.columns import now
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, Role, User

__all__ = ["anchor_directory", "daily_job", "verify_and_anchor", "write_anchor"]


def write_anchor(verified: tuple[int, str] | None = None) -> Path:
    """Append the chain head (or the ``verified`` seq and hash), signed, to ``anchor-YYYY-MM-DD.jsonl`` and, if
    ``AUDIT_ANCHOR_EMAIL`` names users, put it in their notification outbox (sent by the mail job). The caller
    commits."""
    head = db.session.get(AuditChainHead, 1)
    seq, chain_hash = verified or ((head.seq, head.hash) if head else (0, GENESIS_HASH))
    moment = now()
    path = append_anchor(seq, chain_hash, moment)
    recipients = _anchor_recipients()
    if recipients:
        notify(recipients, NotificationKind.OTHER, f"Granskningsloggens ankare {moment.date().isoformat()}",
               f"Kedjans huvud: händelse {seq}, hash {chain_hash}.\nSpara meddelandet utanför systemet.")
    return path


def verify_and_anchor() -> Verification:
    """The periodic job's work: verify the chain against every anchor, then anchor its head. Refuses (writes
    no anchor) and raises the alarm when the chain is broken or its head is behind the last anchor."""
    result = _head_gone_back() or verify()
    if result.is_intact:
        try:
            write_anchor((result.checked, result.last_hash))  # what was verified, not a head moved since
        except AnchorError as exc:
            result = Verification(False, result.checked, None, exc.message, result.anchors)
    if not result.is_intact:
        raise_alarm(result)
    return result


def _head_gone_back() -> Verification | None:
    """The head against the furthest anchor: it may only have moved forward since (1197 → 1100 is refused)."""
    try:
        furthest = max(read_anchors(), key=lambda anchor: anchor.seq, default=None)
    except AnchorError:
        return None  # verify() names the forged line
    head = db.session.get(AuditChainHead, 1)
    seq = head.seq if head else 0
    if furthest is None or seq >= furthest.seq:
        return None
    return Verification(False, seq, seq + 1, f"kedjans huvud har gått bakåt: händelse {seq}, men ankaret "
                                             f"{furthest.source} anger händelse {furthest.seq}")


def raise_alarm(result: Verification) -> None:
    """Log at CRITICAL and put a message in every administrator's outbox (and AUDIT_ANCHOR_EMAIL's)."""
    current_app.logger.critical("audit chain BROKEN at event %s: %s (no anchor written)",
                                result.broken_seq, result.reason)
    admins = list(db.session.scalars(select(User).join(Membership).where(
        Membership.role == Role.ADMIN, User.is_enabled.is_(True)).distinct()))
    where = f"vid händelse {result.broken_seq}" if result.broken_seq is not None else "kan inte kontrolleras"
    notify([*admins, *_anchor_recipients()], NotificationKind.OTHER, f"LARM: granskningsloggen {where}",
           f"{result.reason}.\nInget nytt ankare har skrivits. Kör `samverkan audit verify` och jämför med "
           "ankarna utanför systemet.")


def _anchor_recipients() -> list[User]:
    usernames = [name.strip() for name in str(current_app.config.get("AUDIT_ANCHOR_EMAIL", "")).split(",")
                 if name.strip()]
    if not usernames:
        return []
    return list(db.session.scalars(select(User).where(User.username.in_(usernames))))


def daily_job() -> None:
    """APScheduler entry point: in the app the scheduler bound, one transaction."""
    from service.scheduler.jobs import in_app

    in_app(verify_and_anchor)
