"""The deviation and dispute lists filter by status and by words in case numbers and texts (issue #5, item 4)."""

from __future__ import annotations

from service.deviations.models import DeviationStatus
from service.listing import ListFilter
from tests.deviations.test_deviation_flow import report
from tests.deviations.world import World
from tests.disputes.test_dispute_flow import open_dispute


def listed(world: World, username: str, url: str) -> str:
    """The list's table only (a flash message above it may name a case too)."""
    response = world.browser(username).get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page[page.index("<table"):] if "<table" in page else ""


def test_deviations_by_words_and_status(world: World) -> None:
    medicines = report(world, world.region, description="Läkemedelslistan saknades vid utskrivningen.")
    transport = report(world, world.region, description="Transporten hem blev inte bokad.")

    found = listed(world, "rapportor", "/avvikelser?q=L%C3%84KEMEDEL")  # case-insensitive, ä too
    assert medicines.case_number in found and transport.case_number not in found
    both = listed(world, "rapportor", f"/avvikelser?q={transport.case_number}")
    assert transport.case_number in both and medicines.case_number not in both
    assert transport.case_number not in listed(world, "rapportor", f"/avvikelser?status={DeviationStatus.CLOSED}")
    everything = listed(world, "rapportor", "/avvikelser?status=nonsense")  # unknown status: ignored
    assert medicines.case_number in everything and transport.case_number in everything


def test_disputes_by_words(world: World) -> None:
    dispute = open_dispute(world)

    assert dispute.case_number in listed(world, "chef_alingsas", "/tvister?q=HJ%C3%84LPMEDEL&status=open")
    assert dispute.case_number not in listed(world, "chef_alingsas", "/tvister?q=parkering")
    assert dispute.case_number not in listed(world, "chef_alingsas", "/tvister?status=resolved")


def test_every_word_must_match_somewhere() -> None:
    chosen = ListFilter.from_args({"q": "  Läkemedel  natt ", "status": "open"}, ["open", "closed"])
    items = [("open", ["Läkemedel saknades", "natten"]), ("open", ["Läkemedel"]), ("closed", ["läkemedel natt"])]
    assert chosen.apply(items, lambda item: item[0], lambda item: item[1]) == [items[0]]
