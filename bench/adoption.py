"""Time a start and a task submit of bpmn/agreement_adoption.bpmn: service layer versus bare engine.

One run measures (draft → one decision per party → agreement active):
1. the service on PostgreSQL: ``start_drafting``/``complete_task`` committed by ``commit_with_retry``,
   each like a web request (fresh session, acting user loaded, ``db.session.remove()``; all timed);
2. bare SpiffWorkflow in memory, stock script engine (the service uses the guarded one);
3. as 2, with the stock ``serialize_json``/``deserialize_json`` round trip around every step;
4. "flat with history": one service instance through many rejection loops: do submits slow down,
   how does the stored state grow?

Run from the project root; it drops and recreates every table in the bench database:

    .venv/bin/python bench/adoption.py [--instances 200] [--parties 3] [--loops 100] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from common import fresh_app  # bench/common.py (the script's own folder is on sys.path)
from flask import Flask
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select

from service import clock
from service.agreements import operations as agreement_ops
from service.agreements.models import Agreement, AgreementVersion
from service.engine import scripting, specs
from service.extensions import db
from service.parties.models import Organisation, User
from service.parties.operations import load_user
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, ProcessInstance, ProcessTimer, TimerStatus
from service.processes.operations import complete_task, fire_timer
from service.transactions import commit_with_retry

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
BPMN = ROOT / "bpmn" / "agreement_adoption.bpmn"
# Demo parties (service/parties/demo.py) and their body secretaries, in the order they are chosen.
PARTIES = (("Göteborgs Stad", "goran"), ("Västra Götalandsregionen", "rita"), ("Alingsås kommun", "alma"),
           ("Lerums kommun", "leo"))
SPIFFARENA_MS = {"start": 44.0, "submit": 40.0}
SECTIONS = dict.fromkeys(("responsibilities", "steering_group", "mission", "goals", "costs",
                          "deviations_and_disputes", "amendments", "follow_up"), "Enligt vägledningen.")
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
# SpiffWorkflow's own (unguarded) engine, given the helpers our diagrams call (end_of_day_after, ...).
ENGINE = PythonScriptEngine(environment=TaskDataEnvironment(dict(scripting.HELPERS)))
STATEMENTS: list[str] = []  # every statement SQLAlchemy sends (BEGIN, COMMIT and pool pings are not)


@dataclass
class Timings:  # milliseconds per operation ("start", "submit"), its CPU time in this process, the SQL statements
    ms: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu_ms: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statements: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Demo:
    coordinator_id: int
    coordinator_org_id: int
    party_ids: list[int]
    secretary_by_org: dict[int, int]
    body_by_org: dict[int, int]


def timed(timings: Timings, kind: str, work: Callable[[], T]) -> T:
    began, cpu, statements = time.perf_counter(), time.process_time(), len(STATEMENTS)
    result = work()
    timings.ms[kind].append((time.perf_counter() - began) * 1000)
    timings.cpu_ms[kind].append((time.process_time() - cpu) * 1000)
    timings.statements[kind] += len(STATEMENTS) - statements
    return result


def draft_data(party_ids: list[int], title: str) -> dict[str, Any]:
    return {"title": title, "party_ids": party_ids, "valid_from": "2027-01-01", "with_consultation": False, **SECTIONS}


def decision_data(body_id: int, outcome: str) -> dict[str, Any]:
    data = {"outcome": outcome, "body_id": body_id, "decided_on": "2026-11-24", "paragraph": "§ 12",
            "diarienummer": "0948/26"}
    return {**data, "reason": "Kostnadsfördelningen är inte förhandlad."} if outcome == "rejected" else data


MINUTES = {"minutes_approved_on": "2026-11-25", "posted_on": "2026-11-26"}
RECEIPT = {"received_on": "2026-11-03", "diarienummer": "0948/26", "with_preparation": False}
AFTER_APPEAL_PERIOD = datetime(2027, 1, 1, tzinfo=UTC)  # the appeal period after 26 November has run out


def set_up_service(url: str, parties: int) -> tuple[Flask, Demo]:
    """Create the database if missing; empty tables, demo parties and users, the process deployed."""
    app = fresh_app(url)
    with app.app_context():
        for path in (BPMN, BPMN.with_name("agreement_lifecycle.bpmn")):  # adoption starts the lifecycle
            deploy_definition(path.read_bytes(), path.name, ROOT / "forms", by=None)
        db.session.commit()
        users = {user.username: user.id for user in db.session.scalars(select(User))}
        orgs = {org.name: org for org in db.session.scalars(select(Organisation))}
        chosen = [(orgs[name], users[secretary]) for name, secretary in PARTIES[:parties]]
        demo = Demo(users["anna"], orgs["Göteborgs Stad"].id, [org.id for org, _ in chosen],
                    {org.id: user for org, user in chosen}, {org.id: org.bodies[0].id for org, _ in chosen})
        db.session.remove()
        event.listen(db.engine, "before_cursor_execute", lambda _c, _k, sql, *_: STATEMENTS.append(sql))
    return app, demo


def signed_in(user_id: int) -> User:
    """The person as a web request's sign-in loads them (with their memberships, one statement)."""
    user = load_user(user_id)
    assert user is not None, f"no user {user_id}"
    return user


