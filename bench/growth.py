"""Data growth of a long-running agreement: 10 years of yearly follow-ups and 5 amendments (one every other
year, started from the follow-up), driven through the real operations with the service clock moved forward.

After each year: the serialized engine state (ProcessInstance.state) of every instance of the agreement, the
largest one's load time (runner.load, median of 20) and the follow-up submit time. Answers issue #10's question
whether SpiffWorkflow's whole-workflow JSON grows too much.

    .venv/bin/python bench/growth.py [--years 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import fresh_app  # bench/common.py
from sqlalchemy import select

from service import clock
from service.access import can_work_on
from service.agreements.demo import PARTIES, TITLE, seed_demo_agreement
from service.agreements.models import Agreement
from service.agreements.operations import form_from_version
from service.engine import runner
from service.errors import ValidationFailed
from service.extensions import db
from service.parties.models import Organisation, User
from service.processes.definitions import deploy_definition, parsed
from service.processes.models import HumanTask, ProcessInstance, ProcessTimer, TaskStatus, TimerStatus
from service.processes.operations import complete_task, fire_timer
from service.transactions import commit_with_retry

FOLLOW_UP = {"process_indicators": "Samverkan har fungerat.", "result_indicators": "Målen är delvis nådda.",
             "action_plan": "Fortsätt enligt plan."}


def ready(bpmn_id: str, organisation_id: int | None = None) -> int:
    query = select(HumanTask.id).where(HumanTask.bpmn_id == bpmn_id, HumanTask.status == TaskStatus.READY)
    if organisation_id is not None:
        query = query.where(HumanTask.organisation_id == organisation_id)
    return db.session.scalars(query).one()


def complete(bpmn_id: str, data: dict[str, Any], organisation_id: int | None = None) -> float:
    """Complete the READY task as the first user who may (the demo has one per role and organisation)."""
    task_id = ready(bpmn_id, organisation_id)
    task = db.session.get_one(HumanTask, task_id)
    user = next(u for u in db.session.scalars(select(User).order_by(User.id)) if can_work_on(u, task))
    began = time.perf_counter()
    try:
        commit_with_retry(lambda: complete_task(task_id, data, by=user))
    except ValidationFailed as exc:
        raise SystemExit(f"{bpmn_id}: {exc.fields}") from exc
    spent = (time.perf_counter() - began) * 1000
    clock.advance(timedelta(hours=2))
    return spent


def fire_due() -> None:
    for timer_id in db.session.scalars(select(ProcessTimer.id).where(
            ProcessTimer.status == TimerStatus.WAITING, ProcessTimer.due_at <= clock.now()).order_by(ProcessTimer.due_at)).all():
        commit_with_retry(lambda t=timer_id: fire_timer(t))


def next_follow_up() -> None:
    """Move the clock past the next follow-up's due moment and fire what came due."""
    due = db.session.scalars(select(ProcessTimer.due_at).where(
        ProcessTimer.status == TimerStatus.WAITING, ProcessTimer.bpmn_id == "follow_up_due")).one()
    clock.freeze(due + timedelta(hours=1))
    fire_due()


def adopt_amendment(agreement_id: int) -> None:
    """Draft, every party's decision and minutes, then the appeal period runs out."""
    agreement = db.session.get_one(Agreement, agreement_id)
    version = agreement.latest_version
    assert version is not None
    fields = {k: v for k, v in form_from_version(version).items() if v not in ("", None)}  # unset optional fields
    complete("draft", {**fields, "with_consultation": False})
    organisations = {o.name: o for o in db.session.scalars(select(Organisation).where(Organisation.name.in_(PARTIES)))}
    for name in PARTIES:
        organisation = organisations[name]
        today = clock.now().date().isoformat()
        complete("receive_proposal", {"received_on": today, "diarienummer": "1/26"}, organisation.id)
        complete("decide", {"outcome": "adopted", "body_id": organisation.bodies[0].id, "decided_on": today,
                            "paragraph": "§ 1", "diarienummer": "1/26"}, organisation.id)
        complete("record_minutes", {"minutes_approved_on": today, "posted_on": today}, organisation.id)
    clock.advance(timedelta(days=30))
    fire_due()


def measure() -> tuple[dict[str, int], float, int]:
    """State sizes (chars) per instance (process id + instance id), load time (ms) of the largest state, its size."""
    rows = db.session.execute(select(ProcessInstance).order_by(ProcessInstance.id)).scalars().all()
    sizes = {f"{r.definition.process_id}#{r.id}": len(r.state) for r in rows}
    largest = max(rows, key=lambda r: len(r.state))
    definition = parsed(largest.definition)
    times = []
    for _ in range(20):
        began = time.perf_counter()
        runner.load(definition, largest.state)
        times.append((time.perf_counter() - began) * 1000)
    return sizes, statistics.median(times), len(largest.state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_growth")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--amend-every", type=int, default=2, help="an amendment every N years (0: never)")
    args = parser.parse_args()
    print(f"growth: an agreement over {args.years} years, follow-up yearly, amendment every {args.amend_every or '-'} years; "
          f"{time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    app = fresh_app(args.database_url)
    with app.app_context():
        for name in ("agreement_adoption.bpmn", "agreement_lifecycle.bpmn"):
            xml = (Path(app.config["BPMN_DIR"]) / name).read_bytes()
            deploy_definition(xml, name, Path(app.config["FORMS_DIR"]), by=None)
        db.session.commit()
        commit_with_retry(seed_demo_agreement)
        agreement_id = db.session.scalars(select(Agreement.id).where(Agreement.title == TITLE)).one()
        sizes, load_ms, largest = measure()
        print(f"year  0: {len(sizes)} instances, total state {sum(sizes.values()):>9,} chars, largest {largest:>8,} "
              f"(load {load_ms:.2f} ms)")
        try:
            for year in range(1, args.years + 1):
                amend = bool(args.amend_every) and year % args.amend_every == 0
                next_follow_up()
                data = {**FOLLOW_UP, "start_amendment": amend, **({"amendment_motivation": "Ny lagstiftning."} if amend else {})}
                submit_ms = complete("follow_up", data)
                if amend:
                    adopt_amendment(agreement_id)
                sizes, load_ms, largest = measure()
                print(f"year {year:>2}: {len(sizes)} instances, total state {sum(sizes.values()):>9,} chars, largest "
                      f"{largest:>8,} (load {load_ms:.2f} ms); follow-up submit {submit_ms:.1f} ms"
                      + ("; amendment adopted" if amend else ""), flush=True)
        finally:
            clock.reset()
        for name, size in sizes.items():
            print(f"  {name:<28} {size:>9,} chars")
        db.engine.dispose()


if __name__ == "__main__":
    main()
