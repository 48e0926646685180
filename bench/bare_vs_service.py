"""Task completion through the service vs. the same diagram in bare SpiffWorkflow, measured in one run.

The diagram is the peer scenario (bench/peer/peer.bpmn: Draft -> Approve -> Sign). Service: start_process and
complete_task in-process on PostgreSQL, each one transaction (commit_with_retry), as a web request does it
minus HTTP. Bare: SpiffWorkflow's workflow in memory, and the same with a JSON serializer round trip per step.
One database commit: an UPDATE of one row and COMMIT on the same connection pool. Target (issue #10): service
<= 1.5 x bare round trip + one commit.

    .venv/bin/python bench/bare_vs_service.py [--instances 300] [--profile]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from adoption import ENGINE, SERIALIZER, STATEMENTS, Timings, summary, timed  # bench/adoption.py
from common import fresh_app  # bench/common.py
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select, text

from service.engine import specs
from service.extensions import db
from service.parties.models import Organisation, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, TaskStatus
from service.processes.operations import complete_task, start_process
from service.transactions import commit_with_retry

PEER = Path(__file__).resolve().parent / "peer"
FORM_DATA = {"draft": {"text": "Utkast"}, "approve": {"approved": True}, "sign": {"signed_by": "Anna"}}


def request(timings: Timings, kind: str, work: Callable[[], Any]) -> Any:
    try:
        return timed(timings, kind, partial(commit_with_retry, work))
    finally:
        db.session.remove()


def run_service(instances: int, user_id: int, organisation_id: int) -> Timings:
    timings = Timings()
    for n in range(instances):
        instance_id = request(timings, "start", lambda n=n: start_process(
            "peer", by=db.session.get_one(User, user_id), title=f"Peer {n}", data={"organisation_id": organisation_id}).id)
        for _ in FORM_DATA:
            task_id, bpmn_id = db.session.execute(select(HumanTask.id, HumanTask.bpmn_id).where(
                HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)).one()
            db.session.remove()
            request(timings, "submit", lambda t=task_id, b=bpmn_id: complete_task(
                t, FORM_DATA[b], by=db.session.get_one(User, user_id)))
    return timings


def run_bare(definition: specs.Definition, instances: int, roundtrip: bool) -> Timings:
    timings = Timings()

    def save(workflow: BpmnWorkflow) -> Any:
        return SERIALIZER.serialize_json(workflow) if roundtrip else workflow

    def load(state: Any) -> BpmnWorkflow:
        if isinstance(state, BpmnWorkflow):
            return state
        workflow = SERIALIZER.deserialize_json(state)
        workflow.script_engine = ENGINE
        return workflow

    def start() -> Any:
        workflow = BpmnWorkflow(definition.spec, dict(definition.subprocess_specs), script_engine=ENGINE)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update({"organisation_id": 1, "started_by": 1})
        workflow.do_engine_steps()
        return save(workflow)

    def submit(state: Any) -> Any:
        workflow = load(state)
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.data.update(FORM_DATA[task.task_spec.bpmn_id])
        task.run()
        workflow.do_engine_steps()
        return save(workflow)

    for _ in range(instances):
        state = timed(timings, "start", start)
        for _step in FORM_DATA:
            state = timed(timings, "submit", partial(submit, state))
        assert load(state).is_completed(), "a bare instance did not complete"
    return timings


def one_commit_ms(samples: int = 300) -> float:
    """An UPDATE of one row and COMMIT: what any durable state change costs at least."""
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        db.session.execute(text("UPDATE audit_chain_head SET seq = seq WHERE id = 1"))
        db.session.commit()
        times.append((time.perf_counter() - began) * 1000)
    db.session.remove()
    return statistics.median(times)


def profile_submits(user_id: int, organisation_id: int, instances: int) -> None:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    run_service(instances, user_id, organisation_id)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_bare")
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="also profile 50 service instances with pyinstrument")
    args = parser.parse_args()
    app = fresh_app(args.database_url)
    with app.app_context():
        xml = (PEER / "peer.bpmn").read_bytes()
        deploy_definition(xml, "peer.bpmn", PEER, by=None)
        db.session.commit()
        user_id = db.session.scalars(select(User.id).where(User.username == "anna")).one()
        organisation_id = db.session.scalars(select(Organisation.id).where(Organisation.name == "Göteborgs Stad")).one()
        db.session.remove()
        event.listen(db.engine, "before_cursor_execute", lambda _c, _k, sql, *_: STATEMENTS.append(sql))
        definition = specs.parse(xml, "peer.bpmn")
        run_service(20, user_id, organisation_id)  # warm-up: parse caches, connection pool
        results = {"service, PostgreSQL": run_service(args.instances, user_id, organisation_id),
                   "bare in-memory": run_bare(definition, args.instances, roundtrip=False),
                   "bare + JSON round trip": run_bare(definition, args.instances, roundtrip=True)}
        commit = one_commit_ms()
        report(results, commit, args.instances)
        if args.profile:
            profile_submits(user_id, organisation_id, 50)
        db.engine.dispose()


def report(results: dict[str, Timings], commit_ms: float, instances: int) -> None:
    print(f"peer.bpmn (Draft -> Approve -> Sign), {instances} instances; ms per operation; {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{'scenario':<26}{'start':>9}{'p95':>9}{'submit':>9}{'p95':>9}")
    for name, timings in results.items():
        start, submit = summary(timings.ms["start"]).split(), summary(timings.ms["submit"]).split()
        print(f"{name:<26}{start[0]:>9}{start[1]:>9}{submit[0]:>9}{submit[1]:>9}")
    service, bare = results["service, PostgreSQL"], results["bare + JSON round trip"]
    print(f"one database commit (UPDATE one row + COMMIT): {commit_ms:.3f} ms")
    print(f"SQL statements per service operation: start {service.statements['start'] / instances:.1f}, "
          f"submit {service.statements['submit'] / (3 * instances):.1f}")
    for kind in ("start", "submit"):
        ours, theirs = statistics.median(service.ms[kind]), statistics.median(bare.ms[kind])
        budget = 1.5 * theirs + commit_ms
        print(f"{kind}: service {ours:.2f} ms = {ours / theirs:.1f}x bare round trip; target 1.5x + one commit = "
              f"{budget:.2f} ms -> {'MET' if ours <= budget else f'MISSED by {ours / budget:.1f}x'}")


if __name__ == "__main__":
    main()
