"""Uppsägning: a party leaves an agreement by its own behörig instans's decision, after the notice period the
agreement states (AgreementVersion.notice_months); the other parties stay bound. The agreement itself ends when
fewer than two parties remain bound, or when every party has decided to end it together.

Registered only by the party's secretary (Role.BODY_SECRETARY); the notice periods run out in the scheduler's
job ``agreement_leavings_job`` (service/scheduler/jobs.py), which calls ``process_leavings``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from service import audit
from service.agreements.models import Agreement, AgreementParty, AgreementStatus, PartyLeaving, VersionStatus
from service.columns import now
from service.engine.calendar import STOCKHOLM
from service.errors import InvalidTransition, NotPermitted, ValidationFailed
from service.extensions import db
from service.parties.models import AuthorisedBody, Role, User

LEAVABLE = (AgreementStatus.ADOPTED, AgreementStatus.ACTIVE, AgreementStatus.UNDER_AMENDMENT)
REFUSED = "Uppsägningen innehåller fel. Inget har sparats."


def add_months(day: date, months: int) -> date:
    """The same day number ``months`` later, or the month's last day when it has fewer days (31 Aug + 6 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def leaving_parties(user: User, agreement: Agreement) -> list[AgreementParty]:
    """The bound parties, not yet leaving, whose secretary ``user`` is: the parties whose leaving they may register."""
    if agreement.status not in LEAVABLE:
        return []
    return [party for party in agreement.bound_parties
            if party.leaving is None and user.has_role(party.organisation_id, Role.BODY_SECRETARY)]


@dataclass(frozen=True)
class LeavingForm:
    organisation_id: int
    body_id: int
    decided_on: date
    paragraph: str
    diarienummer: str
    notified_on: date
    is_joint: bool
    ends_on: date | None
    reason: str


def parse_form(form: Any) -> LeavingForm:
    """The registration form's fields, each missing or malformed one named (ValidationFailed, nothing changed)."""
    errors: dict[str, list[str]] = {}
    number = {name: str(form.get(name, "")).strip() for name in ("organisation_id", "body_id")}
    for name, value in number.items():
        if not value.isdigit():
            errors[name] = [_("Välj ett alternativ.")]
    is_joint = form.get("is_joint") in ("on", "true", "1", True)
    fields = dict(decided_on=_day(form, "decided_on", errors), paragraph=_text(form, "paragraph", errors, limit=20),
                  diarienummer=_text(form, "diarienummer", errors), notified_on=_day(form, "notified_on", errors),
                  ends_on=_day(form, "ends_on", errors, required=is_joint),
                  reason=_text(form, "reason", errors, required=False, limit=4000))
    if errors:
        raise ValidationFailed(_(REFUSED), errors)
    return LeavingForm(organisation_id=int(number["organisation_id"]), body_id=int(number["body_id"]), is_joint=is_joint,
                       **fields)  # type: ignore[arg-type]


def _text(form: Any, name: str, errors: dict[str, list[str]], *, required: bool = True, limit: int = 50) -> str:
    value = str(form.get(name, "")).strip()
    if required and not value:
        errors[name] = [_("Fältet måste fyllas i.")]
    elif len(value) > limit:
        errors[name] = [_("Högst %(count)s tecken.", count=limit)]
    return value


def _day(form: Any, name: str, errors: dict[str, list[str]], *, required: bool = True) -> date | None:
    value = str(form.get(name, "")).strip()
    if not value:
        if required:
            errors[name] = [_("Fältet måste fyllas i.")]
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = [_("Ange ett datum (ÅÅÅÅ-MM-DD).")]
        return None


