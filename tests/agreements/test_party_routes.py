"""Each party's route to "gäller för parten" through the web pages (issue #19 items 3, 4, 9 and 10): the proposal
registered on arrival, routes by kind (a meeting with justering and anslag, delegation, a signed agreement), KL 8
kap. 12 §'s limits as warnings, the decision's documents sent to the other parties, and the words on the page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service import clock
from service.agreements.decisions import deadline_warnings
from service.agreements.models import Agreement, AgreementParty, Decision, DecisionStage, ProposalReceipt
from service.audit.models import AuditEvent
from service.notifications.models import Notification
from service.parties.models import Organisation, OrganisationKind, Role
from tests.conftest import Parties, decision_data, draft_data
from tests.engine.test_appeal_period import CLOSED
from tests.inbox.test_adoption_flow import as_user, complete, is_ready, post_form, receive, start_agreement, task_url


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    yield
    clock.reset()


def last_day_by_law(start: date, days: int) -> date:
    """The oracle: ``days`` after ``start``, moved past Saturdays, Sundays and the days lag (1930:173) 2 § names
    (the holiday set computed independently in tests/engine/test_appeal_period.py)."""
    day = start + timedelta(days=days)
    while day.weekday() >= 5 or day in CLOSED:
        day += timedelta(days=1)
    return day


@pytest.fixture
def kriminalvarden(make_organisation: Any, make_user: Any) -> Organisation:
    organisation = make_organisation(name="Kriminalvården", kind=OrganisationKind.STATE_AUTHORITY,
                                     bodies=["Kriminalvården, region Väst"])
    make_user([(organisation, Role.BODY_SECRETARY)], username="kvsekr")
    return organisation


def started(client: FlaskClient, db: Any, parties: Parties, *others: Organisation) -> int:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties, party_ids=[o.id for o in (*parties.all, *others)]))
    return agreement_id


def decision_of(db: Any, organisation: Organisation) -> Decision | None:
    db.session.expire_all()
    return db.session.scalars(select(Decision).where(Decision.organisation_id == organisation.id)).one_or_none()


def test_the_proposal_is_registered_on_arrival_before_any_decision(client: FlaskClient, db: Any,
                                                                    parties: Parties) -> None:
    agreement_id = started(client, parties=parties, db=db)
    region, secretary = parties.region, parties.secretaries[parties.region.id].username
    as_user(client, secretary)
    future = post_form(client, task_url(db, "receive_proposal", region.id),
                       {"received_on": "2026-12-03", "diarienummer": "RS 2026-0948"})
    assert future.status_code == 422 and "Ankomstdagen kan inte ligga i framtiden." in future.get_data(as_text=True)
    receive(client, db, secretary, region.id, diarienummer="RS 2026-0948", received_on="2026-11-20")

    db.session.expire_all()
    receipt = db.session.scalars(select(ProposalReceipt)).one()
    assert (receipt.organisation_id, receipt.diarienummer, receipt.received_on) == (region.id, "RS 2026-0948",
                                                                                    date(2026, 11, 20))
    party = db.session.scalars(select(AgreementParty).where(AgreementParty.agreement_id == agreement_id,
                                                            AgreementParty.organisation_id == region.id)).one()
    assert party.diarienummer == "RS 2026-0948" and decision_of(db, region) is None
    page = client.get(task_url(db, "decide", region.id)).get_data(as_text=True)
    assert 'value="RS 2026-0948"' in page  # the decision form starts from the registered diarienummer
    assert 'value="decision_with_posting" checked' in page  # a region decides at a meeting by default


def test_a_preparation_is_recorded_and_starts_no_appeal_period(client: FlaskClient, db: Any, parties: Parties) -> None:
    started(client, db, parties)
    region, secretary = parties.region, parties.secretaries[parties.region.id].username
    receive(client, db, secretary, region.id, with_preparation="on")
    complete(client, db, secretary, "prepare", {"prepared_by": "Regionstyrelsens arbetsutskott",
                                                "prepared_on": "2026-11-10", "prepared_paragraph": "§ 3"}, region.id)
    db.session.expire_all()
    receipt = db.session.scalars(select(ProposalReceipt)).one()
    assert (receipt.prepared_by, receipt.prepared_on) == ("Regionstyrelsens arbetsutskott", date(2026, 11, 10))
    assert decision_of(db, region) is None and is_ready(db, "decide", region.id)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "agreement.proposal_prepared"))


def test_a_state_authority_signs_and_the_agreement_applies_for_it_at_once(client: FlaskClient, db: Any, parties: Parties,
                                                                          kriminalvarden: Organisation) -> None:
    started(client, db, parties, kriminalvarden)
    body = kriminalvarden.bodies[0].id
    as_user(client, "kvsekr")
    receive(client, db, "kvsekr", kriminalvarden.id)
    url = task_url(db, "decide", kriminalvarden.id)
    assert 'value="signed_agreement" checked' in client.get(url).get_data(as_text=True)
    refused = post_form(client, url, decision_data(kriminalvarden, route="decision_with_posting", body_id=body))
    assert refused.status_code == 422 and 'id="fel-route"' in refused.get_data(as_text=True)
    unsigned = post_form(client, url, decision_data(kriminalvarden, route="signed_agreement", body_id=body))
    assert unsigned.status_code == 422 and 'id="fel-signatory"' in unsigned.get_data(as_text=True)
    assert decision_of(db, kriminalvarden) is None

    complete(client, db, "kvsekr", "decide", decision_data(kriminalvarden, route="signed_agreement", body_id=body,
                                                           paragraph="", signatory="Regionchef, region Väst"),
             kriminalvarden.id)
    decision = decision_of(db, kriminalvarden)
    assert (decision.route, decision.signatory, decision.stage) == ("signed_agreement", "Regionchef, region Väst",
                                                                   DecisionStage.FINAL)
    assert decision.stage_label == "Gäller för parten" and not is_ready(db, "record_minutes", kriminalvarden.id)


def test_a_kommun_decides_by_delegation_and_may_not_sign(client: FlaskClient, db: Any, parties: Parties) -> None:
    started(client, db, parties)
    alingsas, secretary = parties.alingsas, parties.secretaries[parties.alingsas.id].username
    receive(client, db, secretary, alingsas.id)
    as_user(client, secretary)
    url = task_url(db, "decide", alingsas.id)
    signed = post_form(client, url, decision_data(alingsas, route="signed_agreement", signatory="Kommundirektören"))
    assert signed.status_code == 422 and 'id="fel-route"' in signed.get_data(as_text=True)
    no_delegate = post_form(client, url, decision_data(alingsas, route="delegation", paragraph=""))
    assert no_delegate.status_code == 422 and 'id="fel-delegate"' in no_delegate.get_data(as_text=True)

    complete(client, db, secretary, "decide", decision_data(alingsas, route="delegation", paragraph="",
                                                            delegate="Socialchef", delegation_reference="3.2"), alingsas.id)
    decision = decision_of(db, alingsas)
    assert (decision.route, decision.delegate, decision.delegation_reference) == ("delegation", "Socialchef", "3.2")
    assert decision.stage == DecisionStage.FINAL and not is_ready(db, "record_minutes", alingsas.id)


# (meeting, justering, anslag, rules warned): the oracle's last days, one day later, and days moved by the law.
MEETING = date(2026, 12, 10)  # + 14 days = julafton: the last day for the justering moves to Monday 28 December
KL_CASES = [
    (MEETING, last_day_by_law(MEETING, 14), last_day_by_law(last_day_by_law(MEETING, 14), 2), []),
    (MEETING, last_day_by_law(MEETING, 14) + timedelta(days=1), last_day_by_law(MEETING, 14) + timedelta(days=1),
     ["justering"]),
    (date(2026, 11, 24), date(2026, 11, 27), date(2026, 11, 30), []),  # Friday + 2 = Sunday: Monday is in time
    (date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 30), ["anslag"]),
]


def test_the_oracle_moves_the_justering_past_christmas() -> None:
    assert last_day_by_law(MEETING, 14) == date(2026, 12, 28)


@pytest.mark.parametrize(("meeting", "approved", "posted", "rules"), KL_CASES)
def test_kl_limits_are_warnings_shown_kept_and_audited(client: FlaskClient, db: Any, parties: Parties, meeting: date,
                                                       approved: date, posted: date, rules: list[str]) -> None:
    clock.freeze(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    started(client, db, parties)
    region, secretary = parties.region, parties.secretaries[parties.region.id].username
    complete(client, db, secretary, "decide", decision_data(region, decided_on=meeting.isoformat()), region.id)
    response = complete(client, db, secretary, "record_minutes", {"minutes_approved_on": approved.isoformat(),
                                                                  "posted_on": posted.isoformat()}, region.id)
    decision = decision_of(db, region)
    assert decision.posted_on == posted  # never refused: the anslag still starts the appeal period
    assert [w["rule"] for w in decision.deadline_warnings] == rules
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "agreement.decision_deadline_warning")).all()
    assert [w["rule"] for event in audited for w in event.data["warnings"]] == rules
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("Varning:" in shown) == bool(rules)


def test_the_warnings_match_the_oracle_for_every_meeting_day_2026_to_2028() -> None:
    wrong = []
    for offset in range(3 * 365):
        meeting = date(2026, 1, 1) + timedelta(days=offset)
        justering = last_day_by_law(meeting, 14)
        anslag = last_day_by_law(justering, 2)
        if deadline_warnings(meeting, justering, anslag) != []:
            wrong.append(("in time", meeting))
        late = deadline_warnings(meeting, justering + timedelta(days=1), last_day_by_law(justering + timedelta(days=1), 2))
        if [w["rule"] for w in late] != ["justering"] or late[0]["last_day"] != justering.isoformat():
            wrong.append(("late", meeting))
    assert not wrong, wrong[:5]


def test_the_decision_documents_go_to_the_other_parties(client: FlaskClient, db: Any, parties: Parties,
                                                        make_organisation: Any, make_user: Any) -> None:
    agreement_id = started(client, db, parties)
    alingsas, secretary = parties.alingsas, parties.secretaries[parties.alingsas.id].username
    receive(client, db, secretary, alingsas.id)
    as_user(client, secretary)
    data = {**decision_data(alingsas, route="delegation", paragraph="", delegate="Socialchef",
                            delegation_reference="3.2"),
            "report_attachment": (io.BytesIO(b"%PDF-1.4 tjansteskrivelse"), "tjansteskrivelse.pdf"),
            "extract_attachment": (io.BytesIO(b"%PDF-1.4 delegationsbeslut"), "delegationsbeslut.pdf")}
    url = task_url(db, "decide", alingsas.id)
    response = client.post(url, data={**data, "csrf_token": _token(client, url)}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]

    decision = decision_of(db, alingsas)
    assert decision.report_attachment_id is not None and decision.extract_attachment_id is not None
    sent = db.session.scalars(select(Notification).where(Notification.subject.like("Beslut om samverkansavtal%"))).all()
    told = {n.user.username for n in sent}
    others = {parties.secretaries[o.id].username for o in (parties.region, parties.goteborg)} | {
        parties.officers[o.id].username for o in (parties.region, parties.goteborg)} | {"anna"}
    assert told == others  # the other parties and the coordinator, never the deciding party itself
    link = f"/bilagor/{decision.extract_attachment_id}"
    assert all(link in n.body and f"/avtal/{agreement_id}" in n.body for n in sent)
    as_user(client, parties.secretaries[parties.region.id].username)
    opened = client.get(link)
    assert opened.status_code == 200 and opened.data == b"%PDF-1.4 delegationsbeslut"
    outsider = make_organisation(name="Borås Stad")
    make_user([(outsider, Role.BODY_SECRETARY)], username="utomstaende")
    as_user(client, "utomstaende")
    assert client.get(link).status_code == 404


def test_the_protokollsutdrag_goes_with_the_justering(client: FlaskClient, db: Any, parties: Parties) -> None:
    started(client, db, parties)
    region, secretary = parties.region, parties.secretaries[parties.region.id].username
    complete(client, db, secretary, "decide", decision_data(region), region.id)
    as_user(client, secretary)
    url = task_url(db, "record_minutes", region.id)
    data = {"minutes_approved_on": "2026-11-30", "posted_on": "2026-12-01",
            "extract_attachment": (io.BytesIO(b"%PDF-1.4 utdrag"), "protokollsutdrag.pdf")}
    response = client.post(url, data={**data, "csrf_token": _token(client, url)}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    decision = decision_of(db, region)
    assert decision.extract_attachment_id is not None
    assert db.session.scalars(select(Notification).where(Notification.body.contains(
        f"/bilagor/{decision.extract_attachment_id}"))).all()


def test_the_agreement_page_names_each_route_and_the_anslag(client: FlaskClient, db: Any, parties: Parties) -> None:
    agreement_id = started(client, db, parties)
    region, alingsas = parties.region, parties.alingsas
    complete(client, db, parties.secretaries[region.id].username, "decide", decision_data(region), region.id)
    complete(client, db, parties.secretaries[region.id].username, "record_minutes",
             {"minutes_approved_on": "2026-11-30", "posted_on": "2026-12-01"}, region.id)
    complete(client, db, parties.secretaries[alingsas.id].username, "decide",
             decision_data(alingsas, route="delegation", paragraph="", delegate="Socialchef", delegation_reference="3.2"),
             alingsas.id)
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert "Justerat; justeringen anslagen 2026-12-01" in page and "Justerat och anslaget" not in page
    assert "Beslut på delegation" in page and "Gäller för parten" in page
    english = client.get(f"/avtal/{agreement_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Minutes approved; approval posted 2026-12-01" in english and "Decision under delegation" in english
    assert db.session.get(Agreement, agreement_id) is not None


def _token(client: FlaskClient, url: str) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client.get(url).get_data(as_text=True))


def test_a_running_adoption_on_a_diagram_without_routes_keeps_justering_and_anslag(
        client: FlaskClient, db: Any, parties: Parties, kriminalvarden: Organisation, tmp_path: Any) -> None:
    """A version deployed before the routes (its decision form has no route): every decision goes through
    justering and anslag there, whatever the party's kind, so a running adoption ends as it began."""
    import json
    import shutil

    from service.processes.definitions import deploy_definition
    from service.transactions import commit_with_retry
    from tests.conftest import ROOT

    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    schema = json.loads((forms / "agreement-decision.schema.json").read_text())
    del schema["properties"]["route"]
    schema["allOf"] = schema["allOf"][:1]
    (forms / "agreement-decision.schema.json").write_text(json.dumps(schema, ensure_ascii=False))
    xml = (ROOT / "bpmn" / "agreement_adoption.bpmn").read_bytes()
    commit_with_retry(lambda: deploy_definition(xml, "agreement_adoption.bpmn", forms, by=None))
    started(client, db, parties, kriminalvarden)
    complete(client, db, "kvsekr", "decide", decision_data(kriminalvarden, body_id=kriminalvarden.bodies[0].id),
             kriminalvarden.id)
    decision = decision_of(db, kriminalvarden)
    assert decision.route == "decision_with_posting" and decision.stage == DecisionStage.DECIDED
    assert is_ready(db, "record_minutes", kriminalvarden.id)