def request(timings: Timings, kind: str, work: Callable[[], T]) -> T:
    """One web request: fresh session, the work, commit; the session is closed after (untimed, no I/O)."""
    try:
        return timed(timings, kind, partial(commit_with_retry, work))
    finally:
        db.session.remove()


def read(statement: Any) -> list[Any]:
    """A query between requests, in its own session, outside the timed regions."""
    rows = list(db.session.execute(statement).all())
    db.session.remove()
    return rows


def start(demo: Demo, timings: Timings, title: str) -> int:
    """Open an agreement as the coordinator; return its process instance id."""
    def work() -> int:
        agreement = agreement_ops.start_drafting(
            by=signed_in(demo.coordinator_id), title=title,
            organisation=db.session.get_one(Organisation, demo.coordinator_org_id))
        db.session.flush()
        version = agreement.latest_version
        assert version is not None and version.instance_id is not None
        return version.instance_id
    return request(timings, "start", work)


def submit(timings: Timings, task_row_id: int, data: dict[str, Any], user_id: int) -> None:
    request(timings, "submit", lambda: complete_task(task_row_id, data, by=signed_in(user_id)))


def adoption_round(demo: Demo, timings: Timings, instance_id: int, title: str, outcome: str) -> None:
    """Submit the draft, then each party's decision; a rejection by the first party ends the round."""
    def ready() -> list[Any]:
        return read(select(HumanTask.id, HumanTask.bpmn_id, HumanTask.organisation_id).where(
            HumanTask.status == "ready", HumanTask.instance_id == instance_id).order_by(HumanTask.id))
    (draft,) = ready()
    assert draft.bpmn_id == "draft", draft
    submit(timings, draft.id, draft_data(demo.party_ids, title), demo.coordinator_id)
    for task in ready():  # each party registers the proposal on arrival (receive_proposal)
        submit(timings, task.id, RECEIPT, demo.secretary_by_org[task.organisation_id])
    decisions = ready()
    assert [task.bpmn_id for task in decisions] == ["decide"] * len(demo.party_ids), decisions
    for task in decisions[:1] if outcome == "rejected" else decisions:
        org = task.organisation_id
        submit(timings, task.id, decision_data(demo.body_by_org[org], outcome), demo.secretary_by_org[org])
    if outcome == "adopted":
        for task in ready():  # justering and anslag, then the appeal period runs out (timer)
            submit(timings, task.id, MINUTES, demo.secretary_by_org[task.organisation_id])
        fire_appeal_timers(timings, instance_id)
        [(status,)] = read(select(Agreement.status).join(AgreementVersion, AgreementVersion.agreement_id == Agreement.id)
                           .where(AgreementVersion.instance_id == instance_id))
        assert status == "active", f"instance {instance_id}: the agreement is {status!r}, not 'active'"


