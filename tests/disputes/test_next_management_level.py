"""Issue #20 item 3, seed 003: a dispute is solved "i första hand … i ordinarie linjeorganisation, alternativt
lyftas till närmast övergripande ledningsnivå". A party's manager at level 1 may lift it, once, to the next
management level up in every party's line organisation (Överordnad chef) before it goes to the steering group."""

from __future__ import annotations

from service.disputes.models import Dispute, DisputeLevel, DisputeStatus
from service.parties.models import Role
from tests.deviations.world import World, _user, complete, post_form, ready_ids, ready_task
from tests.disputes.test_dispute_flow import dispute_events, open_dispute

LIFT = {"outcome": "raise", "motivation": "Frågan gäller båda förvaltningarnas budget; cheferna kan inte besluta."}


def _lifted(world: World) -> Dispute:
    for username, organisation in (("overchef_vgr", world.region), ("overchef_alingsas", world.alingsas)):
        _user(world.db, username, organisation, [Role.SENIOR_MANAGER])
    dispute = open_dispute(world)
    complete(world, "chef_vgr", "line_position", {"outcome": "agreed", "solution": "Kommunen beställer."}, world.region.id)
    complete(world, "chef_alingsas", "line_position", LIFT, world.alingsas.id)
    return dispute


def test_a_manager_lifts_the_dispute_and_the_senior_managers_agree(world: World) -> None:
    db = world.db
    dispute = _lifted(world)
    assert sorted(ready_ids(db)) == ["higher_position", "higher_position"]
    db.session.expire_all()
    assert (dispute.status, dispute.level) == (DisputeStatus.OPEN, DisputeLevel.LINE)  # the same level, its time runs
    task = ready_task(db, "higher_position", world.region.id)
    assert task.due_at == dispute.level_due_at
    inbox = world.browser("overchef_vgr").get("/uppgifter").get_data(as_text=True)
    assert "Försöka komma överens (närmast högre ledningsnivå)" in inbox
    page = world.browser("overchef_vgr").get(f"/tvister/{dispute.id}").get_data(as_text=True)
    assert "lyft till närmast högre ledningsnivå" in page and LIFT["motivation"] in page
    assert world.browser("chef_vgr").get(f"/uppgifter/{task.id}").status_code == 403  # the level up's task

    solution = {"outcome": "agreed", "solution": "Regionen beställer hjälpmedlet före utskrivningen."}
    complete(world, "overchef_vgr", "higher_position", solution, world.region.id)
    complete(world, "overchef_alingsas", "higher_position", solution, world.alingsas.id)
    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute.id)
    assert (dispute.status, dispute.level, dispute.decision) == (DisputeStatus.RESOLVED, DisputeLevel.LINE,
                                                                 solution["solution"])
    assert ready_ids(db) == []
    assert [a for a, _ in dispute_events(db)][2:] == [
        "dispute.position_recorded", "dispute.raised_in_line", "dispute.position_recorded",
        "dispute.position_recorded", "dispute.resolved"]


def test_the_level_up_not_agreeing_sends_it_to_the_steering_group(world: World) -> None:
    db = world.db
    dispute = _lifted(world)
    complete(world, "overchef_vgr", "higher_position",
             {"outcome": "not_agreed", "motivation": "Regionen anser att kommunen ska bekosta det."}, world.region.id)
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).level == DisputeLevel.STEERING_GROUP
    assert ready_ids(db) == ["steering_decision"]


def test_lifting_needs_a_reason_and_the_level_up_cannot_lift_again(world: World) -> None:
    db = world.db
    for username, organisation in (("overchef_vgr", world.region), ("overchef_alingsas", world.alingsas)):
        _user(db, username, organisation, [Role.SENIOR_MANAGER])
    open_dispute(world)
    task = ready_task(db, "line_position", world.alingsas.id)
    refused = post_form(world.browser("chef_alingsas"), f"/uppgifter/{task.id}", {"outcome": "raise"})
    assert refused.status_code == 422 and "motivation" in refused.get_data(as_text=True)
    complete(world, "chef_alingsas", "line_position", LIFT, world.alingsas.id)
    higher = ready_task(db, "higher_position", world.alingsas.id)
    again = post_form(world.browser("overchef_alingsas"), f"/uppgifter/{higher.id}", LIFT)
    assert again.status_code == 422
    assert sorted(ready_ids(db)) == ["higher_position", "higher_position"]
