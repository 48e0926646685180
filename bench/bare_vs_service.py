"""Task completion through the service vs. the same diagram in bare SpiffWorkflow, measured in one run.

The diagram is the peer scenario (bench/peer/peer.bpmn: Draft -> Approve -> Sign). Service: start_process and
complete_task in-process on PostgreSQL, each one transaction (commit_with_retry), as a web request does it
minus HTTP. Bare: SpiffWorkflow's workflow in memory, and the same with a JSON serializer round trip per step.
One database commit: an UPDATE of one row and COMMIT on the same connection pool. Target (issue #10): service
<= 1.5 x bare round trip + one commit.

Floor: what the target leaves room for. The bare round trip's engine work written straight to PostgreSQL with
psycopg, with only what a locked, audited, durable completion cannot do without: one round trip to lock the task,
its instance and the audit chain head and read the state; one pipelined round trip to write the task, the state,
the next task, the audit event and the head, and COMMIT. No form validation, access check, task-list read or
notification. The floor does less than the service must: where it misses the target, fewer statements and less
Python in the service cannot meet it. A second floor measures a design the service does not have, one round trip
per submit (see OneTripFloor).

Where the service's time goes: its CPU time in this process per submit (engine, ORM, driver; the database
server's work is not counted) set against the whole budget, and what one primary-key SELECT costs by psycopg
alone and through SQLAlchemy Core and ORM.

    .venv/bin/python bench/bare_vs_service.py [--instances 300] [--profile]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from adoption import ENGINE, SERIALIZER, STATEMENTS, Timings, signed_in, summary, timed  # bench/adoption.py
from common import fresh_app  # bench/common.py
from psycopg.types.json import Json
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.engine import make_url

from service.audit.models import AuditEvent
from service.audit.operations import chain_hash
from service.audit.verification import verify
from service.columns import now
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
            "peer", by=signed_in(user_id), title=f"Peer {n}", data={"organisation_id": organisation_id}).id)
        for _ in FORM_DATA:
            task_id, bpmn_id = db.session.execute(select(HumanTask.id, HumanTask.bpmn_id).where(
                HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)).one()
            db.session.remove()
            request(timings, "submit", lambda t=task_id, b=bpmn_id: complete_task(
                t, FORM_DATA[b], by=signed_in(user_id)))
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


class Floor:
    """Peer instances kept by hand in the real tables (state: the bare JSON round trip's), submitted the floor's way."""

    def __init__(self, url: str, definition: specs.Definition) -> None:
        self.connection = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        self.definition = definition
        self.definition_id, self.organisation_id = self.connection.execute(
            "SELECT (SELECT id FROM process_definitions WHERE process_id = 'peer'), min(id) FROM organisations").fetchone()
        self.connection.commit()
        self.cached: dict[int, tuple[int, int, BpmnWorkflow]] = {}  # task row id: instance id, lock_version, workflow

    def start(self) -> int:
        """A new instance at its first user task; the task's row id."""
        workflow = BpmnWorkflow(self.definition.spec, dict(self.definition.subprocess_specs), script_engine=ENGINE)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update({"organisation_id": self.organisation_id, "started_by": 1})
        workflow.do_engine_steps()
        with self.connection.cursor() as cursor:
            instance_id = cursor.execute(
                "INSERT INTO process_instances (definition_id, title, status, state, lock_version, started_at,"
                " updated_at) VALUES (%s, 'Golv', 'running', %s, 1, now(), now()) RETURNING id",
                (self.definition_id, SERIALIZER.serialize_json(workflow))).fetchone()[0]
            [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
            row_id = int(self._insert_task(cursor, instance_id, task).fetchone()[0])
        self.connection.commit()
        self.cached[row_id] = (instance_id, 1, workflow)
        return row_id

    def _insert_task(self, cursor: psycopg.Cursor[Any], instance_id: int, task: Any) -> psycopg.Cursor[Any]:
        return cursor.execute(
            "INSERT INTO human_tasks (instance_id, task_id, bpmn_id, name, case_title, form, role, organisation_id,"
            " status, created_at) VALUES (%s, %s, %s, %s, 'Golv', '', 'case_officer', %s, 'ready', now()) RETURNING id",
            (instance_id, str(task.id), task.task_spec.bpmn_id, task.task_spec.bpmn_name or "", self.organisation_id))

    def submit(self, row_id: int) -> int | None:
        """Complete the task in two round trips; the next task's row id (None: the instance has completed)."""
        connection = self.connection
        with connection.pipeline() as pipeline, connection.cursor() as task_cursor, connection.cursor() as head_cursor:
            task_cursor.execute("SELECT t.task_id, t.instance_id, i.state FROM human_tasks t JOIN process_instances i"
                                " ON i.id = t.instance_id WHERE t.id = %s FOR UPDATE OF t, i", (row_id,))
            head_cursor.execute("UPDATE audit_chain_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            pipeline.sync()
            task_id, instance_id, state = task_cursor.fetchone()
            seq, prev_hash = head_cursor.fetchone()
        workflow = SERIALIZER.deserialize_json(state)
        workflow.script_engine = ENGINE
        task = workflow.get_task_from_id(UUID(task_id))
        values = FORM_DATA[task.task_spec.bpmn_id]
        task.data.update(values)
        task.run()
        workflow.do_engine_steps()
        entry = AuditEvent(seq=seq + 1, occurred_at=now(), actor_id=None, actor_name="Golv", action="task.completed",
                           subject_type="human_tasks", subject_id=str(row_id), instance_id=instance_id,
                           data={"task": task.task_spec.bpmn_id, "data": values}, prev_hash=prev_hash)
        entry.hash = chain_hash(prev_hash, entry)
        following = workflow.get_tasks(state=TaskState.READY, manual=True)
        with connection.pipeline(), connection.cursor() as cursor, connection.cursor() as inserted:
            cursor.execute("UPDATE human_tasks SET status = 'completed', completed_at = now() WHERE id = %s", (row_id,))
            cursor.execute("UPDATE process_instances SET state = %s, lock_version = lock_version + 1, updated_at = now()"
                           " WHERE id = %s", (SERIALIZER.serialize_json(workflow), instance_id))
            for ready in following:  # the peer diagram has at most one; its row id is read after the commit
                self._insert_task(inserted, instance_id, ready)
            cursor.execute("INSERT INTO audit_events (seq, occurred_at, actor_name, action, subject_type, subject_id,"
                           " instance_id, data, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                           (entry.seq, entry.occurred_at, entry.actor_name, entry.action, entry.subject_type,
                            entry.subject_id, entry.instance_id, Json(entry.data), entry.prev_hash, entry.hash))
            cursor.execute("UPDATE audit_chain_head SET seq = %s, hash = %s WHERE id = 1", (entry.seq, entry.hash))
            connection.commit()
            return int(inserted.fetchone()[0]) if following else None


class OneTripFloor(Floor):
    """A design the service does not have: one round trip per submit. The workflow stays in the process between
    submits (no read, no deserializing); the task's and the state's UPDATEs check that the row is as cached
    (an error aborts the pipeline, so its COMMIT rolls back); the chain hash is computed by PostgreSQL, in a
    chain of scratch tables (its hash is not the audit log's canonical form), checked at the end."""

    def __init__(self, url: str, definition: specs.Definition) -> None:
        super().__init__(url, definition)
        self.drop()  # left by a run that was stopped
        self.connection.execute("CREATE TABLE floor_chain_head (id int PRIMARY KEY, seq bigint, hash varchar(64))")
        self.connection.execute("CREATE TABLE floor_events (seq bigint PRIMARY KEY, data text, prev_hash varchar(64),"
                                " hash varchar(64))")
        self.connection.execute("INSERT INTO floor_chain_head VALUES (1, 0, repeat('0', 64))")
        self.connection.commit()

    def submit(self, row_id: int) -> int | None:
        instance_id, version, workflow = self.cached.pop(row_id)
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        values = FORM_DATA[task.task_spec.bpmn_id]
        task.data.update(values)
        task.run()
        workflow.do_engine_steps()
        event = json.dumps({"task": str(task.id), "data": values}, sort_keys=True)
        following = workflow.get_tasks(state=TaskState.READY, manual=True)
        connection = self.connection
        with connection.pipeline(), connection.cursor() as cursor, connection.cursor() as inserted:
            cursor.execute(_ONE_ROW.format("UPDATE process_instances SET state = %s, lock_version = lock_version + 1,"
                                           " updated_at = now() WHERE id = %s AND lock_version = %s"),
                           (SERIALIZER.serialize_json(workflow), instance_id, version))
            cursor.execute(_ONE_ROW.format("UPDATE human_tasks SET status = 'completed', completed_at = now()"
                                           " WHERE id = %s AND status = 'ready'"), (row_id,))
            for ready in following:
                self._insert_task(inserted, instance_id, ready)
            cursor.execute(_CHAIN_IN_DATABASE, {"data": event})
            connection.commit()
            if not following:
                return None
            next_row = int(inserted.fetchone()[0])
        self.cached[next_row] = (instance_id, version + 1, workflow)
        return next_row

    def chain_is_intact(self) -> bool:
        previous = "0" * 64
        for data, prev_hash, hash_ in self.connection.execute("SELECT data, prev_hash, hash FROM floor_events ORDER BY seq"):
            if prev_hash != previous or hash_ != hashlib.sha256((previous + data).encode()).hexdigest():
                return False
            previous = hash_
        return True

    def drop(self) -> None:
        self.connection.rollback()
        self.connection.execute("DROP TABLE IF EXISTS floor_events, floor_chain_head")
        self.connection.commit()


# A statement that fails unless its UPDATE changed exactly one row (division by zero): the pipeline's COMMIT then
# rolls the whole submit back. The chain's head locked, stepped and its event written in one statement.
_ONE_ROW = "WITH changed AS ({} RETURNING 1) SELECT 1 / (SELECT count(*) FROM changed)::int"
_CHAIN_IN_DATABASE = (
    "WITH old AS (SELECT seq, hash FROM floor_chain_head WHERE id = 1 FOR UPDATE),"
    " new AS (UPDATE floor_chain_head h SET seq = old.seq + 1,"
    " hash = encode(sha256(convert_to(old.hash || %(data)s, 'UTF8')), 'hex') FROM old WHERE h.id = 1"
    " RETURNING h.seq, h.hash, old.hash AS prev)"
    " INSERT INTO floor_events (seq, data, prev_hash, hash) SELECT seq, %(data)s, prev, hash FROM new")


def run_floor(floor: Floor, instances: int) -> Timings:
    timings = Timings()
    try:
        for _ in range(instances):
            row_id: int | None = floor.start()
            while row_id is not None:
                row_id = timed(timings, "submit", partial(floor.submit, row_id))
        assert len(timings.ms["submit"]) == 3 * instances, "a floor instance did not take three submits"
        if isinstance(floor, OneTripFloor):
            assert floor.chain_is_intact(), "the chain computed in the database is broken"
    finally:
        if isinstance(floor, OneTripFloor):
            floor.drop()
        floor.connection.close()
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


def statement_costs(url: str, samples: int = 300) -> dict[str, tuple[float, float]]:
    """One primary-key SELECT of a task row inside an open transaction (no BEGIN or COMMIT counted), median
    wall and CPU ms in this process, by psycopg alone and through SQLAlchemy Core and ORM (the service's way)."""
    row_id = db.session.scalars(select(HumanTask.id).limit(1)).one()
    by_id = select(HumanTask).where(HumanTask.id == bindparam("id")).execution_options(populate_existing=True)
    core = select(HumanTask.__table__).where(HumanTask.__table__.c.id == bindparam("id"))
    costs = {}
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as connection:
        costs["psycopg"] = _median_cost(samples, lambda: connection.execute(
            "SELECT * FROM human_tasks WHERE id = %s", (row_id,)).fetchone())
        connection.rollback()
    for name, statement in (("SQLAlchemy Core", core), ("SQLAlchemy ORM", by_id)):
        db.session.execute(text("SELECT 1"))  # BEGIN outside the samples
        costs[name] = _median_cost(samples, lambda s=statement: db.session.execute(s, {"id": row_id}).first())
        db.session.remove()
    return costs


def _median_cost(samples: int, work: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(samples):
        began, cpu_began = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - cpu_began) * 1000)
    return statistics.median(wall), statistics.median(cpu)


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
                   "bare + JSON round trip": run_bare(definition, args.instances, roundtrip=True),
                   "floor, 2 round trips": run_floor(Floor(args.database_url, definition), args.instances),
                   "floor, 1 round trip": run_floor(OneTripFloor(args.database_url, definition), args.instances)}
        commit = one_commit_ms()
        costs = statement_costs(args.database_url)
        chain = verify()  # the floor's events are chained by hand onto the service's: the chain must still hold
        assert chain.is_intact, f"audit chain broken at seq {chain.broken_seq}: {chain.reason}"
        report(results, commit, costs, args.instances)
        if args.profile:
            profile_submits(user_id, organisation_id, 50)
        db.engine.dispose()


