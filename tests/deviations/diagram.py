"""Drive a diagram through the engine only, as the service keeps it: the state is saved and restored after
every step. No Flask, no database."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from service import clock
from service.engine import runner, serializer, specs, timers
from service.engine.runner import ReadyTask
from service.parties.models import role_for_lane
from tests.conftest import ROOT


def parse(name: str) -> specs.Definition:
    """Parse and validate bpmn/<name> against forms/ and the decision tables beside it, as deploy does."""
    xml = (ROOT / "bpmn" / name).read_bytes()
    tables = {path.name: path.read_text(encoding="utf-8") for path in (ROOT / "bpmn").glob("*.dmn")}
    definition = specs.parse(xml, name, decision_files=tables)
    schemas = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in (ROOT / "forms").glob("*.json")}
    specs.validate(xml, definition, schemas, role_for_lane)
    return definition


class Instance:
    def __init__(self, definition: specs.Definition, data: Mapping[str, Any]) -> None:
        self.definition = definition
        workflow, _ = runner.start(definition, data)
        self.state = serializer.dump(workflow)

    def ready(self, bpmn_id: str | None = None) -> list[ReadyTask]:
        found = runner.ready_tasks(runner.load(self.definition, self.state), self.definition)
        return [task for task in found if bpmn_id is None or task.bpmn_id == bpmn_id]

    def ready_ids(self) -> list[str]:
        return sorted(task.bpmn_id for task in self.ready())

    def complete(self, task: ReadyTask, data: Mapping[str, Any]) -> None:
        workflow = runner.load(self.definition, self.state)
        runner.complete(workflow, task.task_id, data)
        self.state = serializer.dump(workflow)

    def advance(self, delta: timedelta) -> list[str]:
        """Move the clock and fire what came due; returns the BPMN ids the engine ran."""
        clock.advance(delta)
        workflow = runner.load(self.definition, self.state)
        steps = timers.fire_due(workflow)
        self.state = serializer.dump(workflow)
        return [step.bpmn_id for step in steps]

    def waiting_timers(self) -> list[str]:
        return sorted(t.bpmn_id for t in timers.waiting_timers(runner.load(self.definition, self.state)))

    def is_completed(self) -> bool:
        return runner.is_completed(runner.load(self.definition, self.state))