def test_a_bordlaggning_is_recorded_and_the_matter_decided_later_in_the_bodys_words(
        client: FlaskClient, db: Any, parties: Parties) -> None:
    agreement_id = started(client, db, parties)
    region, alingsas = parties.region, parties.alingsas
    secretary = parties.secretaries[region.id].username
    complete(client, db, secretary, "decide", decision_data(region, "tabled", decided_on="2026-11-10",
                                                            paragraph="§ 7", reason=""), region.id)
    db.session.expire_all()
    tabled = db.session.scalars(select(Decision).where(Decision.organisation_id == region.id)).one()
    assert (tabled.outcome, tabled.decided_on, tabled.paragraph) == ("tabled", date(2026, 11, 10), "§ 7")
    assert tabled.stage == DecisionStage.DECIDED and tabled.last_appeal_day is None
    assert is_ready(db, "decide", region.id) and not is_ready(db, "record_minutes", region.id)
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert "Bordlagt 2026-11-10" in page
    english = client.get(f"/avtal/{agreement_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Tabled 2026-11-10" in english

    complete(client, db, secretary, "decide", decision_data(region, "approved"), region.id)
    complete(client, db, secretary, "record_minutes", {"minutes_approved_on": "2026-11-30", "posted_on": "2026-12-01"},
             region.id)
    complete(client, db, parties.secretaries[alingsas.id].username, "decide",
             decision_data(alingsas, "endorsed", route="delegation", paragraph="", delegate="Socialchef",
                           delegation_reference="3.2"), alingsas.id)
    db.session.expire_all()
    version = db.session.get(Agreement, agreement_id).versions[-1]
    assert [(d.organisation_id, d.outcome) for d in version.current_decisions()] == [(region.id, "approved"),
                                                                                     (alingsas.id, "endorsed")]
    assert version.current_decisions()[0].stage == DecisionStage.POSTED  # the approval's appeal period runs
    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert "Godkänt" in page and "Ställer sig bakom" in page and "Bordlagt 2026-11-10" not in page
    assert "Justerat; justeringen anslagen 2026-12-01" in page and "Gäller för parten" in page
    recorded = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "agreement.decision_recorded")).all()
    assert [(e.data["outcome"], e.data["paragraph"]) for e in recorded if e.data["organisation_id"] == region.id] \
        == [("tabled", "§ 7"), ("approved", "§ 12")]  # the bordläggning stays in the audit trail
