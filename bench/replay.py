"""Replay of a long history: an instance with 500 engine events (a user task completed 499 times in a loop),
rebuilt from nothing at its last step and compared with the stored state; and the history page's response time.

    .venv/bin/python bench/replay.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_replay]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import fresh_app  # bench/common.py (the script's own folder is on sys.path)
from sqlalchemy import select

from service.agreements.models import Agreement
from service.audit.replay import replay_instance, snapshots
from service.extensions import db
from service.parties.models import Membership, Organisation, Role, User
from service.processes.definitions import deploy_definition
from service.processes.models import HumanTask, ProcessInstance, TaskStatus
from service.processes.operations import complete_task, start_process
from service.transactions import commit_with_retry

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 500
LOOP_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="https://samverkan.se/bpmn">
  <bpmn:process id="bench_loop" name="Slinga" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane" name="Handl\xc3\xa4ggare">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>step</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>more</bpmn:flowNodeRef><bpmn:flowNodeRef>done</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="step" name="Steg">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="simple.schema.json"/>
        <spiffworkflow:property name="assignee" value="started_by"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="more" default="f3"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="done"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step"/>
    <bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="more"/>
    <bpmn:sequenceFlow id="f3" sourceRef="more" targetRef="step"/>
    <bpmn:sequenceFlow id="f4" sourceRef="more" targetRef="done">
      <bpmn:conditionExpression>note == "klar"</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return times


def report(name: str, times: list[float]) -> None:
    print(f"{name:<48} median {statistics.median(times):8.1f} ms   min {min(times):8.1f} ms   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench_replay")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = fresh_app(args.url)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        instance_id, agreement_id = build_history(ROOT / "forms", Path(tempfile.mkdtemp()))
        instance = db.session.get(ProcessInstance, instance_id)
        result = replay_instance(instance)
        print(f"instance {instance_id}: {result.steps} engine events; {result.summary()}")
        report("replay + compare (rebuild at the last step)", timed(lambda: replay_instance(instance), args.repeat))
        report("per-step snapshots for the viewer", timed(lambda: snapshots(instance), args.repeat))
        client = app.test_client()
        client.post("/logga-in", data={"username": "auditor", "password": "x"})
        url = f"/granskning/agreement/{agreement_id}"
        assert client.get(url).status_code == 200
        report(f"GET {url} (history page)", timed(lambda: client.get(url), args.repeat))


def build_history(forms: Path, scratch: Path) -> tuple[int, int]:
    """Deploy the loop, start it and complete its task until the instance has EVENTS engine events."""
    (scratch / "simple.schema.json").write_bytes((ROOT / "tests/fixtures/forms/simple.schema.json").read_bytes())
    commit_with_retry(lambda: deploy_definition(LOOP_BPMN, "bench_loop.bpmn", scratch, by=None))
    organisation = db.session.scalars(select(Organisation).order_by(Organisation.id)).first()
    worker = User(username="bench_worker", display_name="Bänk Arbetare")
    worker.set_password("x")
    auditor = User(username="auditor", display_name="Revisor")
    auditor.set_password("x")
    auditor.memberships = [Membership(organisation_id=organisation.id, role=Role.AUDITOR)]
    db.session.add_all([worker, auditor])
    db.session.commit()
    instance = commit_with_retry(lambda: start_process("bench_loop", by=worker, title="Lång historik", data={}))
    for number in range(1, EVENTS):
        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == TaskStatus.READY)).one()
        note = "klar" if number == EVENTS - 1 else f"varv {number}"
        commit_with_retry(lambda task=task, note=note: complete_task(task.id, {"note": note}, by=worker))
    agreement = Agreement(title="Bänkavtal", coordinator_organisation_id=organisation.id, created_by_id=worker.id,
                          lifecycle_instance_id=instance.id)
    db.session.add(agreement)
    db.session.commit()
    return instance.id, agreement.id


if __name__ == "__main__":
    main()
