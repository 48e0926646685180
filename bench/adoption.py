"""How long the agreement adoption takes per start and per task submit, service layer versus bare engine.

Measures, in one run, on bpmn/agreement_adoption.bpmn (draft → one decision per party → active):

1. service layer on PostgreSQL: ``start_drafting`` and ``complete_task``, each committed with
   ``commit_with_retry``, in a fresh session like a web request (the acting user is loaded inside the
   timed region, as Flask-Login does, and ``db.session.remove()`` ends it);
2. bare SpiffWorkflow in memory, stock script engine (the service uses the guarded engine);
3. as 2, plus the stock ``serialize_json``/``deserialize_json`` round trip around every step;
4. "flat with history": one service instance driven through many rejection loops, to see whether
   submits slow down and the serialized state grows as the history builds up.

Run from the project root (it drops and recreates every table in the bench database):

    .venv/bin/python bench/adoption.py [--instances 200] [--parties 3] [--loops 100]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from flask import Flask
from sqlalchemy import Row, select
from sqlalchemy.engine import make_url
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from service.agreements import operations as agreement_ops
from service.agreements.models import Agreement
from service.app import create_app
from service.audit.models import AuditChainHead
from service.engine import specs
from service.extensions import db
from service.parties.demo import seed_demo
from service.parties.models import Organisation, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, ProcessInstance
from service.processes.operations import complete_task
from service.transactions import commit_with_retry

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
BPMN = ROOT / "bpmn" / "agreement_adoption.bpmn"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench"
# Demo parties and their body secretaries (service/parties/demo.py), in the order they are chosen.
PARTIES = (("Göteborgs Stad", "goran"), ("Västra Götalandsregionen", "rita"),
           ("Alingsås kommun", "alma"), ("Lerums kommun", "leo"))
SPIFFARENA_START_MS, SPIFFARENA_SUBMIT_MS = 44.0, 40.0
SECTIONS = {
    "responsibilities": "Varje huvudman ansvarar för sina insatser.", "steering_group": "En styrgrupp per part.",
    "mission": "Personer med samsjuklighet.", "goals": "Färre avbrutna insatser.",
    "costs": "Varje part bär sina personalkostnader.", "deviations_and_disputes": "Enligt länets rutin.",
    "amendments": "Ändras genom beslut av alla parter.", "follow_up": "Årligen av styrgruppen.",
}
DECISION = {"decided_on": "2026-11-24", "paragraph": "§ 12", "diarienummer": "0948/26"}
REASON = "Kostnadsfördelningen är inte förhandlad."
ENGINE = PythonScriptEngine()


@dataclass
class Timings:
    start: list[float] = field(default_factory=list)
    submit: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Demo:
    coordinator_id: int
    coordinator_org_id: int
    party_ids: list[int]
    secretary_by_org: dict[int, int]
    body_by_org: dict[int, int]


def ms_since(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def p95(samples: Sequence[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) > 1 else samples[0]


def draft_data(party_ids: list[int], title: str) -> dict[str, Any]:
    return {"title": title, "party_ids": party_ids, **SECTIONS}


def decision_data(body_id: int, outcome: str) -> dict[str, Any]:
    return {"outcome": outcome, "body_id": body_id, **DECISION, **({"reason": REASON} if outcome == "reject" else {})}


# --- 1 and 4: service layer on PostgreSQL ---------------------------------------------------------

def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="test").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone():
            connection.execute(f'CREATE DATABASE "{parsed.database}"')


def set_up_service(url: str, parties: int) -> tuple[Flask, Demo]:
    """Empty database, demo data, adoption process deployed: what `flask seed-demo` leaves behind."""
    ensure_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.session.remove()  # an open session holds a lock that makes drop_all wait forever on PostgreSQL
        db.drop_all()
        db.create_all()
        db.session.add(AuditChainHead(id=1, seq=0, hash="0" * 64))
        seed_demo(lambda: "x")
        deploy_definition(BPMN.read_bytes(), BPMN.name, ROOT / "forms", by=None)
        db.session.commit()
        demo = load_demo(parties)
        db.session.remove()
    return app, demo


def load_demo(parties: int) -> Demo:
    users = {user.username: user.id for user in db.session.scalars(select(User))}
    organisations = {org.name: org for org in db.session.scalars(select(Organisation))}
    chosen = [(organisations[name], users[secretary]) for name, secretary in PARTIES[:parties]]
    return Demo(users["anna"], organisations["Göteborgs Stad"].id, [org.id for org, _ in chosen],
                {org.id: secretary for org, secretary in chosen}, {org.id: org.bodies[0].id for org, _ in chosen})


def request(samples: list[float], work: Callable[[], T]) -> T:
    """One web request: fresh session, the work, commit, session closed."""
    began = time.perf_counter()
    try:
        return commit_with_retry(work)
    finally:
        db.session.remove()
        samples.append(ms_since(began))


def start(demo: Demo, samples: list[float], title: str) -> tuple[int, int]:
    def work() -> tuple[int, int]:
        agreement = agreement_ops.start_drafting(by=db.session.get(User, demo.coordinator_id), title=title,
                                                 organisation=db.session.get(Organisation, demo.coordinator_org_id))
        return agreement.id, agreement.instance_id
    return request(samples, work)


def submit(samples: list[float], task_row_id: int, data: dict[str, Any], user_id: int) -> None:
    request(samples, lambda: complete_task(task_row_id, data, by=db.session.get(User, user_id)))


def ready_tasks(instance_id: int) -> Sequence[Row[Any]]:
    rows = db.session.execute(select(HumanTask.id, HumanTask.bpmn_id, HumanTask.organisation_id).where(
        HumanTask.status == "ready", HumanTask.instance_id == instance_id).order_by(HumanTask.id)).all()
    db.session.remove()
    return rows


def adoption_round(demo: Demo, samples: list[float], instance_id: int, title: str, outcome: str) -> None:
    """Submit the draft, then every party's decision; a rejection by the first party ends the round."""
    (draft,) = ready_tasks(instance_id)
    assert draft.bpmn_id == "draft", draft
    submit(samples, draft.id, draft_data(demo.party_ids, title), demo.coordinator_id)
    decisions = ready_tasks(instance_id)
    assert len(decisions) == len(demo.party_ids), decisions
    for task in decisions[:1] if outcome == "reject" else decisions:
        org = task.organisation_id
        submit(samples, task.id, decision_data(demo.body_by_org[org], outcome), demo.secretary_by_org[org])