def fire_appeal_timers(timings: Timings, instance_id: int) -> None:
    """What the scheduler's job does when the appeal period has passed (one job fires all due timers)."""
    due = read(select(ProcessTimer.id).where(ProcessTimer.instance_id == instance_id,
                                             ProcessTimer.status == TimerStatus.WAITING,
                                             ProcessTimer.bpmn_id == "appeal_period_over"))
    clock.freeze(AFTER_APPEAL_PERIOD)
    try:
        for (timer_id,) in due:
            request(timings, "timer", lambda timer_id=timer_id: fire_timer(timer_id))
    finally:
        clock.reset()


def run_service(demo: Demo, instances: int) -> Timings:
    timings = Timings()
    for number in range(instances):
        title = f"Samverkan kring psykisk hälsa {number}"
        instance_id = start(demo, timings, title)
        adoption_round(demo, timings, instance_id, title, "adopted")
    return timings


def run_history(demo: Demo, loops: int) -> str:
    """One instance, ``loops`` rounds of draft + one rejection, then adopted."""
    timings, title = Timings(), "Samverkan med lång historik"
    instance_id = start(demo, Timings(), title)
    state = select(ProcessInstance.state).where(ProcessInstance.id == instance_id)
    [(state_at_start,)] = read(state)
    for _ in range(loops):
        adoption_round(demo, timings, instance_id, title, "rejected")
    [(state_at_end,)] = read(state)
    adoption_round(demo, Timings(), instance_id, title, "adopted")
    submits = timings.ms["submit"]
    first, last = statistics.median(submits[:20]), statistics.median(submits[-20:])
    return (f"flat with history: {loops} rejection loops = {len(submits)} submits on one instance\n"
            f"  median submit, first 20: {first:.2f} ms; last 20: {last:.2f} ms ({last / first:.2f}×)\n"
            f"  ProcessInstance.state: {len(state_at_start):,} chars after start, {len(state_at_end):,} after the loops")


def save(workflow: BpmnWorkflow, roundtrip: bool) -> Any:
    return SERIALIZER.serialize_json(workflow) if roundtrip else workflow


def load(state: Any) -> BpmnWorkflow:
    if isinstance(state, BpmnWorkflow):
        return state
    workflow = SERIALIZER.deserialize_json(state)
    workflow.script_engine = ENGINE  # the script engine is not serialized
    return workflow


def bare_data(task: SpiffTask, party_ids: list[int]) -> dict[str, Any]:
    """What the service hands the engine: the form data plus what AdoptionHooks.prepare adds."""
    if task.task_spec.bpmn_id == "draft":
        parties = {str(i): {"organisation_id": i, "name": f"Part {i}"} for i in party_ids}
        return {**draft_data(party_ids, "Bare"), "parties": parties, "recommenders": [], "with_consultation": False,
                "party_results": {}, "recommendations": [], "reviews": {}}
    if task.task_spec.bpmn_id == "record_minutes":
        return dict(MINUTES)
    if task.task_spec.bpmn_id == "receive_proposal":
        return dict(RECEIPT)
    party_id = task.data["party"]["organisation_id"]
    return {"reason": None, "route": "decision_with_posting", **decision_data(100 + party_id, "adopted")}


def bare_start(definition: specs.Definition, roundtrip: bool) -> tuple[Any, BpmnWorkflow]:
    workflow = BpmnWorkflow(definition.spec, dict(definition.subprocess_specs), script_engine=ENGINE)
    data = {"agreement_id": 1, "coordinator_organisation_id": 1, "title": "Bare", "started_by": 1,
            "decision_within": "P60D"}
    workflow.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    workflow.do_engine_steps()
    return save(workflow, roundtrip), workflow


