"""A task's page: validation errors beside the fields, lists of repeated items, attachments with size and
type limits, drafts, completing back to the inbox, comments on the case, and refused access."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.inbox.models import Attachment, CaseComment
from service.processes.models import HumanTask, TaskStatus
from tests.inbox.conftest import VALID, World, post, signed_in


def submit(client: Any, task: HumanTask, data: dict[str, Any], **kwargs: Any) -> Any:
    return post(client, f"/uppgifter/{task.id}", {"_action": "complete", **data}, page=f"/uppgifter/{task.id}", **kwargs)


def test_an_error_is_shown_beside_its_field_then_the_fixed_form_completes(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice = signed_in(app, "alice")

    refused = submit(alice, task, {**VALID, "reviewed_on": "den tjugonde"})

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'<input id="reviewed_on"[^>]*aria-describedby="fel-reviewed_on"', page)
    assert '<p class="field-error" id="fel-reviewed_on">Ange ett datum (ÅÅÅÅ-MM-DD).</p>' in page
    done = submit(alice, task, VALID)
    assert done.status_code == 302 and done.headers["Location"].endswith("/uppgifter")
    assert "Uppgiften ”Granska underlaget” är klar." in alice.get("/uppgifter").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).status == TaskStatus.COMPLETED


def test_list_of_repeated_items_with_an_error_in_one_row(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice = signed_in(app, "alice")
    rows = {"actions-0-what": "Komplettera budgeten", "actions-0-by": "2026-12-01",
            "actions-1-what": "", "actions-1-by": "snart", "actions-2-what": "", "actions-2-by": ""}

    refused = submit(alice, task, {**VALID, **rows})

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="fel-actions-1-by"' in page and 'id="fel-actions-1-what"' in page
    done = submit(alice, task, {**VALID, **rows, "actions-1-by": ""})  # the second row is now empty: not an item
    assert done.status_code == 302
    completed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).one()
    assert completed.data["data"]["actions"] == [{"what": "Komplettera budgeten", "by": "2026-12-01"}]


def test_an_attachment_is_stored_and_downloadable_by_the_case_only(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice = signed_in(app, "alice")

    response = submit(alice, task, {**VALID, "evidence": (io.BytesIO(b"Protokoll"), "protokoll.txt")},
                      content_type="multipart/form-data")

    assert response.status_code == 302
    stored = db.session.scalars(select(Attachment)).one()
    assert (stored.filename, stored.size, stored.content_type) == ("protokoll.txt", 9, "text/plain")
    completed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).one()
    assert completed.data["data"]["evidence"] == stored.id
    download = alice.get(f"/bilagor/{stored.id}")
    assert download.status_code == 200 and download.data == b"Protokoll"
    assert signed_in(app, "stranger").get(f"/bilagor/{stored.id}").status_code == 404


def test_an_attachment_of_the_wrong_type_or_size_is_refused_naming_the_field(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice = signed_in(app, "alice")

    wrong_type = submit(alice, task, {**VALID, "evidence": (io.BytesIO(b"MZ..."), "program.exe")},
                        content_type="multipart/form-data")
    too_big = submit(alice, task, {**VALID, "evidence": (io.BytesIO(b"x" * 4096), "stor.txt")},
                     content_type="multipart/form-data")

    assert wrong_type.status_code == too_big.status_code == 422
    assert re.search(r'id="fel-evidence">Filtypen \([^)]*\) är inte tillåten', wrong_type.get_data(as_text=True))
    assert 'id="fel-evidence">Filen är för stor (högst 2 kB).' in too_big.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Attachment)).all() == []
    assert db.session.get(HumanTask, task.id).status == TaskStatus.READY


def test_an_attachment_of_another_case_cannot_be_referenced(app: Flask, db: Any, world: World) -> None:
    other = world.start("Annat ärende")
    alice = signed_in(app, "alice")
    post(alice, f"/uppgifter/{other.id}", {"_action": "save", "evidence": (io.BytesIO(b"hemligt"), "a.txt")},
         page=f"/uppgifter/{other.id}", content_type="multipart/form-data")
    foreign = db.session.scalars(select(Attachment)).one()
    task = world.start()

    refused = submit(alice, task, {**VALID, "evidence": str(foreign.id)})

    assert refused.status_code == 422 and 'id="fel-evidence"' in refused.get_data(as_text=True)


def test_a_draft_keeps_values_and_the_attachment(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice = signed_in(app, "alice")

    saved = post(alice, f"/uppgifter/{task.id}", {"_action": "save", "summary": "Halvfärdig",
                                                  "evidence": (io.BytesIO(b"%PDF-1.4"), "underlag.pdf")},
                 page=f"/uppgifter/{task.id}", content_type="multipart/form-data")

    assert saved.status_code == 302
    page = alice.get(f"/uppgifter/{task.id}").get_data(as_text=True)
    assert "Halvfärdig" in page and "underlag.pdf" in page and "Utkast sparat" in page


def test_comments_are_visible_to_everyone_with_access_to_the_case(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    alice, adam = signed_in(app, "alice"), signed_in(app, "adam")

    response = post(alice, f"/arenden/instance/{task.instance_id}/kommentarer",
                    {"text": "Budgeten saknar bilaga 2.", "next": f"/uppgifter/{task.id}"})

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/uppgifter/{task.id}")
    assert "Budgeten saknar bilaga 2." in adam.get(f"/uppgifter/{task.id}").get_data(as_text=True)
    stranger, olle = signed_in(app, "stranger"), signed_in(app, "olle")
    assert stranger.get(f"/uppgifter/{task.id}").status_code == 403
    assert post(stranger, f"/arenden/instance/{task.instance_id}/kommentarer", {"text": "Hej"}).status_code == 404
    assert "Budgeten saknar bilaga 2." in olle.get(f"/uppgifter/{task.id}").get_data(as_text=True)  # auditor reads
    assert post(olle, f"/arenden/instance/{task.instance_id}/kommentarer", {"text": "Hej"}).status_code == 403
    assert post(alice, f"/arenden/instance/{task.instance_id}/kommentarer", {"text": "  "}).status_code == 422
    assert [c.text for c in db.session.scalars(select(CaseComment))] == ["Budgeten saknar bilaga 2."]


def test_refused_access_changes_nothing(app: Flask, db: Any, world: World) -> None:
    task = world.start()
    bertil = signed_in(app, "bertil")

    assert bertil.get(f"/uppgifter/{task.id}").status_code == 403
    assert submit(bertil, task, VALID).status_code == 403
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).status == TaskStatus.READY
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).all() == []
