"""Appeals (laglighetsprövning, KL 13 kap.) of a party's decision on an agreement, lodged till förvaltningsrätten.

Laga kraft is not assumed with no way back: a municipality often learns of an appeal only when the court asks
for its comments, after the appeal period's timer has fired. The party's secretary registers an appeal at any
time after the decision (register_appeal); each appeal runs its own small process, bpmn/decision_appeal.bpmn,
whose one task (record_judgment) registers the court's outcome. Several appeals of one decision are possible:
the decision is överklagat while any is undecided, falls when one sets it aside, and is final (laga kraft from
the day the last judgment became final) when every appeal was rejected or dismissed.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from service import audit
from service.agreements.models import Agreement, Decision, DecisionStage
from service.columns import UtcDateTime, now
from service.engine.calendar import STOCKHOLM, appeal_period_end
from service.errors import InvalidTransition, NotPermitted, ValidationFailed
from service.extensions import db
from service.notifications.models import NotificationKind
from service.notifications.operations import notify
from service.parties.models import Membership, Role, User
from service.processes.models import ProcessInstance

if TYPE_CHECKING:
    from service.agreements.models import AgreementVersion

APPEAL_PROCESS = "decision_appeal"
REFUSED = "Överklagandet kunde inte registreras. Inget har sparats."
COURT_PREFIX = "Förvaltningsrätten i "


class Judgment(StrEnum):
    """The court's final outcome: the appeal rejected (avslag) or dismissed (avvisning), or the decision set aside."""

    REJECTED = "rejected"
    DISMISSED = "dismissed"
    ANNULLED = "annulled"


JUDGMENT_LABELS = {
    Judgment.REJECTED: "Överklagandet avslogs",
    Judgment.DISMISSED: "Överklagandet avvisades",
    Judgment.ANNULLED: "Beslutet upphävdes",
}


