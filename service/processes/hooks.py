"""How domain packages react to their processes, without processes/ knowing any domain.

A domain registers hooks for its BPMN process id. ``prepare`` checks and enriches validated form
data before the engine sees it (e.g. turns chosen party ids into the ``parties`` the multi-instance
task iterates); ``completed`` records domain facts from a completed task; ``advanced`` reacts to where
the instance stands after any step; ``initial_values`` fills a task's form when it is first opened (e.g.
the current text of the agreement). All run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from service.engine.runner import ReadyTask
    from service.parties.models import User
    from service.processes.models import HumanTask, ProcessInstance


@dataclass(frozen=True)
class Progress:
    """Where an instance stands after a step."""

    ready: Sequence[ReadyTask]
    is_completed: bool
    data: Mapping[str, Any]


class ProcessHooks(Protocol):
    def prepare(self, instance: ProcessInstance, task: HumanTask, data: dict[str, Any],
                task_data: Mapping[str, Any]) -> dict[str, Any]: ...

    def completed(self, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any],
                  actor: User) -> None: ...

    def advanced(self, instance: ProcessInstance, progress: Progress, actor: User | None) -> None: ...

    def initial_values(self, task: HumanTask) -> dict[str, Any]: ...


class NoHooks:
    def prepare(self, instance: ProcessInstance, task: HumanTask, data: dict[str, Any],
                task_data: Mapping[str, Any]) -> dict[str, Any]:
        return data

    def completed(self, instance: ProcessInstance, task: HumanTask, data: Mapping[str, Any],
                  actor: User) -> None:
        return None

    def advanced(self, instance: ProcessInstance, progress: Progress, actor: User | None) -> None:
        return None

    def initial_values(self, task: HumanTask) -> dict[str, Any]:
        return {}


_REGISTRY: dict[str, ProcessHooks] = {}


def register(process_id: str, hooks: ProcessHooks) -> None:
    _REGISTRY[process_id] = hooks


def hooks_for(process_id: str) -> ProcessHooks:
    return _REGISTRY.get(process_id, NoHooks())
