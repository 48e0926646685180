"""API messages with values are translated too (issue #18, item 9): a message naming a value is a Message (its
msgid has %(name)s placeholders), so the English catalogue gives it with the value in place."""

from __future__ import annotations

from tests.api.conftest import ApiWorld, problem_fields


def test_a_message_naming_a_value_is_in_the_request_s_language(api: ApiWorld) -> None:
    client = api.client("officer_a")
    body = {"process_id": "no_such_process", "title": "Ett ärende", "data": {"organisation_id": api.org_a.id}}

    english = client.post("/api/v1/instances", json=body, headers={"Accept-Language": "en"})
    swedish = client.post("/api/v1/instances", json=body, headers={"Accept-Language": "sv"})

    assert english.status_code == swedish.status_code == 422
    assert problem_fields(english)["process_id"] == ["The process 'no_such_process' is not deployed."]
    assert problem_fields(swedish)["process_id"] == ["Processen 'no_such_process' är inte driftsatt."]
