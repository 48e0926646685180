"""Recommendations by membership (issue #19 item 6), through the web pages on both databases: a förbund
recommends to its members among the parties; parties that are members of none are never held; a "no" is
advice and sends nothing back; several förbund recommend in parallel; members read it in their decision task."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service import clock
from service.agreements.models import AgreementStatus, VersionStatus
from service.agreements.recommendations import RecommendationStage, recommendation_for
from service.notifications.models import Notification
from service.parties.models import Organisation, OrganisationKind, OrganisationMembership, Role
from service.parties.operations import add_association_membership
from service.parties.queries import list_members
from service.processes.models import HumanTask, TaskStatus
from tests.conftest import Parties, draft_data, login
from tests.inbox.test_adoption_flow import (
    adopt_by,
    agreement,
    as_user,
    complete,
    fire_due_timers,
    post_form,
    start_agreement,
    task_url,
)

YES = {"recommends": "yes", "decided_on": "2026-11-27", "paragraph": "§ 7"}
NO = {"recommends": "no", "decided_on": "2026-11-27", "paragraph": "§ 8", "reason": "Kostnaderna är oklara."}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    yield
    clock.reset()


@pytest.fixture
def forbund(db: Any, parties: Parties, make_organisation: Any, make_user: Any) -> dict[str, Organisation]:
    """GR and VästKom, each with a secretary; both kommuner are members of both, the region of neither."""
    made = {"gr": make_organisation(name="Göteborgsregionen (GR)", kind=OrganisationKind.KOMMUNALFORBUND,
                                    bodies=["Förbundsstyrelsen"]),
            "vastkom": make_organisation(name="VästKom", kind=OrganisationKind.OTHER, bodies=["VästKoms styrelse"])}
    for association in made.values():
        make_user([(association, Role.BODY_SECRETARY)], username=f"sekr{association.id}")
        for member in (parties.goteborg, parties.alingsas):
            add_association_membership(member, association, by=None)
    db.session.commit()
    return made


def ready(db: Any, bpmn_id: str) -> list[int | None]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(HumanTask.organisation_id).where(
        HumanTask.bpmn_id == bpmn_id, HumanTask.status == TaskStatus.READY)))


def party_ready(db: Any) -> list[int | None]:
    """Organisations with a task of their own adoption open (the proposal's arrival, the decision, ...)."""
    db.session.expire_all()
    return sorted(db.session.scalars(select(HumanTask.organisation_id).where(
        HumanTask.bpmn_id.not_in(("draft", "recommend")), HumanTask.status == TaskStatus.READY)))


def party_task_url(db: Any, organisation: Organisation) -> str:
    """The organisation's open task of its own adoption (where its decision is prepared and registered)."""
    db.session.expire_all()
    task_id = db.session.scalars(select(HumanTask.id).where(
        HumanTask.organisation_id == organisation.id, HumanTask.bpmn_id != "recommend",
        HumanTask.status == TaskStatus.READY)).first()
    return f"/uppgifter/{task_id}"


def recommend(client: FlaskClient, db: Any, association: Organisation, answer: dict[str, Any]) -> None:
    complete(client, db, f"sekr{association.id}", "recommend", {**answer, "body_id": association.bodies[0].id},
             association.id)


def test_a_party_no_member_of_the_recommender_decides_at_once(client: FlaskClient, db: Any, parties: Parties,
                                                            forbund: dict[str, Organisation]) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, recommender_ids=[forbund["gr"].id]))
    # The region is no member of GR: its decision task is there at once, as are the members' (advice holds nobody).
    assert party_ready(db) == sorted(org.id for org in parties.all)
    assert ready(db, "recommend") == [forbund["gr"].id]
    version = agreement(db, agreement_id).latest_version
    assert recommendation_for(version, parties.region.id) is None
    assert recommendation_for(version, parties.alingsas.id) == RecommendationStage.AWAITED


def test_gr_saying_no_sends_nothing_back_and_the_members_still_decide(client: FlaskClient, db: Any, parties: Parties,
                                                                      forbund: dict[str, Organisation]) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, recommender_ids=[forbund["gr"].id]))
    recommend(client, db, forbund["gr"], NO)
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.AWAITING_DECISIONS and ready(db, "draft") == []
    assert recommendation_for(record.latest_version, parties.goteborg.id) == RecommendationStage.NOT_RECOMMENDED
    as_user(client, parties.secretaries[parties.alingsas.id].username)
    page = client.get(party_task_url(db, parties.alingsas)).get_data(as_text=True)
    assert "lämnar ingen rekommendation" in page and "Kostnaderna är oklara." in page
    assert party_ready(db) == sorted(org.id for org in parties.all)  # the members still decide themselves


