"""Issue #18, item 2: ``/tvister/ny`` lists the manager's own parties under "Din part", and what the page
offers opens a dispute."""

from __future__ import annotations

import re

from tests.deviations.world import World, post_form
from tests.disputes.test_dispute_flow import QUESTION


def options(page: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select id="{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, name
    return {value: label for value, label in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)<', select.group(1))}


def test_the_page_offers_my_parties_and_what_it_offers_opens_a_dispute(world: World) -> None:
    page = world.browser("chef_alingsas").get("/tvister/ny").get_data(as_text=True)
    mine, agreements = options(page, "opening_organisation_id"), options(page, "agreement_id")
    assert mine == {str(world.alingsas.id): "Alingsås kommun"}
    assert agreements == {str(world.agreement.id): world.agreement.title}

    opened = post_form(world.browser("chef_alingsas"), "/tvister/ny", {
        "agreement_id": next(iter(agreements)), "opening_organisation_id": next(iter(mine)),
        "other_organisation_ids": [world.region.id], "question": QUESTION})

    assert opened.status_code == 302 and re.search(r"/tvister/\d+$", opened.headers["Location"])
    assert QUESTION in world.browser("chef_alingsas").get(opened.headers["Location"]).get_data(as_text=True)