class Appeal(db.Model):  # type: ignore[name-defined,misc]
    """One appeal of a decision, lodged till förvaltningsrätten, with its målnummer and later the court's outcome."""

    __tablename__ = "agreement_appeals"
    __table_args__ = (UniqueConstraint("decision_id", "court", "case_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("agreement_decisions.id"), index=True)
    court: Mapped[str] = mapped_column(String(120))  # e.g. "Förvaltningsrätten i Göteborg"
    case_number: Mapped[str] = mapped_column(String(50))  # målnummer
    lodged_on: Mapped[date] = mapped_column(Date)
    was_final: Mapped[bool] = mapped_column(default=False)  # registered after laga kraft had been recorded
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    judgment: Mapped[str | None] = mapped_column(String(16))
    judgment_final_on: Mapped[date | None] = mapped_column(Date)  # the day the court's judgment became final
    judgment_note: Mapped[str] = mapped_column(Text, default="")
    judgment_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    judgment_recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    decision: Mapped[Decision] = relationship(backref=backref(
        "appeals", order_by="Appeal.id", cascade="all, delete-orphan"))
    instance: Mapped[ProcessInstance | None] = relationship(backref=backref("appeal", uselist=False))

    @property
    def is_pending(self) -> bool:
        return self.judgment is None

    @property
    def court_in_sentence(self) -> str:
        """"till förvaltningsrätten i Göteborg": the court's name inside a sentence."""
        return _court_in_sentence(self.court)

    @property
    def judgment_label(self) -> str:
        return _(JUDGMENT_LABELS[Judgment(self.judgment)]) if self.judgment else _("Inte avgjort")


def may_register(user: User, decision: Decision) -> bool:
    """The party's secretary (behörig instans) registers appeals of its decisions."""
    return user.has_role(decision.organisation_id, Role.BODY_SECRETARY)


def can_be_appealed(decision: Decision) -> bool:
    """An adoption that has not been set aside; the appeal may come in at any time after the decision."""
    return decision.is_adopting and decision.stage != DecisionStage.ANNULLED


def register_appeal(decision: Decision, *, court: str, case_number: str, lodged_on: date | None, by: User) -> Appeal:
    """Register an appeal till förvaltningsrätten: the decision is överklagat (no longer laga kraft) until decided."""
    if not may_register(by, decision):
        raise NotPermitted(_("Bara partens sekreterare kan registrera ett överklagande av partens beslut."))
    if not can_be_appealed(decision):
        raise InvalidTransition(_("Bara ett beslut att anta avtalet som inte har upphävts kan registreras som överklagat."))
    court, case_number = court.strip(), case_number.strip()
    _check_appeal(decision, court, case_number, lodged_on)
    assert lodged_on is not None
    was_final = decision.stage == DecisionStage.FINAL
    appeal = Appeal(court=court, case_number=case_number, lodged_on=lodged_on, was_final=was_final,
                    registered_by_id=by.id)
    decision.appeals.append(appeal)
    decision.stage = DecisionStage.APPEALED
    decision.appealed_on = min(a.lodged_on for a in decision.appeals)
    decision.final_at = None  # laga kraft is no longer claimed
    appeal.instance = _start_appeal_process(decision, appeal, by)
    db.session.flush()
    version, agreement = decision.version, decision.version.agreement
    audit.record(by, "agreement.decision_appealed", agreement, instance_id=version.instance_id, version=version.number,
                 organisation_id=decision.organisation_id, court=court, case_number=case_number,
                 lodged_on=lodged_on.isoformat(), was_final=was_final, appeal_instance_id=appeal.instance_id)
    party = decision.organisation.name
    _tell_coordinator(agreement, f"Beslut överklagat: {party}",
                      f"{party}s beslut om {agreement.title} (diarienummer {decision.diarienummer}) har överklagats "
                      f"till {_court_in_sentence(court)}, målnummer {case_number}. Beslutet har inte laga kraft "
                      "förrän domstolen har avgjort målet.", appeal.instance_id)
    return appeal


def _check_appeal(decision: Decision, court: str, case_number: str, lodged_on: date | None) -> None:
    errors: dict[str, list[str]] = {}
    if not court or court.strip() == COURT_PREFIX.strip():
        errors["court"] = [_("Ange förvaltningsrätten, t.ex. Förvaltningsrätten i Göteborg.")]
    elif len(court) > 120:
        errors["court"] = [_("Högst 120 tecken.")]
    if not case_number:
        errors["case_number"] = [_("Ange målnumret.")]
    elif len(case_number) > 50:
        errors["case_number"] = [_("Högst 50 tecken.")]
    elif any(a.court == court and a.case_number == case_number for a in decision.appeals):
        errors["case_number"] = [_("Det här målet är redan registrerat för beslutet.")]
    if lodged_on is None:
        errors["lodged_on"] = [_("Ange dagen då överklagandet kom in (ÅÅÅÅ-MM-DD).")]
    elif lodged_on < decision.decided_on:
        errors["lodged_on"] = [_("Överklagandet kan inte ha kommit in före beslutet.")]
    elif lodged_on > today():
        errors["lodged_on"] = [_("Dagen kan inte ligga i framtiden.")]
    if errors:
        raise ValidationFailed(_(REFUSED), errors)


def _start_appeal_process(decision: Decision, appeal: Appeal, by: User) -> ProcessInstance:
    from service.processes.operations import start_process

    agreement = decision.version.agreement
    return start_process(APPEAL_PROCESS, by=by, title=f"{agreement.title}: överklagande {appeal.case_number}", data={
        "agreement_id": agreement.id, "decision_id": decision.id, "organisation_id": decision.organisation_id,
        "court": appeal.court, "case_number": appeal.case_number, "lodged_on": appeal.lodged_on.isoformat()})


def check_judgment(appeal: Appeal, final_on: date) -> None:
    """The outcome is registered once, and the judgment became final after the appeal came in."""
    if not appeal.is_pending:
        raise InvalidTransition(_("Domstolens avgörande är redan registrerat."))
    if final_on < appeal.lodged_on:
        too_early = _("Avgörandet kan inte ha vunnit laga kraft före överklagandet.")
        raise ValidationFailed(_(REFUSED), {"judgment_final_on": [too_early]})


def record_judgment(appeal: Appeal, judgment: Judgment, final_on: date, note: str, *, by: User) -> None:
    """Register the court's final outcome and settle the decision (final, still appealed, or set aside)."""
    check_judgment(appeal, final_on)
    appeal.judgment, appeal.judgment_final_on, appeal.judgment_note = judgment, final_on, note
    appeal.judgment_recorded_by_id, appeal.judgment_recorded_at = by.id, now()
    decision = appeal.decision
    version = decision.version
    audit.record(by, "agreement.appeal_judgment_recorded", version.agreement, instance_id=version.instance_id,
                 version=version.number, organisation_id=decision.organisation_id, court=appeal.court,
                 case_number=appeal.case_number, judgment=str(judgment), final_on=final_on.isoformat(), note=note)
    _settle(decision, by)


def _settle(decision: Decision, by: User) -> None:
    from service.agreements.operations import advance_decision

    if any(a.judgment == Judgment.ANNULLED for a in decision.appeals):
        if decision.stage != DecisionStage.ANNULLED:
            advance_decision(decision, DecisionStage.ANNULLED, by=by)
            _adoption_fell(decision)
    elif not any(a.is_pending for a in decision.appeals):
        advance_decision(decision, DecisionStage.FINAL, by=by)


def _adoption_fell(decision: Decision) -> None:
    version, agreement = decision.version, decision.version.agreement
    party = decision.organisation.name
    _tell_coordinator(agreement, f"Beslut upphävt: {party}",
                      f"Förvaltningsrätten har upphävt {party}s beslut om {agreement.title} (diarienummer "
                      f"{decision.diarienummer}). Partens antagande av version {version.number} har fallit; parten "
                      "behöver besluta på nytt.", version.instance_id)


def _tell_coordinator(agreement: Agreement, subject: str, body: str, instance_id: int | None) -> None:
    """The coordinator: the person who started the agreement and the coordinating organisation's case officers."""
    people = list(db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == agreement.coordinator_organisation_id, Membership.role == Role.CASE_OFFICER,
        User.is_enabled.is_(True)).order_by(User.id)).unique())
    creator = db.session.get(User, agreement.created_by_id)
    if creator is not None and creator.is_enabled:
        people.append(creator)
    notify(people, NotificationKind.OTHER, subject, body, instance_id=instance_id)


