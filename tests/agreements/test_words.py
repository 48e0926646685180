"""#19 item 10: the words of the source papers and of kommunallagen, in Swedish and English."""

from __future__ import annotations

import json
import re
from pathlib import Path

from service.agreements.models import STATUS_LABELS, AgreementStatus
from service.deviations.models import CATEGORY_LABELS
from service.parties.models import ROLE_LABELS, Role, role_for_lane
from tests.conftest import ROOT

SEED_CATEGORIES = ("In- och utskrivning från sluten hälso- och sjukvård", "Läkemedelshantering vid vårdens övergångar")


def english(msgid: str) -> str:
    catalogue = (ROOT / "service" / "translations" / "en" / "LC_MESSAGES" / "messages.po").read_text()
    match = re.search(r'\nmsgid "' + re.escape(msgid) + r'"\nmsgstr "(.*)"\n', catalogue)
    assert match, msgid
    return match.group(1)


def test_an_agreement_ended_by_notice_is_uppsagt() -> None:
    assert STATUS_LABELS[AgreementStatus.TERMINATED] == "Uppsagt"
    assert english("Uppsagt") == "Terminated"


def test_the_secretary_registers_for_the_behorig_instans() -> None:
    assert ROLE_LABELS[Role.BODY_SECRETARY] == "Sekreterare (behörig instans)"
    assert role_for_lane("Nämndsekreterare") == role_for_lane("Sekreterare (behörig instans)") == Role.BODY_SECRETARY


def test_one_term_for_the_authorised_body_and_case_numbers_are_not_diarienummer() -> None:
    texts = [path.read_text() for folder in ("forms", "service") for path in (ROOT / folder).rglob("*")
             if path.suffix in (".json", ".html", ".py") and path.is_file()]
    assert not [text for text in texts if "eslutande organ" in text]
    for template in ("deviations/templates/deviations/list.html", "deviations/templates/deviations/_summary.html",
                     "disputes/templates/disputes/list.html", "disputes/templates/disputes/_ladder.html"):
        page = (ROOT / "service" / template).read_text()
        assert "Ärendenummer i Samverkan" in page and '_("Diarienummer")' not in page


def test_seed_004s_deviation_categories() -> None:
    assert set(SEED_CATEGORIES) <= set(CATEGORY_LABELS.values())
    for form in ("deviation-report", "deviation-analysis"):
        schema = json.loads(Path(ROOT / "forms" / f"{form}.schema.json").read_text())
        titles = {item["title"] for item in schema["properties"]["category" if form == "deviation-report"
                                                                  else "final_category"]["oneOf"]}
        assert set(SEED_CATEGORIES) <= titles
    assert english(SEED_CATEGORIES[0]) and english(SEED_CATEGORIES[1])


def test_motivering_is_a_justification_in_english() -> None:
    assert english("Motivering") == "Justification"


def test_no_diagram_names_a_lane_namndsekreterare() -> None:
    lanes = {path.name: re.findall(r'<bpmn:lane [^>]*name="([^"]*)"', path.read_text())
             for path in (ROOT / "bpmn").glob("*.bpmn")}
    assert not [name for name, found in lanes.items() if "Nämndsekreterare" in found]
    assert "Sekreterare (behörig instans)" in lanes["decision_appeal.bpmn"]


def test_a_body_may_approve_endorse_or_table_the_agreement() -> None:
    schema = json.loads((ROOT / "forms" / "agreement-decision.schema.json").read_text())
    titles = {item["const"]: item["title"] for item in schema["properties"]["outcome"]["oneOf"]}
    assert titles["approved"] == "Avtalet godkänns" and titles["endorsed"] == "Ställer sig bakom avtalet"
    assert "bordläggs" in titles["tabled"]
    assert english("Godkänt") == "Approved" and english("Bordlagt %(date)s") == "Tabled %(date)s"
