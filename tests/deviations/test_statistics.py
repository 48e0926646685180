"""The statistics pages show the numbers one counts directly in the tables: by category, party, month and
quarter, answers and late answers, median time to answer, open disputes by level; the CSV says the same."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from service import clock
from service.deviations.models import Deviation, DeviationReceiver
from service.deviations.operations import report_deviation
from service.disputes.models import Dispute, DisputeStatus
from service.disputes.operations import NewDispute, open_dispute
from service.processes.models import HumanTask, TaskStatus
from service.processes.operations import complete_task
from tests.deviations.world import World, fire_due_timer

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# (reported at, category, receivers, answer after days or None; beyond 60 days the manager answers late)
CASES = [
    (datetime(2025, 12, 30, 9, 0, tzinfo=UTC), "sip", ("region",), 5),
    (datetime(2026, 1, 12, 9, 0, tzinfo=UTC), "information_transfer", ("region",), 12),
    (datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "information_transfer", ("region", "lerum"), 30),  # 1 Feb in Sweden
    (datetime(2026, 2, 16, 9, 0, tzinfo=UTC), "discharge", ("lerum",), 61),
    (datetime(2026, 4, 7, 9, 0, tzinfo=UTC), "availability", ("region",), 3),
    (datetime(2026, 5, 20, 9, 0, tzinfo=UTC), "medication", ("region", "lerum"), None),
    (datetime(2026, 9, 1, 9, 0, tzinfo=UTC), "information_transfer", ("lerum",), 70),
]


def report_at(world: World, moment: datetime, category: str, receivers: tuple[str, ...]) -> Deviation:
    clock.freeze(moment)
    fields = {"reporting_organisation_id": world.alingsas.id, "reporting_unit": "Hemtjänst Norr",
              "receiving_organisation_ids": [getattr(world, name).id for name in receivers],
              "agreement_id": world.agreement.id, "event_date": moment.date().isoformat(), "category": category,
              "description": "Informationen om insatserna kom inte fram.", "consequence": "minor"}
    return _commit(world, lambda: report_deviation(fields, by=world.user("rapportor")))


def _commit(world: World, work: Any) -> Any:
    from service.transactions import commit_with_retry

    result = commit_with_retry(work)
    world.db.session.expire_all()
    return result


def do_task(world: World, deviation: Deviation, bpmn_id: str, username: str, data: dict[str, Any]) -> None:
    task = world.db.session.scalars(select(HumanTask).where(
        HumanTask.status == TaskStatus.READY, HumanTask.bpmn_id == bpmn_id, HumanTask.instance_id == deviation.instance_id,
        HumanTask.organisation_id == world.user(username).memberships[0].organisation_id).order_by(HumanTask.id)).first()
    assert task is not None, bpmn_id
    _commit(world, lambda: complete_task(task.id, data, by=world.user(username)))


def answer(world: World, deviation: Deviation, days: int) -> None:
    """Every receiving party answers ``days`` after the report (the manager, after the deadline)."""
    clock.freeze(deviation.reported_at + timedelta(days=days))
    contacts = {world.region.id: "kontakt_vgr", world.lerum.id: "kontakt_lerum"}
    managers = {world.region.id: "chef_vgr", world.lerum.id: "chef_lerum"}
    for receiver in deviation.receivers:
        if days > 60:
            fire_due_timer(world.db, "answer_deadline", deviation.instance_id)
            late = {"findings": "Sent.", "measures": "Ses över."}
            do_task(world, deviation, "answer_overdue", managers[receiver.organisation_id], late)
            continue
        do_task(world, deviation, "acknowledge", contacts[receiver.organisation_id], {"handler": "Enhetschef"})
        do_task(world, deviation, "investigate", contacts[receiver.organisation_id],
                {"action": "answer", "findings": "Utrett.", "measures": "Rutinen förtydligas."})


def build(world: World) -> None:
    for moment, category, receivers, days in CASES:
        deviation = report_at(world, moment, category, receivers)
        if days is not None:
            answer(world, deviation, days)
    clock.freeze(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    for other in ("region", "lerum"):
        _commit(world, lambda other=other: open_dispute(NewDispute(
            agreement_id=world.agreement.id, opening_organisation_id=world.alingsas.id,
            other_organisation_ids=[getattr(world, other).id], question="Vem ansvarar för SIP-kallelsen?"),
            by=world.user("chef_alingsas")))
    clock.advance(timedelta(days=15))
    fire_due_timer(world.db, "level_1_deadline")  # one dispute now with the steering group


def expected(world: World, year: int) -> dict[str, Any]:
    """Counted directly from the tables, independently of service.deviations.statistics."""
    deviations = [d for d in world.db.session.scalars(select(Deviation).where(Deviation.agreement_id == world.agreement.id))
                  if d.reported_at.astimezone(STOCKHOLM).year == year]
    receivers = [r for d in deviations for r in d.receivers]
    answered = [r for r in receivers if r.first_answered_at is not None]
    months = Counter(f"{year}-{d.reported_at.astimezone(STOCKHOLM).month:02d}" for d in deviations)
    return {
        "total": len(deviations),
        "category": Counter(d.final_category or d.category for d in deviations),
        "receiving": Counter(str(r.organisation_id) for r in receivers),
        "month": months,
        "quarter": Counter(f"{year}-Q{(int(m[5:]) - 1) // 3 + 1}" for m in months.elements()),
        "answered": len(answered), "late": sum(r.is_answered_late for r in answered),
        "median": round(statistics.median((r.first_answered_at - r.sent_at).total_seconds() / 86400 for r in answered), 1),
        "open_disputes": Counter(d.level for d in world.db.session.scalars(
            select(Dispute).where(Dispute.status == DisputeStatus.OPEN, Dispute.agreement_id == world.agreement.id))),
    }


def table(page: str, table_id: str) -> dict[str, int]:
    body = re.search(rf'<table class="list figures" id="{table_id}">(.*?)</table>', page, re.S).group(1)
    return {key: int(count) for key, count in re.findall(r'<tr data-key="([^"]+)">.*?<td class="figure">(\d+)</td>', body, re.S)}


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: count for key, count in counts.items() if count}


def test_statistics_page_and_csv_equal_direct_counts(world: World) -> None:
    build(world)
    clock.reset()
    want = expected(world, 2026)
    assert want["total"] == 6 and want["late"] == 2  # the cases above, as a sanity check of the counting itself
    browser = world.browser("chef_alingsas")
    page = browser.get(f"/statistik/avtal/{world.agreement.id}?ar=2026").get_data(as_text=True)
    assert re.search(r'id="total">(\d+)<', page).group(1) == str(want["total"])
    assert nonzero(table(page, "by-category")) == dict(want["category"])
    assert table(page, "by-receiving") == dict(want["receiving"])
    assert table(page, "by-reporting") == {str(world.alingsas.id): want["total"]}
    assert nonzero(table(page, "by-month")) == dict(want["month"]) and len(table(page, "by-month")) == 12
    assert nonzero(table(page, "by-quarter")) == dict(want["quarter"])
    assert re.search(r'id="answered">(\d+)<', page).group(1) == str(want["answered"])
    assert re.search(r'id="answered-late">(\d+)<', page).group(1) == str(want["late"])
    assert re.search(r'id="median-days">([\d,]+)<', page).group(1) == f"{want['median']:.1f}".replace(".", ",")
    assert nonzero(table(page, "disputes-by-level")) == dict(want["open_disputes"]) == {"line": 1, "steering_group": 1}
    assert page.count("<svg") == 6
    rows = list(csv.reader(io.StringIO(browser.get(f"/statistik/avtal/{world.agreement.id}.csv?ar=2026")
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    by_section = {(section, key): value for section, key, _, value in rows[1:]}
    assert by_section[("Totalt", "avvikelser")] == str(want["total"])
    assert by_section[("Svarstid", "sena")] == str(want["late"])
    assert by_section[("Svarstid", "andel_sena_procent")] == f"{100 * want['late'] / want['answered']:.1f}".replace(".", ",")
    assert {k: int(v) for (s, k), v in by_section.items() if s == "Kategori" and v != "0"} == dict(want["category"])
    # All years, and one party's own view (its answers as a receiving party).
    everything = browser.get(f"/statistik/avtal/{world.agreement.id}").get_data(as_text=True)
    assert re.search(r'id="total">(\d+)<', everything).group(1) == str(len(CASES))
    lerum = world.browser("kontakt_lerum").get(f"/statistik/part/{world.lerum.id}?ar=2026").get_data(as_text=True)
    lerum_receivers = world.db.session.scalars(select(DeviationReceiver).where(
        DeviationReceiver.organisation_id == world.lerum.id, DeviationReceiver.first_answered_at.is_not(None))).all()
    assert re.search(r'id="answered">(\d+)<', lerum).group(1) == str(len(lerum_receivers))
    assert world.browser("kontakt_lerum").get(f"/statistik/part/{world.region.id}").status_code == 404
    assert world.browser("utomstaende").get(f"/statistik/avtal/{world.agreement.id}").status_code == 404
