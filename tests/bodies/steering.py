"""A steering group of one member per party for the world's three-party agreement, and a meeting of it."""

from __future__ import annotations

from datetime import date

from service.bodies.models import BodyKind, JointBody, Meeting
from service.bodies.operations import NewMember, add_member, create_body, schedule_meeting
from tests.deviations.world import World

TERM_FROM = date(2026, 1, 1)


def steering_group(world: World) -> JointBody:
    """Styrgruppen: the three parties' managers, the coordinating municipality's case officer as secretary."""
    body = create_body("Styrgruppen Alingsås–Lerum", BodyKind.STYRGRUPP, [world.agreement], by=None)
    for username, organisation in (("chef_vgr", world.region), ("chef_alingsas", world.alingsas),
                                   ("chef_lerum", world.lerum)):
        add_member(body, NewMember(organisation.id, world.user(username).id, TERM_FROM,
                                   mandate="Beslutar för sin huvudman", is_chair=username == "chef_vgr"), by=None)
    add_member(body, NewMember(world.alingsas.id, world.user("handlaggare").id, TERM_FROM, is_secretary=True), by=None)
    world.db.session.commit()
    return body


def meeting_of(world: World, body: JointBody, held_on: date = date(2026, 3, 2)) -> Meeting:
    meeting = schedule_meeting(body, held_on, by=world.user("handlaggare"), place="Alingsås stadshus")
    world.db.session.commit()
    return meeting


def member_ids(body: JointBody, *usernames: str, world: World) -> list[int]:
    wanted = {world.user(u).id for u in usernames}
    return [m.id for m in body.members if m.user_id in wanted]
