"""The agreement page once every party has decided: not "Väntar på beslut" but waiting for laga kraft, with the
day after which the decisions become final; the timeline names each decision step, never by its event code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from service import clock
from tests.conftest import Parties, decision_data, draft_data
from tests.inbox.test_adoption_flow import complete, start_agreement

# Posted on different days: the last appeal day of the last one (2027-01-08, three weeks on) is the one that counts.
POSTED_ON = ["2026-12-11", "2026-12-14", "2026-12-18"]


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(datetime(2026, 12, 18, 12, 0, tzinfo=UTC))
    yield
    clock.reset()


def status(page: str) -> str:
    return page.split('id="agreement-status">', 1)[1].split("</span>", 1)[0]


def test_all_decided_shows_waiting_for_laga_kraft_and_its_day(client: FlaskClient, db: Any, parties: Parties,
                                                              frozen: None) -> None:
    agreement_id = start_agreement(client, parties)
    complete(client, db, "anna", "draft", draft_data(parties))
    for number, organisation in enumerate(parties.all):
        user = parties.secretaries[organisation.id].username
        complete(client, db, user, "decide", decision_data(organisation), organisation.id)
        if number < len(parties.all) - 1:
            assert status(client.get(f"/avtal/{agreement_id}").get_data(as_text=True)) == "Väntar på beslut"
        complete(client, db, user, "record_minutes", {"minutes_approved_on": POSTED_ON[number],
                                                      "posted_on": POSTED_ON[number]}, organisation.id)

    page = client.get(f"/avtal/{agreement_id}").get_data(as_text=True)
    assert status(page) == "Alla parter har beslutat – väntar på laga kraft"
    assert "laga kraft dagen efter sista dag för överklagande, 2027-01-08" in page.split('id="final-expected">')[1]
    timeline = page.split('id="timeline">', 1)[1].split("</ol>", 1)[0]
    assert "Protokollet justerades och anslogs" in timeline and "agreement.decision_" not in timeline

    english = client.get(f"/avtal/{agreement_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert status(english) == "All parties have decided – awaiting laga kraft (final)"
    assert "The minutes were approved and posted" in english and "agreement.decision_" not in english