def laga_kraft_on(decision: Decision) -> date | None:
    """The day the decision became final: the last court judgment's, or the day after the last appeal day."""
    if decision.stage != DecisionStage.FINAL:
        return None
    decided = [a.judgment_final_on for a in decision.appeals if a.judgment_final_on]
    if decided:
        return max(decided)
    if decision.last_appeal_day is not None:
        return date.fromordinal(decision.last_appeal_day.toordinal() + 1)
    return decision.final_at.astimezone(STOCKHOLM).date() if decision.final_at else None


def appeal_period_has_ended(decision: Decision) -> bool:
    """The appeal period of a posted decision is over (the adoption's appeal_period_over timer fires then)."""
    if decision.posted_on is None:
        return False
    return now() >= datetime.fromisoformat(appeal_period_end(decision.posted_on.isoformat()))


def holds_activation(version: AgreementVersion) -> bool:
    """A decision of the round is överklagat or upphävd: the version does not apply (yet)."""
    return any(d.stage in (DecisionStage.APPEALED, DecisionStage.ANNULLED) for d in version.current_decisions())


def today() -> date:
    return now().astimezone(STOCKHOLM).date()


def _court_in_sentence(court: str) -> str:
    return court[0].lower() + court[1:] if court.startswith("Förvaltningsrätten") else court



def appeal_note(agreement: Agreement) -> str:
    """The appeals' part of the agreement's status: which parties' decisions are överklagade, and for which
    parties the version in force does not apply because the court set their decision aside."""
    versions = {v.id: v for v in (agreement.current_version, agreement.latest_version) if v is not None}
    decisions = [d for v in versions.values() for d in v.current_decisions()]
    appealed = sorted({d.organisation.name for d in decisions if d.stage == DecisionStage.APPEALED})
    annulled = sorted({d.organisation.name for d in decisions if d.stage == DecisionStage.ANNULLED
                       and d.version.is_frozen})
    notes = []
    if appealed:
        notes.append(_("beslut överklagat till förvaltningsrätten: %(parties)s", parties=", ".join(appealed)))
    if annulled:
        notes.append(_("gäller inte för %(parties)s: beslutet upphävt av förvaltningsrätten",
                       parties=", ".join(annulled)))
    return "; ".join(notes)
