"""The decision-table pages (issue #22 item 3), on both databases: who may list, read and save a table; a broken
table refused with 422 naming the rule, nothing stored; a saved table listed as edited; the pages in English."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.extensions import db
from service.modeller.models import EditedDecision
from service.parties.models import Role
from tests.conftest import csrf_token, login
from tests.crawl.untranslated import untranslated_texts
from tests.security.payloads import IDENTITY_BASES

NAME = "routning.dmn"
TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="routning_definitions" name="Routning"
             namespace="https://samverkan.se/dmn">
  <decision id="routning" name="Routning av ärenden">
    <decisionTable id="routning_tabell" hitPolicy="FIRST">
      <input id="in_kategori" label="Kategori">
        <inputExpression id="in_kategori_uttryck" typeRef="string"><text>kategori</text></inputExpression>
      </input>
      <output id="ut_dagar" label="Svarsdagar" name="svarsdagar" typeRef="number"/>
      <rule id="regel_sip">
        <inputEntry id="regel_sip_kategori"><text>"sip"</text></inputEntry>
        <outputEntry id="regel_sip_dagar"><text>5</text></outputEntry>
      </rule>
      <rule id="regel_ovrigt">
        <inputEntry id="regel_ovrigt_kategori"><text>-</text></inputEntry>
        <outputEntry id="regel_ovrigt_dagar"><text>{days}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture
def tables(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / NAME).write_text(TABLE.replace("{days}", "10"), encoding="utf-8")
    monkeypatch.setitem(app.config, "DECISIONS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def people(make_organisation: Any, make_user: Any) -> None:
    organisation = make_organisation()
    make_user([(organisation, Role.PROCESS_OWNER)], username="owner", display_name="Olle Ägare")
    make_user([(organisation, Role.AUDITOR)], username="auditor")
    make_user([(organisation, Role.CASE_OFFICER)], username="officer")


def _save(client: FlaskClient, xml: str) -> Any:
    return client.post(f"/processer/beslut/{NAME}", data=json.dumps({"xml": xml}),
                       headers={"Content-Type": "application/json", "X-CSRFToken": _token(client)})


def _token(client: FlaskClient) -> str:
    return csrf_token(client.get("/konto").get_data(as_text=True))


def _embedded(page: str, element_id: str) -> Any:
    opening = f'<script id="{element_id}" type="application/json">'
    start = page.index(opening) + len(opening)
    return json.loads(page[start:page.index("</script>", start)])


def _embedded_xml(page: str) -> str:
    return str(_embedded(page, "decision-xml"))


@pytest.mark.parametrize(("username", "list_status", "table_status", "can_save"),
                         [("owner", 200, 200, True), ("auditor", 200, 200, False), ("officer", 403, 403, False)])
def test_owners_edit_auditors_read_others_are_refused(client: FlaskClient, tables: Path, people: None, username: str,
                                                      list_status: int, table_status: int, can_save: bool) -> None:
    login(client, username)
    listing = client.get("/processer/beslut/")
    assert listing.status_code == list_status
    table = client.get(f"/processer/beslut/{NAME}")
    assert table.status_code == table_status
    if table_status == 200:
        page = table.get_data(as_text=True)
        assert f'href="/processer/beslut/{NAME}"' in listing.get_data(as_text=True)
        assert "Routning av ärenden" in listing.get_data(as_text=True) and "Från filen" in listing.get_data(as_text=True)
        assert _embedded_xml(page) == (tables / NAME).read_text()  # the XML as JSON data, never as markup
        assert ('id="save-decision"' in page) is can_save
        assert _embedded(page, "decision-config")["readOnly"] is not can_save
        index = client.get("/processer/").get_data(as_text=True)
        assert 'href="/processer/beslut/"' in index
    saved = _save(client, TABLE.replace("{days}", "12"))
    assert saved.status_code == (200 if can_save else 403)
    assert db.session.scalar(select(func.count()).select_from(EditedDecision)) == (1 if can_save else 0)


def test_anonymous_is_sent_to_log_in_and_an_unknown_table_is_not_found(client: FlaskClient, tables: Path,
                                                                        people: None) -> None:
    assert client.get("/processer/beslut/").status_code == 302
    login(client, "owner")
    assert client.get("/processer/beslut/finns-inte.dmn").status_code == 404
    response = client.post("/processer/beslut/finns-inte.dmn", data=json.dumps({"xml": TABLE}),
                           headers={"Content-Type": "application/json", "X-CSRFToken": _token(client)})
    assert response.status_code == 404


def test_a_saved_table_is_listed_as_edited_and_audited(client: FlaskClient, tables: Path, people: None) -> None:
    login(client, "owner")
    response = _save(client, TABLE.replace("{days}", "12"))
    assert response.status_code == 200
    assert "nästa version som driftsätts" in response.get_json()["message"]
    row = db.session.scalar(select(EditedDecision))
    assert row.name == NAME and "<text>12</text>" in row.dmn_xml
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "decision.saved")) is not None
    listing = client.get("/processer/beslut/").get_data(as_text=True)
    assert "Ändrad av Olle Ägare" in listing
    assert "<text>12</text>" in _embedded_xml(client.get(f"/processer/beslut/{NAME}").get_data(as_text=True))


@pytest.mark.parametrize(("change", "element", "label"), [
    (('<text>"sip"</text>', "<text>__import__('os')</text>"), "regel_sip_kategori",
     "Regel 1, Kategori (regel_sip_kategori)"),
    (("<text>{days}</text>", "<text>open('/etc/passwd')</text>"), "regel_ovrigt_dagar",
     "Regel 2, Svarsdagar (regel_ovrigt_dagar)"),
])
def test_a_broken_table_is_refused_naming_the_rule_and_nothing_is_stored(
        client: FlaskClient, tables: Path, people: None, change: tuple[str, str], element: str, label: str) -> None:
    login(client, "owner")
    response = _save(client, TABLE.replace(*change).replace("{days}", "10"))
    assert response.status_code == 422
    body = response.get_json()
    assert [p["element_id"] for p in body["problems"]] == [element]
    assert body["problems"][0]["element_label"] == label and body["problems"][0]["message"], body
    assert db.session.scalar(select(func.count()).select_from(EditedDecision)) == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "decision.saved")) is None


def test_a_table_that_is_no_xml_or_missing_is_refused(client: FlaskClient, tables: Path, people: None) -> None:
    login(client, "owner")
    broken = _save(client, "<definitions")
    assert broken.status_code == 422 and broken.get_json()["message"]
    missing = _save(client, "")
    assert missing.status_code == 422
    assert any("XML" in p["message"] for p in missing.get_json()["problems"])
    assert db.session.scalar(select(func.count()).select_from(EditedDecision)) == 0


def test_the_pages_are_complete_in_english(client: FlaskClient, tables: Path, people: None) -> None:
    login(client, "owner")
    _save(client, TABLE.replace("{days}", "12"))
    english = {"Accept-Language": "en"}
    data = ["Routning av ärenden", "Olle Ägare", NAME]
    for url in ("/processer/beslut/", f"/processer/beslut/{NAME}", "/processer/"):
        page = client.get(url, headers=english).get_data(as_text=True)
        assert untranslated_texts(page, allow=data) == [], url
    listing = client.get("/processer/beslut/", headers=english).get_data(as_text=True)
    assert "Decision tables" in listing and "Changed by Olle Ägare" in listing


def test_the_modeller_offers_the_decisions_with_their_pages(client: FlaskClient, tables: Path, people: None) -> None:
    login(client, "owner")
    page = client.get("/processer/modell").get_data(as_text=True)
    assert _embedded(page, "modeller-decisions") == {
        "routning": {"name": "Routning av ärenden", "url": f"/processer/beslut/{NAME}"}}


def test_a_table_naming_a_person_is_refused_and_nothing_is_stored(client: FlaskClient, tables: Path,
                                                                  people: None) -> None:
    """A table is free text kept with the process: the personal-data guard refuses an identity number in it."""
    birth, serial = IDENTITY_BASES["personnummer"]
    note = f'<rule id="regel_sip">\n        <description>Gäller {birth[2:]}-{serial}</description>'
    login(client, "owner")
    response = _save(client, TABLE.replace('<rule id="regel_sip">', note).replace("{days}", "10"))
    assert response.status_code == 422
    assert "personnummer eller samordningsnummer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(EditedDecision)) == 0


NEW = {"name": "remiss-svarstider.dmn", "decision_id": "remiss_svarstider", "title": "Svarstider <b>för</b> remisser",
       "input": "category", "output": "svarsdagar"}


def _new(client: FlaskClient, **overrides: str) -> Any:
    return client.post("/processer/beslut/ny", data={**NEW, **overrides, "csrf_token": _token(client)})


def test_a_process_owner_starts_a_new_table_and_it_opens_in_the_editor(client: FlaskClient, tables: Path,
                                                                      people: None) -> None:
    login(client, "owner")
    created = _new(client)
    assert created.status_code == 303 and created.headers["Location"].endswith("/processer/beslut/remiss-svarstider.dmn")
    row = db.session.scalar(select(EditedDecision).where(EditedDecision.name == NEW["name"]))
    assert row is not None and 'name="Svarstider &lt;b&gt;för&lt;/b&gt; remisser"' in row.dmn_xml
    assert "<text>category</text>" in row.dmn_xml and 'name="svarsdagar"' in row.dmn_xml
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "remiss_svarstider" in _embedded(page, "decision-xml") or "remiss_svarstider" in page
    listed = client.get("/processer/beslut/").get_data(as_text=True)
    assert 'data-decision-file="remiss-svarstider.dmn"' in listed and "<b>för</b>" not in listed
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "decision.saved")).all()
    assert [event.data["decision_id"] for event in events] == ["remiss_svarstider"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": NAME}, "name"),  # a table with that file name exists
    ({"name": "Remiss.DMN"}, "name"),
    ({"decision_id": "1 remiss"}, "decision_id"),
    ({"decision_id": "routning"}, "decision_id"),  # the existing table's decision id
    ({"title": ""}, "title"),
    ({"input": "__import__('os')"}, "input"),
    ({"output": "svars dagar"}, "output"),
])
def test_a_bad_new_table_is_refused_at_its_field_and_nothing_is_stored(client: FlaskClient, tables: Path, people: None,
                                                                       overrides: dict[str, str], field: str) -> None:
    login(client, "owner")
    refused = _new(client, **overrides)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422, page
    assert f'id="new-{field}" name="{field}"' in page
    assert page.count('aria-invalid="true"') == 1 and f'name="{field}" value=' in page
    marked = page[page.index(f'id="new-{field}"'):]
    assert 'aria-invalid="true"' in marked[:marked.index(">")]
    assert db.session.scalar(select(func.count()).select_from(EditedDecision)) == 0


def test_only_process_owners_start_a_table(client: FlaskClient, tables: Path, people: None) -> None:
    for username in ("auditor", "officer"):
        login(client, username)
        assert _new(client).status_code == 403
        assert "new-decision" not in client.get("/processer/beslut/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(EditedDecision)) == 0