def report(results: dict[str, Timings], commit_ms: float, costs: dict[str, tuple[float, float]],
           instances: int) -> None:
    print(f"peer.bpmn (Draft -> Approve -> Sign), {instances} instances; ms per operation; {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{'scenario':<26}{'start':>9}{'p95':>9}{'submit':>9}{'p95':>9}")
    for name, timings in results.items():
        start, submit = (summary(timings.ms[kind]).split() if timings.ms[kind] else ["-"] * 3 for kind in ("start", "submit"))
        print(f"{name:<26}{start[0]:>9}{start[1]:>9}{submit[0]:>9}{submit[1]:>9}")
    service, bare = results["service, PostgreSQL"], results["bare + JSON round trip"]
    print(f"one database commit (UPDATE one row + COMMIT): {commit_ms:.3f} ms")
    print(f"SQL statements per service operation: start {service.statements['start'] / instances:.1f}, "
          f"submit {service.statements['submit'] / (3 * instances):.1f}")
    for name, kind in (("service", "start"), ("service", "submit"), ("floor, 2 round trips", "submit"),
                       ("floor, 1 round trip", "submit")):
        timings = service if name == "service" else results[name]
        ours, theirs = statistics.median(timings.ms[kind]), statistics.median(bare.ms[kind])
        budget = 1.5 * theirs + commit_ms
        print(f"{kind}: {name} {ours:.2f} ms = {ours / theirs:.1f}x bare round trip; target 1.5x + one commit = "
              f"{budget:.2f} ms -> {'MET' if ours <= budget else f'MISSED by {ours / budget:.2f}x'}")
    # Where the service's time goes: its own CPU (Python: engine, ORM, driver) against the whole budget.
    budget = 1.5 * statistics.median(bare.ms["submit"]) + commit_ms
    cpu = statistics.median(service.cpu_ms["submit"])
    print(f"submit: service CPU in this process {cpu:.2f} ms median (of {statistics.median(service.ms['submit']):.2f} ms) "
          f"= {cpu / budget:.2f}x the whole budget, before any wait on the database")
    print("one primary-key SELECT in an open transaction, median ms (CPU ms in this process): " + ", ".join(
        f"{name} {wall:.3f} ({cpu_ms:.3f})" for name, (wall, cpu_ms) in costs.items()))


if __name__ == "__main__":
    main()
