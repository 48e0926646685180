"""Issue #18, item 1: a form's fields and the page's controls never share a name. The deviation's
``investigate`` form has a field named ``action`` (answer or question); saving it as a draft must not
complete the task."""

from __future__ import annotations

import re

from service.engine.forms import CONTROL_NAMES
from service.processes.models import TaskStatus
from tests.deviations.test_deviation_flow import ANSWER, report
from tests.deviations.world import World, complete, post_form, ready_task


def test_saving_a_draft_of_a_form_with_a_field_named_action_never_completes_it(world: World) -> None:
    report(world, world.region)
    complete(world, "kontakt_vgr", "acknowledge", {"handler": "Enhetschef avdelning 12"})
    task = ready_task(world.db, "investigate")
    url = f"/uppgifter/{task.id}"
    page = world.browser("kontakt_vgr").get(url).get_data(as_text=True)
    page = re.search(r'<form method="post" novalidate enctype="multipart/form-data">.*?</form>', page, re.S).group(0)
    fields = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', page)) - {"csrf_token"}
    controls = set(re.findall(r'<button[^>]*\bname="([^"]+)"', page))
    assert "action" in fields and controls == {"_action"} and not fields & CONTROL_NAMES

    saved = post_form(world.browser("kontakt_vgr"), url, {**ANSWER, "_action": "save"})

    assert saved.status_code == 302 and saved.headers["Location"].endswith(url)
    world.db.session.expire_all()
    assert task.status == TaskStatus.READY and task.draft_saved_at is not None
    assert 'value="answer" checked' in world.browser("kontakt_vgr").get(url).get_data(as_text=True)
    complete(world, "kontakt_vgr", "investigate", {**ANSWER, "_action": "complete"})
    world.db.session.expire_all()
    assert task.status == TaskStatus.COMPLETED
