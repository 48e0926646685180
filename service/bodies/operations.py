"""Joint bodies, their members and meetings, and the meeting decisions that land on cases.

A decision is recorded by the body's secretary (or chair) as the meeting's decision: the meeting must have its
attendance recorded with a member present from every party the body has members from, and the case must be
on its agenda. ``record_meeting_decision`` writes the protocol's § and lands it on its case (the case type's
registered ``land``) in the caller's transaction, with one audit event; any refusal rolls both back.

Other packages register their case types (``register_case_type``): disputes here, the annual report and
follow-ups by the report work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from service import audit
from service.agreements.models import Agreement
from service.bodies.models import (
    Adjuster,
    AgendaItem,
    Attendance,
    BodyKind,
    BodyMember,
    JointBody,
    Meeting,
    MeetingDecision,
)
from service.columns import now
from service.errors import InvalidTransition, NotPermitted, ValidationFailed
from service.extensions import db
from service.parties.models import Role, User

FORM_ERROR = "Formuläret innehåller fel. Inget har sparats."


@dataclass(frozen=True)
class CaseType:
    """A kind of case a meeting decides on: its label, its title and link for the agenda, and ``land``, which
    applies the decision to the case (called inside record_meeting_decision's transaction; raise to refuse)."""

    label: str
    title: Callable[[int], str | None]  # None: no such case
    land: Callable[[MeetingDecision, User], None]
    url: Callable[[int], str | None] = lambda _case_id: None
    # The open cases of this type a meeting may take up: (case id, title), offered on the meeting's page.
    candidates: Callable[[Meeting], list[tuple[int, str]]] = lambda _meeting: []


_CASE_TYPES: dict[str, CaseType] = {}


def register_case_type(case_type: str, spec: CaseType) -> None:
    """Let meetings put ``case_type`` cases on their agenda and land decisions on them."""
    _CASE_TYPES[case_type] = spec


def get_case_type(name: str) -> CaseType | None:
    return _CASE_TYPES.get(name)


def case_types() -> dict[str, CaseType]:
    return dict(_CASE_TYPES)


# --- bodies and members -------------------------------------------------------------------------------------

def create_body(name: str, kind: BodyKind | str, agreements: Iterable[Agreement], *, by: User | None,
                description: str = "") -> JointBody:
    """Set up a joint body serving one or more agreements."""
    _check_kind(kind)
    if not name.strip():
        raise ValidationFailed(FORM_ERROR, {"name": ["Ange organets namn."]})
    if db.session.scalar(select(JointBody.id).where(JointBody.name == name.strip())) is not None:
        raise ValidationFailed(FORM_ERROR, {"name": ["Det finns redan ett organ med det namnet."]})
    body = JointBody(name=name.strip(), kind=str(kind), description=description.strip(), agreements=list(agreements))
    db.session.add(body)
    db.session.flush()
    audit.record(by, "body.created", body, name=body.name, kind=body.kind,
                 agreement_ids=[a.id for a in body.agreements])
    return body


def update_body(body: JointBody, *, name: str, kind: BodyKind | str, agreements: Iterable[Agreement],
                description: str = "", by: User) -> None:
    """Change a body's name, kind, description or the agreements it serves."""
    _check_kind(kind)
    if not name.strip():
        raise ValidationFailed(FORM_ERROR, {"name": ["Ange organets namn."]})
    body.name, body.kind, body.description = name.strip(), str(kind), description.strip()
    body.agreements = list(agreements)
    db.session.flush()
    audit.record(by, "body.updated", body, name=body.name, kind=body.kind,
                 agreement_ids=[a.id for a in body.agreements])


def _check_kind(kind: BodyKind | str) -> None:
    if kind not in {k.value for k in BodyKind}:
        raise ValidationFailed(FORM_ERROR, {"kind": ["Okänd sorts organ."]})


@dataclass(frozen=True)
class NewMember:
    organisation_id: int
    user_id: int
    term_from: date
    term_to: date | None = None
    mandate: str = ""
    is_chair: bool = False
    is_secretary: bool = False


def add_member(body: JointBody, new: NewMember, *, by: User | None) -> BodyMember:
    """Appoint a person to the body for their organisation; a new chair or secretary replaces the old one."""
    user = db.session.get(User, int(new.user_id))
    if user is None or int(new.organisation_id) not in {m.organisation_id for m in user.memberships}:
        raise ValidationFailed(FORM_ERROR, {"user_id": ["Personen hör inte till den valda organisationen."]})
    if new.term_to is not None and new.term_to < new.term_from:
        raise ValidationFailed(FORM_ERROR, {"term_to": ["Mandatperioden kan inte sluta före den börjar."]})
    member = BodyMember(organisation_id=int(new.organisation_id), user_id=user.id, mandate=new.mandate.strip(),
                        term_from=new.term_from, term_to=new.term_to, is_chair=new.is_chair,
                        is_secretary=new.is_secretary)
    for other in body.members:  # one chair and one secretary at a time
        other.is_chair = other.is_chair and not new.is_chair
        other.is_secretary = other.is_secretary and not new.is_secretary
    body.members.append(member)
    db.session.flush()
    audit.record(by, "body.member_added", body, member_id=member.id, organisation_id=member.organisation_id,
                 user_id=member.user_id, term_from=member.term_from.isoformat(),
                 term_to=member.term_to.isoformat() if member.term_to else None,
                 is_chair=member.is_chair, is_secretary=member.is_secretary)
    return member


def end_membership(member: BodyMember, term_to: date, *, by: User) -> None:
    """End a member's term (the member stays in the history of the meetings they attended)."""
    if term_to < member.term_from:
        raise ValidationFailed(FORM_ERROR, {"term_to": ["Mandatperioden kan inte sluta före den börjar."]})
    member.term_to = term_to
    db.session.flush()
    audit.record(by, "body.member_ended", member.body, member_id=member.id, term_to=term_to.isoformat())


# --- meetings -----------------------------------------------------------------------------------------------

def schedule_meeting(body: JointBody, held_on: date, *, by: User, place: str = "") -> Meeting:
    """Put a meeting of the body in the calendar."""
    meeting = Meeting(held_on=held_on, place=place.strip(), created_by_id=by.id)
    body.meetings.append(meeting)
    db.session.flush()
    audit.record(by, "body.meeting_scheduled", meeting, body_id=body.id, held_on=held_on.isoformat())
    return meeting


def add_agenda_item(meeting: Meeting, *, by: User, title: str = "", case_type: str = "",
                    case_id: int | None = None) -> AgendaItem:
    """Add a point to the agenda: a case (its title taken from the case) or a plain point."""
    _require_open_protocol(meeting)
    if case_type:
        title = _case_title(case_type, case_id) or ""
        if meeting.has_on_agenda(case_type, int(case_id or 0)):
            raise ValidationFailed(FORM_ERROR, {"case_id": ["Ärendet står redan på dagordningen."]})
    if not title.strip():
        raise ValidationFailed(FORM_ERROR, {"title": ["Ange punktens rubrik."]})
    item = AgendaItem(position=len(meeting.agenda) + 1, title=title.strip(), case_type=case_type,
                      case_id=int(case_id) if case_type and case_id is not None else None)
    meeting.agenda.append(item)
    db.session.flush()
    audit.record(by, "body.agenda_item_added", meeting, item_id=item.id, title=item.title,
                 case_type=case_type, case_id=item.case_id)
    return item


def _case_title(name: str, case_id: int | None) -> str | None:
    spec = get_case_type(name)
    if spec is None:
        raise ValidationFailed(FORM_ERROR, {"case_type": ["Okänd ärendetyp."]})
    title = spec.title(int(case_id)) if case_id is not None else None
    if title is None:
        raise ValidationFailed(FORM_ERROR, {"case_id": ["Ärendet finns inte."]})
    return title


def record_attendance(meeting: Meeting, present_member_ids: Iterable[int], *, by: User) -> None:
    """Record who came: every member in term on the meeting day is recorded present or absent."""
    _require_open_protocol(meeting)
    present = {int(i) for i in present_member_ids}
    members = meeting.body.members_on(meeting.held_on)
    unknown = present - {m.id for m in members}
    if unknown:
        raise ValidationFailed(FORM_ERROR, {"present": ["Bara organets ledamöter under mötesdagen kan vara närvarande."]})
    meeting.attendances.clear()
    db.session.flush()
    meeting.attendances.extend(Attendance(member_id=m.id, member=m, is_present=m.id in present) for m in members)
    db.session.flush()
    audit.record(by, "body.attendance_recorded", meeting, present=sorted(present),
                 absent=sorted(m.id for m in members if m.id not in present))


def choose_adjusters(meeting: Meeting, member_ids: Iterable[int], *, by: User) -> None:
    """Name the members who justerar the protocol (present members)."""
    _require_open_protocol(meeting)
    chosen = {int(i) for i in member_ids}
    present = {m.id for m in meeting.present_members()}
    if not chosen or not chosen <= present:
        raise ValidationFailed(FORM_ERROR, {"adjusters": ["Välj justerare bland de närvarande ledamöterna."]})
    meeting.adjusters.clear()
    db.session.flush()
    meeting.adjusters.extend(Adjuster(member_id=i) for i in sorted(chosen))
    db.session.flush()
    audit.record(by, "body.adjusters_chosen", meeting, member_ids=sorted(chosen))


def justera(meeting: Meeting, *, by: User) -> None:
    """A named justerare approves the protocol; when all have, the protocol is justerat and closed."""
    _require_open_protocol(meeting)
    adjuster = next((a for a in meeting.adjusters if a.member.user_id == by.id), None)
    if adjuster is None:
        raise NotPermitted("Bara de utsedda justerarna kan justera protokollet.")
    if not meeting.decisions:
        raise InvalidTransition("Protokollet har inga beslut att justera.")
    adjuster.justerat_at = now()
    if all(a.justerat_at is not None for a in meeting.adjusters):
        meeting.justerad_at = now()
    db.session.flush()
    audit.record(by, "body.protocol_justerat", meeting, member_id=adjuster.member_id,
                 is_complete=meeting.justerad_at is not None)


def _require_open_protocol(meeting: Meeting) -> None:
    if meeting.justerad_at is not None:
        raise InvalidTransition("Protokollet är justerat och kan inte ändras.")


# --- decisions ----------------------------------------------------------------------------------------------

def may_record_decisions(user: User, meeting: Meeting) -> bool:
    """The body's secretary or chair (in term on the meeting day) writes the protocol."""
    return any(m.user_id == user.id and (m.is_secretary or m.is_chair) for m in meeting.body.members_on(meeting.held_on))


def record_meeting_decision(meeting: Meeting, case_type: str, case_id: int | None, text: str, *, by: User,
                            outcome: str = "", paragraph: int | None = None) -> MeetingDecision:
    """Record the body's decision (§) on a case on the agenda and land it on the case, in one transaction."""
    _require_open_protocol(meeting)
    if not may_record_decisions(by, meeting):
        raise NotPermitted("Bara organets sekreterare eller ordförande för in mötets beslut i protokollet.")
    _require_quorum(meeting)
    if case_type and not meeting.has_on_agenda(case_type, int(case_id or 0)):
        raise ValidationFailed(FORM_ERROR, {"case_id": ["Ärendet står inte på mötets dagordning."]})
    if not text.strip():
        raise ValidationFailed(FORM_ERROR, {"text": ["Skriv beslutet."]})
    decision = MeetingDecision(paragraph=_paragraph(meeting, paragraph), text=text.strip(), outcome=outcome,
                               case_type=case_type, case_id=int(case_id) if case_type and case_id else None,
                               recorded_by_id=by.id, recorded_at=now())
    meeting.decisions.append(decision)
    db.session.flush()
    audit.record(by, "body.decision_recorded", meeting, decision_id=decision.id, paragraph=decision.paragraph,
                 case_type=case_type, case_id=decision.case_id, outcome=outcome, text=decision.text,
                 present=sorted(m.id for m in meeting.present_members()))
    spec = get_case_type(case_type) if case_type else None
    if spec is not None:
        spec.land(decision, by)
    db.session.flush()
    return decision


def _require_quorum(meeting: Meeting) -> None:
    if not meeting.attendances:
        raise InvalidTransition("Mötets närvaro är inte registrerad.")
    absent = meeting.absent_organisation_ids()
    if absent:
        names = sorted(m.organisation.name for m in meeting.body.members_on(meeting.held_on)
                       if m.organisation_id in absent)
        raise InvalidTransition(_("Mötet kan inte besluta: ingen ledamot närvarande från %(parties)s.",
                                  parties=", ".join(dict.fromkeys(names))))


def _paragraph(meeting: Meeting, wanted: int | None) -> int:
    used = {d.paragraph for d in meeting.decisions}
    if wanted is None:
        return max(used, default=0) + 1
    if int(wanted) < 1 or int(wanted) in used:
        raise ValidationFailed(FORM_ERROR, {"paragraph": ["Paragrafnumret är upptaget eller ogiltigt."]})
    return int(wanted)


# --- queries ------------------------------------------------------------------------------------------------

def bodies_of(agreement_id: int, kind: BodyKind | None = None) -> list[JointBody]:
    """The joint bodies serving the agreement (of ``kind``), by name."""
    query = select(JointBody).join(JointBody.agreements).where(Agreement.id == agreement_id).order_by(JointBody.name)
    if kind is not None:
        query = query.where(JointBody.kind == kind)
    return list(db.session.scalars(query))


def decisions_on(case_type: str, case_id: int) -> list[MeetingDecision]:
    """The meeting decisions that landed on a case, oldest first."""
    return list(db.session.scalars(select(MeetingDecision).where(
        MeetingDecision.case_type == case_type, MeetingDecision.case_id == case_id).order_by(MeetingDecision.id)))


def may_manage_body(user: User, body: JointBody | None = None, agreement: Agreement | None = None) -> bool:
    """An admin, or a case officer of the coordinating organisation of an agreement the body serves."""
    if any(m.role == Role.ADMIN for m in user.memberships):
        return True
    agreements = list(body.agreements) if body is not None else []
    if agreement is not None:
        agreements.append(agreement)
    return any(user.has_role(a.coordinator_organisation_id, Role.CASE_OFFICER) for a in agreements)


def member_of(user_id: int, meeting: Meeting) -> BodyMember | None:
    """The member row of ``user_id`` in the meeting's body on the meeting day, or None."""
    return next((m for m in meeting.body.members_on(meeting.held_on) if m.user_id == user_id), None)
