"""A drafting group from several parties writes the agreement with the coordinator (issue #3 item 2)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.agreements.models import AgreementDrafter, VersionStatus
from service.audit.models import AuditEvent
from service.parties.models import Role
from tests.conftest import Parties, draft_data
from tests.inbox.test_adoption_flow import agreement, as_user, post_form, start_agreement, task_url


def test_a_party_officer_in_the_drafting_group_sees_and_submits_the_draft(
        client: FlaskClient, db: Any, parties: Parties) -> None:
    agreement_id = start_agreement(client, parties)
    alingsas_officer = parties.officers[parties.alingsas.id]
    region_officer = parties.officers[parties.region.id]
    draft_url = task_url(db, "draft")

    as_user(client, alingsas_officer.username)
    assert client.get(draft_url).status_code == 403
    assert draft_url not in client.get("/uppgifter?lista=grupp").get_data(as_text=True)

    as_user(client, "anna")
    added = post_form(client, f"/avtal/{agreement_id}/skrivgrupp", {"action": "add", "user_id": alingsas_officer.id})
    assert added.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "agreement.drafter_added")) == 1

    as_user(client, alingsas_officer.username)
    assert draft_url in client.get("/uppgifter?lista=grupp").get_data(as_text=True)
    response = post_form(client, draft_url, draft_data(parties))
    assert response.status_code == 302
    assert agreement(db, agreement_id).latest_version.status != VersionStatus.DRAFT

    as_user(client, region_officer.username)  # a party's officer outside the group
    assert post_form(client, f"/avtal/{agreement_id}/skrivgrupp",
                     {"action": "add", "user_id": region_officer.id}).status_code == 403


def test_only_party_officers_can_join_and_bad_input_changes_nothing(
        client: FlaskClient, db: Any, parties: Parties, make_organisation: Any, make_user: Any) -> None:
    agreement_id = start_agreement(client, parties)
    stranger = make_user([(make_organisation(name="Borås Stad"), Role.CASE_OFFICER)], username="boras")
    manager = make_user([(parties.alingsas, Role.MANAGER)], username="chef")
    as_user(client, "anna")
    assert post_form(client, task_url(db, "draft"), draft_data(parties)).status_code == 302  # the parties are named
    url = f"/avtal/{agreement_id}/skrivgrupp"

    assert post_form(client, url, {"action": "add", "user_id": stranger.id}).status_code == 409
    assert post_form(client, url, {"action": "add", "user_id": manager.id}).status_code == 409
    assert post_form(client, url, {"action": "add", "user_id": "x"}).status_code == 400
    assert post_form(client, url, {"action": "remove", "user_id": parties.officers[parties.region.id].id}).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(AgreementDrafter)) == 0