def test_members_receive_the_recommendation_in_their_decision_task(client: FlaskClient, db: Any, parties: Parties,
                                                                   forbund: dict[str, Organisation]) -> None:
    start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, recommender_ids=[forbund["gr"].id]))
    as_user(client, f"sekr{forbund['gr'].id}")
    page = client.get(task_url(db, "recommend")).get_data(as_text=True)
    assert "Alingsås kommun, Göteborgs Stad." in page  # whom the recommendation goes to: not the region
    recommend(client, db, forbund["gr"], YES)
    member = parties.secretaries[parties.alingsas.id]
    as_user(client, member.username)
    page = client.get(party_task_url(db, parties.alingsas)).get_data(as_text=True)
    advice = page[page.index('id="member-recommendations"'):]
    assert "Göteborgsregionen (GR)" in advice and "rekommenderar medlemmarna att anta avtalet" in advice
    assert "§ 7" in advice
    as_user(client, parties.secretaries[parties.region.id].username)
    page = client.get(party_task_url(db, parties.region)).get_data(as_text=True)
    assert 'id="member-recommendations"' not in page
    told = db.session.scalars(select(Notification.user_id).where(Notification.subject.like("Rekommendation från%")))
    assert sorted(told) == sorted(parties.secretaries[org.id].id for org in (parties.goteborg, parties.alingsas))


def test_two_forbund_recommend_in_parallel(client: FlaskClient, db: Any, parties: Parties,
                                           forbund: dict[str, Organisation]) -> None:
    agreement_id = start_agreement(client, parties)
    gr, vastkom = forbund["gr"], forbund["vastkom"]
    complete(client, db, "anna", "draft", draft_data(parties, recommender_ids=[gr.id, vastkom.id]))
    assert ready(db, "recommend") == sorted([gr.id, vastkom.id])  # both at once, not VästKom first
    recommend(client, db, gr, YES)
    version = agreement(db, agreement_id).latest_version
    assert recommendation_for(version, parties.goteborg.id) == RecommendationStage.AWAITED
    recommend(client, db, vastkom, YES)
    db.session.expire_all()
    assert recommendation_for(version, parties.goteborg.id) == RecommendationStage.RECOMMENDED
    as_user(client, parties.secretaries[parties.goteborg.id].username)
    page = client.get(party_task_url(db, parties.goteborg)).get_data(as_text=True)
    advice = page[page.index('id="member-recommendations"'):]
    assert "Göteborgsregionen (GR)" in advice and "VästKom" in advice


def test_an_unanswered_recommendation_closes_when_the_agreement_applies(client: FlaskClient, db: Any, parties: Parties,
                                                                        forbund: dict[str, Organisation]) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, recommender_ids=[forbund["gr"].id]))
    adopt_by(client, db, parties, parties.all)
    clock.advance(timedelta(days=40))
    fire_due_timers(db)
    record = agreement(db, agreement_id)
    assert record.status == AgreementStatus.ACTIVE and record.latest_version.status == VersionStatus.ADOPTED
    assert ready(db, "recommend") == []  # GR never answered: its task closed, nothing waited for it


def test_a_recommender_with_no_member_among_the_parties_is_refused(client: FlaskClient, db: Any, parties: Parties,
                                                                   make_organisation: Any) -> None:
    skaraborg = make_organisation(name="Skaraborgs kommunalförbund", kind=OrganisationKind.KOMMUNALFORBUND)
    start_agreement(client, parties)
    as_user(client, "anna")
    response = post_form(client, task_url(db, "draft"), draft_data(parties, recommender_ids=[skaraborg.id]))
    assert response.status_code == 422
    assert "Skaraborgs kommunalförbund har ingen medlem bland parterna." in response.get_data(as_text=True)
    assert ready(db, "draft") != []


def test_memberships_are_kept_from_the_command_line_and_shown_to_admins(app: Flask, db: Any, parties: Parties,
                                                                        make_organisation: Any, make_user: Any) -> None:
    gr = make_organisation(name="Göteborgsregionen (GR)", kind=OrganisationKind.KOMMUNALFORBUND)
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["organisations", "add-member", "Alingsås kommun", gr.name]).exit_code == 0
    repeated = runner.invoke(args=["organisations", "add-member", "Alingsås kommun", gr.name])
    assert repeated.exit_code == 1 and "redan medlem" in repeated.output
    assert runner.invoke(args=["organisations", "add-member", "Okänd kommun", gr.name]).exit_code == 2
    listed = runner.invoke(args=["organisations", "members", gr.name])
    assert listed.output.splitlines() == ["Alingsås kommun"]
    admin = make_user([(parties.region, Role.ADMIN)], username="admin")
    db.session.commit()
    client = app.test_client()
    assert login(client, admin.username).status_code == 302
    page = client.get(f"/admin/organisationer/{parties.alingsas.id}").get_data(as_text=True)
    assert "Medlem i</dt>\n  <dd>Göteborgsregionen (GR)</dd>" in page
    assert runner.invoke(args=["organisations", "remove-member", "Alingsås kommun", gr.name]).exit_code == 0
    db.session.expire_all()
    assert list_members(gr.id) == [] and db.session.scalars(select(OrganisationMembership)).all() == []
