"""Case pages: the agreement list with filters, the agreement page with each party's decision, the
timeline, comments, and 404 for people who are no party (existence must not leak)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.parties.models import Role
from tests.conftest import Parties, decision_data, draft_data
from tests.inbox.conftest import post, signed_in
from tests.inbox.test_adoption_flow import as_user, complete, frozen, start_agreement  # noqa: F401  (autouse clock)


def test_agreement_page_shows_decisions_timeline_and_comments(app: Flask, client: FlaskClient, db: Any,
                                                              parties: Parties) -> None:
    agreement_id = start_agreement(client, parties, "Mini-Maria Alingsås")
    complete(client, db, "anna", "draft", draft_data(parties))
    region = parties.region
    complete(client, db, parties.secretaries[region.id].username, "decide", decision_data(region), region.id)
    secretary = signed_in(app, parties.secretaries[region.id].username)
    url = f"/avtal/{agreement_id}"

    post(secretary, f"/arenden/agreement/{agreement_id}/kommentarer", {"text": "Protokollet justeras 30/11.",
                                                                      "next": url}, page=url)
    page = signed_in(app, "anna").get(url).get_data(as_text=True)

    decisions = re.search(r'<table class="list" id="decisions">(.*?)</table>', page, re.S).group(1)
    assert re.search(r"Västra Götalandsregionen</td><td>[^<]*</td>\s*<td>Antaget", decisions)
    timeline = re.search(r'<ol id="timeline">(.*?)</ol>', page, re.S).group(1)
    assert "Arbetet med avtalet påbörjades" in timeline and "Uppgift utförd – Registrera beslut om avtalet" in timeline
    assert "Protokollet justeras 30/11." in page


def test_agreement_list_filters_and_hidden_agreements(app: Flask, client: FlaskClient, db: Any, parties: Parties,
                                                      make_organisation: Any, make_user: Any) -> None:
    first = start_agreement(client, parties, "Mini-Maria Göteborg")
    second = start_agreement(client, parties, "Hemsjukvård i Göteborg")
    outsider = make_user([(make_organisation(name="Kiruna kommun"), Role.CASE_OFFICER)], username="kiruna")
    anna = signed_in(app, "anna")

    def ids(url: str) -> list[int]:
        return [int(i) for i in re.findall(r'href="/avtal/(\d+)"', anna.get(url).get_data(as_text=True))]

    assert ids("/avtal") == [second, first]
    assert ids("/avtal?q=mini") == [first]
    assert ids("/avtal?status=draft") == [second, first]
    assert ids("/avtal?status=active") == []
    assert ids(f"/avtal?part={parties.alingsas.id}") == []  # parties are chosen in the draft
    stranger = signed_in(app, outsider.username)
    assert stranger.get(f"/avtal/{first}").status_code == 404
    assert "Mini-Maria" not in stranger.get("/avtal").get_data(as_text=True)
    assert post(stranger, f"/arenden/agreement/{first}/kommentarer", {"text": "Hej"}).status_code == 404