def register_leaving(agreement: Agreement, form: LeavingForm, *, by: User) -> PartyLeaving:
    """Record a party's decision to leave (or to end the agreement together); it is bound until the notice ends."""
    if agreement.status not in LEAVABLE:
        raise InvalidTransition(_("Bara ett antaget eller gällande avtal kan sägas upp."))
    party = next((p for p in agreement.parties if p.organisation_id == form.organisation_id), None)
    if party is None or not by.has_role(party.organisation_id, Role.BODY_SECRETARY):
        raise NotPermitted(_("Bara partens sekreterare (behörig instans) registrerar partens uppsägning."))
    if party.has_left or party.leaving is not None:
        raise InvalidTransition(_("Partens uppsägning är redan registrerad."))
    _check(form, party)
    months = _notice_months(agreement)
    leaving = PartyLeaving(
        body_id=form.body_id, decided_on=form.decided_on, paragraph=form.paragraph, diarienummer=form.diarienummer,
        notified_on=form.notified_on, notice_months=months, is_joint=form.is_joint, reason=form.reason,
        bound_until=form.ends_on if form.is_joint and form.ends_on else add_months(form.notified_on, months),
        recorded_by_id=by.id)
    party.leaving = leaving
    audit.record(by, "agreement.party_leaving_registered", agreement, organisation_id=party.organisation_id,
                 body_id=form.body_id, decided_on=form.decided_on, paragraph=form.paragraph,
                 diarienummer=form.diarienummer, notified_on=form.notified_on, notice_months=months,
                 bound_until=leaving.bound_until, is_joint=form.is_joint, reason=form.reason)
    db.session.flush()
    return leaving


def _check(form: LeavingForm, party: AgreementParty) -> None:
    errors: dict[str, list[str]] = {}
    body = db.session.get(AuthorisedBody, form.body_id)
    if body is None or body.organisation_id != party.organisation_id:
        errors["body_id"] = [_("Välj en behörig instans hos parten.")]
    if form.notified_on < form.decided_on:
        errors["notified_on"] = [_("Uppsägningen kan inte meddelas före beslutet.")]
    if form.is_joint and form.ends_on is not None and form.ends_on < form.decided_on:
        errors["ends_on"] = [_("Avtalet kan inte upphöra före beslutet.")]
    if errors:
        raise ValidationFailed(_(REFUSED), errors)


def _notice_months(agreement: Agreement) -> int:
    version = agreement.current_version
    return int(version.notice_months or 0) if version is not None else 0


def process_leavings(*, by: User | None = None) -> list[int]:
    """Parties whose notice period has ended leave; an agreement with fewer than two bound parties, or whose every
    party decided to end it together (and whose last such day has ended), ends. Returns the ended agreements' ids."""
    today = now().astimezone(STOCKHOLM).date()
    pending = db.session.scalars(select(PartyLeaving).where(PartyLeaving.left_at.is_(None))
                                 .order_by(PartyLeaving.id)).all()
    touched: dict[int, Agreement] = {}
    for leaving in pending:
        agreement = leaving.party.agreement
        if agreement.status not in LEAVABLE:
            continue
        touched[agreement.id] = agreement
        if not leaving.is_joint and leaving.bound_until < today:
            _leave(leaving, by)
    return [agreement.id for agreement in touched.values() if _end_if_over(agreement, today, by)]


def _leave(leaving: PartyLeaving, by: User | None) -> None:
    leaving.left_at = now()
    audit.record(by, "agreement.party_left", leaving.party.agreement, organisation_id=leaving.party.organisation_id,
                 bound_until=leaving.bound_until)


def _end_if_over(agreement: Agreement, today: date, by: User | None) -> bool:
    bound = agreement.bound_parties
    joint = [party.leaving for party in bound if party.leaving is not None and party.leaving.is_joint]
    all_joint = bool(bound) and len(joint) == len(bound) and max(j.bound_until for j in joint) < today
    if len(bound) >= 2 and not all_joint:
        return False
    for leaving in joint if all_joint else []:
        _leave(leaving, by)
    end_agreement(agreement, by=by, jointly=all_joint)
    return True


def end_agreement(agreement: Agreement, *, by: User | None, jointly: bool) -> None:
    """The agreement no longer binds anyone (uppsagt): follow-ups, expiry and an amendment under way stop."""
    from service.processes.operations import cancel_instance

    for instance in _running_instances(agreement):
        cancel_instance(instance, "avtalet har sagts upp", by=by)
    agreement.status = AgreementStatus.TERMINATED
    audit.record(by, "agreement.terminated", agreement, jointly=jointly,
                 remaining=[party.organisation_id for party in agreement.bound_parties],
                 version=agreement.current_version.number if agreement.current_version else None)


def _running_instances(agreement: Agreement) -> list[Any]:
    candidates = [agreement.lifecycle_instance, *(version.instance for version in agreement.versions
                                                   if version.status not in (VersionStatus.ADOPTED, VersionStatus.SUPERSEDED))]
    return [instance for instance in candidates if instance is not None and instance.status == "running"]
