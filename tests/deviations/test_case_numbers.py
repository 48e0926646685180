"""Issue #18, item 6: one number names one case. AV and TV numbers run in one series per prefix and year, every
party uses the case's number, and numbers taken at the same moment are all different."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Flask

from service.deviations.case_numbers import next_case_number
from service.deviations.models import Deviation
from service.transactions import commit_with_retry
from tests.deviations.test_deviation_flow import page, report, report_data
from tests.deviations.world import World, post_form
from tests.processes.test_concurrency import run_together


def test_reports_of_two_parties_never_share_a_number(world: World) -> None:
    # Alingsås and Lerum each report their first deviation of the year to the region (each its own series before).
    from_alingsas = report(world, world.region)
    sent = post_form(world.browser("kontakt_lerum"), "/avvikelser/ny",
                     report_data(world, world.region, reporting_organisation_id=world.lerum.id))
    assert sent.status_code == 302
    from_lerum = world.db.session.get(Deviation, int(re.search(r"/avvikelser/(\d+)$", sent.headers["Location"])[1]))

    assert (from_alingsas.case_number, from_lerum.case_number) == ("AV-2026-0001", "AV-2026-0002")
    assert [r.case_number for r in from_lerum.receivers] == ["AV-2026-0002"]  # every party uses the case's number
    inbox = page(world, "kontakt_vgr", "/uppgifter")
    assert "Avvikelse AV-2026-0001" in inbox and "Avvikelse AV-2026-0002" in inbox


def test_numbers_taken_at_the_same_moment_are_all_different(app: Flask, db: Any) -> None:
    def take(prefix: str) -> Any:
        def work() -> str:
            number = next_case_number(prefix, 2026)
            time.sleep(0.05)  # hold the series row while the others wait for it
            return number
        return lambda: commit_with_retry(work)

    taken = run_together(app, *(take("AV") for _ in range(6)), *(take("TV") for _ in range(2)))

    assert sorted(taken) == [*(f"AV-2026-{n:04d}" for n in range(1, 7)), "TV-2026-0001", "TV-2026-0002"]