def bare_submit(state: Any, task_id: Any, party_ids: list[int], roundtrip: bool) -> tuple[Any, BpmnWorkflow]:
    workflow = load(state)
    task = workflow.get_task_from_id(task_id)
    task.data.update(bare_data(task, party_ids))
    task.run()
    workflow.do_engine_steps()
    return save(workflow, roundtrip), workflow


def run_bare(definition: specs.Definition, instances: int, parties: int, roundtrip: bool) -> Timings:
    timings, party_ids = Timings(), list(range(1, parties + 1))
    for _ in range(instances):
        state, workflow = timed(timings, "start", partial(bare_start, definition, roundtrip))
        for _step in ("draft", "receive_proposal", "decide", "record_minutes"):
            for task in workflow.get_tasks(state=TaskState.READY, manual=True):
                state, workflow = timed(timings, "submit", partial(bare_submit, state, task.id, party_ids, roundtrip))
        clock.freeze(AFTER_APPEAL_PERIOD)
        workflow.refresh_timers()
        workflow.do_engine_steps()
        clock.reset()
        assert workflow.is_completed(), "a bare instance did not complete"
    return timings


def summary(ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[18] if len(ms) > 1 else ms[0]
    return f"{statistics.median(ms):>9.3f}{p95:>9.3f}{statistics.fmean(ms):>9.3f}"


def report(args: argparse.Namespace, scenarios: dict[str, Timings], history: str) -> None:
    print(f"agreement_adoption.bpmn, {args.instances} instances × {args.parties} parties "
          f"({2 * args.parties + 1} submits each: draft, decisions, minutes; appeal timers fired); "
          f"ms per operation; {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{'scenario':<36}{'start':>9}{'p95':>9}{'mean':>9}{'submit':>9}{'p95':>9}{'mean':>9}{'submits':>9}")
    for name, timings in scenarios.items():
        print(f"{name:<36}{summary(timings.ms['start'])}{summary(timings.ms['submit'])}{len(timings.ms['submit']):>9}")
    print("(bare runs use SpiffWorkflow's default script engine; the service uses the guarded engine)")
    service, *bare = scenarios.values()
    median = {kind: statistics.median(service.ms[kind]) for kind in ("start", "submit")}
    print("SQL statements per service operation: " + ", ".join(
        f"{kind} {service.statements[kind] / len(service.ms[kind]):.1f}" for kind in median) + "\n")
    for name, other in zip(("bare in-memory", "bare + JSON round trip"), bare, strict=True):
        print(f"service / {name:<23}" + "   ".join(
            f"{kind} {median[kind] / statistics.median(other.ms[kind]):>6.1f}×" for kind in median) + "  (medians)")
    print(f"SpiffArena reference: {SPIFFARENA_MS['start']:.0f} ms start, {SPIFFARENA_MS['submit']:.0f} ms per submit")
    for kind, ms in median.items():
        faster = SPIFFARENA_MS[kind] / ms
        print(f"  service {kind} " + (f"{faster:.1f}× faster" if faster >= 1 else f"{1 / faster:.1f}× slower")
              + f" than SpiffArena's {kind}")
    print("\n" + history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench")
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--parties", type=int, default=3, choices=range(2, len(PARTIES) + 1))
    parser.add_argument("--loops", type=int, default=100, help="rejection loops in 'flat with history'")
    args = parser.parse_args()
    app, demo = set_up_service(args.database_url, args.parties)
    with app.app_context():
        service = run_service(demo, args.instances)
        history = run_history(demo, args.loops)
        db.engine.dispose()
    definition = specs.parse(BPMN.read_bytes(), BPMN.name)
    report(args, {
        "service, PostgreSQL (guarded engine)": service,
        "bare in-memory (stock engine)": run_bare(definition, args.instances, args.parties, roundtrip=False),
        "bare + JSON round trip (stock)": run_bare(definition, args.instances, args.parties, roundtrip=True),
    }, history)


if __name__ == "__main__":
    main()