def require_active(agreement_id: int) -> None:
    status = db.session.scalar(select(Agreement.status).where(Agreement.id == agreement_id))
    db.session.remove()
    assert status == "active", f"agreement {agreement_id} ended as {status!r}, not 'active'"


def run_service(demo: Demo, instances: int) -> Timings:
    timings = Timings()
    for number in range(instances):
        title = f"Samverkan kring psykisk hälsa {number}"
        agreement_id, instance_id = start(demo, timings.start, title)
        adoption_round(demo, timings.submit, instance_id, title, "approve")
        require_active(agreement_id)
    return timings


def state_size(instance_id: int) -> int:
    size = db.session.scalar(select(ProcessInstance.state).where(ProcessInstance.id == instance_id))
    db.session.remove()
    return len(size or "")


def run_history(demo: Demo, loops: int) -> str:
    """One instance, ``loops`` rejections (draft + one reject each), then adopted."""
    samples: list[float] = []
    agreement_id, instance_id = start(demo, [], "Samverkan med lång historik")
    size_at_start = state_size(instance_id)
    for _ in range(loops):
        adoption_round(demo, samples, instance_id, "Samverkan med lång historik", "reject")
    size_at_end = state_size(instance_id)
    adoption_round(demo, [], instance_id, "Samverkan med lång historik", "approve")
    require_active(agreement_id)
    return (f"flat with history: {loops} rejection loops, {len(samples)} submits on one instance\n"
            f"  median submit, first 20: {statistics.median(samples[:20]):.2f} ms; "
            f"last 20: {statistics.median(samples[-20:]):.2f} ms\n"
            f"  ProcessInstance.state: {size_at_start:,} chars after start, {size_at_end:,} chars after the loops")


# --- 2 and 3: bare SpiffWorkflow --------------------------------------------------------------------

class Store:
    """Keeps the live workflow (in memory) or its stock JSON (round trip) between steps."""

    def __init__(self, roundtrip: bool) -> None:
        registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        self.serializer = BpmnWorkflowSerializer(registry) if roundtrip else None

    def save(self, workflow: BpmnWorkflow) -> Any:
        return self.serializer.serialize_json(workflow) if self.serializer else workflow

    def load(self, state: Any) -> BpmnWorkflow:
        if self.serializer is None:
            return state
        workflow = self.serializer.deserialize_json(state)
        workflow.script_engine = ENGINE  # the script engine is not serialized
        return workflow


def bare_data(task: SpiffTask, party_ids: list[int]) -> dict[str, Any]:
    """What the service hands the engine: form data with defaults, plus what AdoptionHooks.prepare adds."""
    if task.task_spec.bpmn_id == "draft":
        parties = {str(i): {"organisation_id": i, "name": f"Part {i}"} for i in party_ids}
        return {**draft_data(party_ids, "Bare"), "parties": parties, "decisions": {}}
    return {"reason": None, **decision_data(100 + task.data["party"]["organisation_id"], "approve")}


