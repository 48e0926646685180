"""No personal identity numbers in deviations: valid personnummer and samordningsnummer are refused with a
message naming the field and where in the text, and nothing is stored; numbers failing the checksum pass."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.deviations.identity import find_identity_numbers
from service.deviations.models import CaseNumberSeries, Deviation
from service.processes.models import ProcessInstance
from tests.deviations.test_deviation_flow import report_data
from tests.deviations.world import World, complete, post_form, ready_task

# Valid numbers (Skatteverket's test number 19121212-1212, and numbers with a correct check digit).
VALID = ["19121212-1212", "121212-1212", "1212121212", "191212121212", "811228-9874", "8112289874",
         "19811228-9874", "121212+1212", "701063-2391", "19701063-2391"]  # the last two: samordningsnummer (day + 60)


def check_digit(nine: str) -> int:
    """The Luhn check digit, computed independently of the service's code."""
    total = sum(sum(divmod(int(d) * (2 - i % 2), 10)) for i, d in enumerate(nine))
    return (10 - total % 10) % 10


def bad_checksum_numbers(count: int, seed: int = 4) -> list[str]:
    """Random YYMMDD-NNNC strings (valid dates too) whose last digit is NOT the check digit."""
    rng = random.Random(seed)
    found = []
    while len(found) < count:
        nine = f"{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        wrong = (check_digit(nine) + rng.randint(1, 9)) % 10
        found.append(f"{nine[:6]}{rng.choice(['-', ''])}{nine[6:]}{wrong}")
    return found


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_are_found(number: str) -> None:
    [finding] = find_identity_numbers(f"Brukaren, {number}, skrevs ut.")
    assert (finding.line, finding.first_column, finding.last_column) == (1, 11, 10 + len(number))


def test_numbers_with_a_bad_checksum_or_no_date_pass() -> None:
    texts = [*bad_checksum_numbers(200), "811228-9873", "121232-1212", "tel 0701234567", "1234567890123", "19121212-12120"]
    assert [t for t in texts if find_identity_numbers(t)] == []


def test_the_place_is_given_by_line_and_column() -> None:
    [finding] = find_identity_numbers("Första raden.\nAndra raden med 811228-9874 i.")
    assert finding.describe() == "rad 2, tecken 17–27" and finding.masked == "811228-****"


def counts(db: Any) -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(int(db.session.scalar(select(func.count()).select_from(model)))
                 for model in (Deviation, ProcessInstance, AuditEvent, CaseNumberSeries))


def test_a_report_naming_the_person_is_refused_and_nothing_is_stored(world: World) -> None:
    world.browser("rapportor")  # signs in first: the login is an audit event of its own
    db, before = world.db, counts(world.db)
    description = "Utskrivning av patient\nmed personnummer 19811228-9874 utan läkemedelslista."
    response = post_form(world.browser("rapportor"), "/avvikelser/ny", report_data(world, world.region, description=description))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "”Vad hände?” (rad 2, tecken 18–30)" in page  # the message names the field and the place
    assert 'id="fel-description">Texten innehåller ett personnummer eller samordningsnummer: rad 2, tecken 18–30' in page
    assert "(”19811228-****”)" in page  # masked in the messages; the text area keeps what was typed, to correct it
    assert counts(db) == before
    for number in VALID:
        refused = post_form(world.browser("rapportor"), "/avvikelser/ny",
                            report_data(world, world.region, immediate_action=f"Ringde om {number}."))
        assert refused.status_code == 422, number
    assert counts(db) == before
    numbers = " ".join(bad_checksum_numbers(5))
    accepted = post_form(world.browser("rapportor"), "/avvikelser/ny",
                         report_data(world, world.region, description=f"Referenser i journalsystemet: {numbers}."))
    assert accepted.status_code == 302


def test_an_answer_naming_the_person_is_refused(world: World) -> None:
    response = post_form(world.browser("rapportor"), "/avvikelser/ny", report_data(world, world.region))
    assert response.status_code == 302
    complete(world, "kontakt_vgr", "acknowledge", {"handler": "Enhetschef"})
    task = ready_task(world.db, "investigate")
    refused = post_form(world.browser("kontakt_vgr"), f"/uppgifter/{task.id}", {
        "action": "answer", "findings": "Gäller 701063-2391.", "measures": "Ny rutin."})
    assert refused.status_code == 422
    assert "”Vad visade utredningen?” (rad 1, tecken 8–18)" in refused.get_data(as_text=True)
    assert ready_task(world.db, "investigate").id == task.id  # still open, nothing recorded
