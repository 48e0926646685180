"""Issue #18, item 3: the auditor role never vetoes another role's work. A person who is an auditor and a
deviation contact claims and completes the contact's tasks; an auditor and nothing else stays read-only; and
the auditor role grants no change (no comment on a case seen only as an auditor)."""

from __future__ import annotations

from typing import Any

from service.inbox.models import CaseComment
from service.parties.models import Role
from service.processes.models import TaskStatus
from tests.conftest import csrf_token
from tests.deviations.test_deviation_flow import report
from tests.deviations.world import World, _user, ready_task


def post_from(world: World, username: str, page: str, target: str, data: dict[str, Any]) -> Any:
    """Open ``page`` (for its CSRF token) and post ``data`` to ``target``, as a browser does."""
    client = world.browser(username)
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(target, data={**data, "csrf_token": token})


def test_an_auditor_who_also_holds_a_working_role_does_its_work(world: World) -> None:
    world.users["granskare"] = _user(world.db, "granskare", world.region, [Role.AUDITOR])
    world.users["dubbel"] = _user(world.db, "dubbel", world.region, [Role.AUDITOR, Role.DEVIATION_CONTACT])
    ours, theirs = report(world, world.region), report(world, world.lerum)
    task = ready_task(world.db, "acknowledge", world.region.id)
    url = f"/uppgifter/{task.id}"

    assert post_from(world, "granskare", url, f"{url}/ta", {}).status_code == 403  # read-only
    assert post_from(world, "granskare", url, url, {"handler": "Granskaren"}).status_code == 403
    assert post_from(world, "dubbel", url, f"{url}/ta", {}).status_code == 302
    done = post_from(world, "dubbel", url, url, {"handler": "Enhetschef avdelning 12", "_action": "complete"})

    assert done.status_code == 302
    world.db.session.expire_all()
    assert (task.status, task.completed_by_id) == (TaskStatus.COMPLETED, world.users["dubbel"].id)
    # Seen only as an auditor (Alingsås to Lerum): read, but no comment; on their own party's case, yes.
    seen = f"/avvikelser/{theirs.id}"
    assert world.browser("dubbel").get(seen).status_code == 200
    refused = post_from(world, "dubbel", seen, f"/arenden/deviation/{theirs.id}/kommentarer", {"text": "Hej"})
    assert refused.status_code == 404
    allowed = post_from(world, "dubbel", f"/avvikelser/{ours.id}", f"/arenden/deviation/{ours.id}/kommentarer",
                        {"text": "Vi tittar på det."})
    assert allowed.status_code == 302
    world.db.session.expire_all()
    assert [c.case_id for c in world.db.session.query(CaseComment)] == [ours.id]
