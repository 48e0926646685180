"""Instance state only: the spec lives once per definition version, not in every instance row.

The stock ``BpmnWorkflowConverter`` embeds the whole process spec in each serialization (shared/
SPIFFWORKFLOW.md §7). Ours leaves it out and, on load, reuses the already parsed spec objects of the
instance's own definition version, so an instance stays pinned to the version it started on.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from service.engine.specs import Definition


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], definition: Definition | None = None) -> BpmnWorkflow:
        if definition is None:
            raise ValueError("instance state can only be loaded with its definition")
        dct.pop("spec", None)  # tolerated in states written by the stock converter
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(definition.spec, dict(definition.subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> UUID:
    return UUID(value)


def _registry() -> Any:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Forms submit dates as ISO strings, but a script may build a date: keep it a date.
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    return registry


_SERIALIZER = BpmnWorkflowSerializer(_registry())


def dump(workflow: BpmnWorkflow) -> str:
    """Serialize the instance's state (no spec) to a JSON string."""
    return _SERIALIZER.serialize_json(workflow)  # type: ignore[no-any-return]


def load(definition: Definition, state: str) -> BpmnWorkflow:
    """Rebuild a workflow from its state and its definition. The caller attaches the script engine."""
    dct = json.loads(state)
    _SERIALIZER.migrate(dct)
    return _SERIALIZER.registry.restore(dct, definition=definition)
