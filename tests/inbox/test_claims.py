"""Claim, release and hand over group tasks through the web pages: audited, refused outside the group,
and of two people claiming the same task one wins and the other gets a clear 409."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.processes.models import HumanTask
from tests.inbox.conftest import World, post, signed_in


def task_row(db: Any, task_id: int) -> HumanTask:
    db.session.expire_all()
    return db.session.get(HumanTask, task_id)


def actions(db: Any, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_a_claimed_task_moves_from_the_group_list_to_mine(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice, adam = signed_in(app, "alice"), signed_in(app, "adam")
    assert f'data-task-id="{task.id}"' in adam.get("/uppgifter?lista=grupp").get_data(as_text=True)

    response = post(alice, f"/uppgifter/{task.id}/ta")

    assert response.status_code == 302
    assert task_row(db, task.id).claimed_by_id == world.alice.id
    assert f'data-task-id="{task.id}"' in alice.get("/uppgifter?lista=mina").get_data(as_text=True)
    assert f'data-task-id="{task.id}"' not in adam.get("/uppgifter?lista=grupp").get_data(as_text=True)
    assert "Tagen av Alice Ek" in adam.get(f"/uppgifter/{task.id}").get_data(as_text=True)
    refused = post(adam, f"/uppgifter/{task.id}", {**{"summary": "x"}, "_action": "complete"}, page=f"/uppgifter/{task.id}")
    assert refused.status_code == 403
    [event] = actions(db, "task.claimed")
    assert event.actor_id == world.alice.id and event.data["task"] == "review"


def test_the_second_claim_gets_409_naming_who_has_it(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice, adam = signed_in(app, "alice"), signed_in(app, "adam")
    token_page = f"/uppgifter/{task.id}"  # both opened the task while it was still unclaimed

    first = post(alice, f"/uppgifter/{task.id}/ta", page=token_page)
    second = post(adam, f"/uppgifter/{task.id}/ta", page=token_page)

    assert first.status_code == 302
    assert second.status_code == 409
    assert "Uppgiften har redan tagits av Alice Ek." in second.get_data(as_text=True)
    assert task_row(db, task.id).claimed_by_id == world.alice.id
    assert len(actions(db, "task.claimed")) == 1


def test_two_claims_at_the_same_moment_one_wins(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    clients = {"alice": signed_in(app, "alice"), "adam": signed_in(app, "adam")}
    tokens = {name: _token(client, task.id) for name, client in clients.items()}
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def claim(name: str) -> None:
        with app.app_context():
            barrier.wait()
            response = clients[name].post(f"/uppgifter/{task.id}/ta", data={"csrf_token": tokens[name]})
            results[name] = response.status_code

    threads = [threading.Thread(target=claim, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results.values()) == [302, 409]
    winner = next(name for name, status in results.items() if status == 302)
    assert task_row(db, task.id).claimed_by_id == getattr(world, winner).id
    assert len(actions(db, "task.claimed")) == 1


def _token(client: Any, task_id: int) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client.get(f"/uppgifter/{task_id}").get_data(as_text=True))


def test_release_gives_the_task_back_to_the_group(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice, adam = signed_in(app, "alice"), signed_in(app, "adam")
    post(alice, f"/uppgifter/{task.id}/ta")

    assert post(adam, f"/uppgifter/{task.id}/slapp").status_code == 403  # only the one who has it
    assert post(alice, f"/uppgifter/{task.id}/slapp").status_code == 302

    assert task_row(db, task.id).claimed_by_id is None
    assert f'data-task-id="{task.id}"' in adam.get("/uppgifter?lista=grupp").get_data(as_text=True)
    assert [e.actor_id for e in actions(db, "task.released")] == [world.alice.id]


def test_hand_over_to_a_colleague_in_the_group_is_audited(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice = signed_in(app, "alice")
    post(alice, f"/uppgifter/{task.id}/ta")

    response = post(alice, f"/uppgifter/{task.id}/overlamna", {"to_user_id": world.adam.id})

    assert response.status_code == 302
    assert task_row(db, task.id).claimed_by_id == world.adam.id
    adam = signed_in(app, "adam")
    assert f'data-task-id="{task.id}"' in adam.get("/uppgifter?lista=mina").get_data(as_text=True)
    [event] = actions(db, "task.handed_over")
    assert event.actor_id == world.alice.id and event.data["to"] == {"id": world.adam.id, "name": "Adam Al"}


def test_hand_over_outside_the_group_is_refused_naming_the_field(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice = signed_in(app, "alice")
    post(alice, f"/uppgifter/{task.id}/ta")

    for outsider in (world.bertil, world.stranger):
        response = post(alice, f"/uppgifter/{task.id}/overlamna", {"to_user_id": outsider.id})
        assert response.status_code == 422
        assert "samma grupp" in response.get_data(as_text=True)
    missing = post(alice, f"/uppgifter/{task.id}/overlamna", {"to_user_id": "999999"})

    assert missing.status_code == 422
    assert task_row(db, task.id).claimed_by_id == world.alice.id
    assert actions(db, "task.handed_over") == []


def test_people_outside_the_group_cannot_claim_and_auditors_change_nothing(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    for username in ("bertil", "stranger", "olle"):
        client = signed_in(app, username)
        assert post(client, f"/uppgifter/{task.id}/ta").status_code == 403
        assert f'data-task-id="{task.id}"' not in client.get("/uppgifter?lista=grupp").get_data(as_text=True)
    assert task_row(db, task.id).claimed_by_id is None
    assert actions(db, "task.claimed") == []


def test_a_claim_without_csrf_token_is_refused(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice = signed_in(app, "alice")

    assert alice.post(f"/uppgifter/{task.id}/ta").status_code == 400
    assert task_row(db, task.id).claimed_by_id is None