def bare_start(definition: specs.Definition, store: Store, samples: list[float]) -> tuple[Any, BpmnWorkflow]:
    began = time.perf_counter()
    workflow = BpmnWorkflow(definition.spec, dict(definition.subprocess_specs))
    data = {"agreement_id": 1, "coordinator_organisation_id": 1, "title": "Bare", "started_by": 1}
    workflow.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    workflow.do_engine_steps()
    state = store.save(workflow)
    samples.append(ms_since(began))
    return state, workflow


def bare_submit(store: Store, state: Any, task_id: Any, party_ids: list[int],
                samples: list[float]) -> tuple[Any, BpmnWorkflow]:
    began = time.perf_counter()
    workflow = store.load(state)
    task = workflow.get_task_from_id(task_id)
    task.data.update(bare_data(task, party_ids))
    task.run()
    workflow.do_engine_steps()
    state = store.save(workflow)
    samples.append(ms_since(began))
    return state, workflow


def run_bare(definition: specs.Definition, instances: int, parties: int, roundtrip: bool) -> Timings:
    timings, store, party_ids = Timings(), Store(roundtrip), list(range(1, parties + 1))
    for _ in range(instances):
        state, workflow = bare_start(definition, store, timings.start)
        for _phase in ("draft", "decide"):
            for task_id in [task.id for task in workflow.get_tasks(state=TaskState.READY, manual=True)]:
                state, workflow = bare_submit(store, state, task_id, party_ids, timings.submit)
        assert workflow.is_completed(), "bare instance did not complete"
    return timings


# --- report -----------------------------------------------------------------------------------------

def row(name: str, timings: Timings) -> str:
    start_ms, submit_ms = timings.start, timings.submit
    return (f"{name:<34}{statistics.median(start_ms):>9.3f}{p95(start_ms):>9.3f}{statistics.fmean(start_ms):>9.3f}"
            f"{statistics.median(submit_ms):>10.3f}{p95(submit_ms):>9.3f}{statistics.fmean(submit_ms):>9.3f}"
            f"{len(submit_ms):>9}")


def ratios(service: Timings, other: Timings, name: str) -> str:
    start_ratio = statistics.median(service.start) / statistics.median(other.start)
    submit_ratio = statistics.median(service.submit) / statistics.median(other.submit)
    return f"service / {name:<22} start {start_ratio:>7.1f}×   submit {submit_ratio:>7.1f}×  (medians)"


def spiffarena(service: Timings) -> str:
    start_ms, submit_ms = statistics.median(service.start), statistics.median(service.submit)
    return (f"SpiffArena reference: {SPIFFARENA_START_MS:.0f} ms start, {SPIFFARENA_SUBMIT_MS:.0f} ms per submit\n"
            f"  service start {SPIFFARENA_START_MS / start_ms:.1f}× faster than SpiffArena's start; "
            f"submit {SPIFFARENA_SUBMIT_MS / submit_ms:.1f}× faster than SpiffArena's submit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--parties", type=int, default=3, choices=range(2, len(PARTIES) + 1))
    parser.add_argument("--loops", type=int, default=100, help="rejection loops for 'flat with history'")
    args = parser.parse_args()
    app, demo = set_up_service(args.database_url, args.parties)
    with app.app_context():
        service = run_service(demo, args.instances)
        history = run_history(demo, args.loops)
    definition = specs.parse(BPMN.read_bytes(), BPMN.name)
    in_memory = run_bare(definition, args.instances, args.parties, roundtrip=False)
    roundtrip = run_bare(definition, args.instances, args.parties, roundtrip=True)
    print(f"agreement_adoption.bpmn: {args.instances} instances × {args.parties} parties "
          f"({args.parties + 1} submits each); times in ms per operation")
    print(f"{'scenario':<34}{'start':>9}{'p95':>9}{'mean':>9}{'submit':>10}{'p95':>9}{'mean':>9}{'submits':>9}")
    print(row("service, PostgreSQL (guarded eng.)", service))
    print(row("bare in-memory (stock engine)", in_memory))
    print(row("bare + JSON round trip (stock)", roundtrip))
    print("(bare runs use SpiffWorkflow's default script engine; the service uses the guarded one)\n")
    print(ratios(service, in_memory, "bare in-memory"))
    print(ratios(service, roundtrip, "bare + round trip"))
    print(spiffarena(service) + "\n")
    print(history)


if __name__ == "__main__":
    main()
