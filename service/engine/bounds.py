"""Bounds on the work one request can make the engine do: loop iterations, multi-instance counts, steps.

A script task with ``loopMaximum=5000`` ran 82 s in one request, a multi-instance over 20 000 items more than
120 s. SpiffWorkflow has no limits of its own, so ``install_bounds`` wraps the two places that create loop
and multi-instance children; ``runner.run_engine`` counts the steps of each call. A loop or multi-instance
over the limit leaves its task in ERROR (an incident on the case, naming the element); the limits are
checked at deploy too wherever the diagram states the number (``validation``, ``specs``).
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    StandardLoopTask,
)
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

# Iterations of one standard loop, and the highest loopMaximum a diagram may state.
MAX_LOOP_ITERATIONS = 200
# Instances of one multi-instance activity (cardinality, or items of its input collection).
MAX_INSTANCES = 200
# Tasks the engine runs by itself in one call of run_engine (one request, one timer firing).
MAX_ENGINE_STEPS = 2_000


def install_bounds() -> None:
    """Wrap SpiffWorkflow's loop and multi-instance specs so they refuse to grow past the limits."""
    if getattr(StandardLoopTask.create_child, "_bounded", False):
        return
    StandardLoopTask.create_child = _bounded(StandardLoopTask.create_child, _check_iterations)
    for spec_class in (SequentialMultiInstanceTask, ParallelMultiInstanceTask):
        spec_class._update_hook = _bounded(spec_class._update_hook, _check_instances)


def _bounded(original: Callable[..., Any], check: Callable[[Any, SpiffTask], None]) -> Callable[..., Any]:
    def wrapper(spec: Any, my_task: SpiffTask) -> Any:
        check(spec, my_task)
        return original(spec, my_task)

    wrapper._bounded = True  # type: ignore[attr-defined]
    return wrapper


def _check_iterations(spec: StandardLoopTask, my_task: SpiffTask) -> None:
    done = len(my_task.internal_data.get("merged", []))
    if done >= MAX_LOOP_ITERATIONS:
        _refuse(my_task, f"slingan har gått {done} varv, mer än de {MAX_LOOP_ITERATIONS} som tillåts")


def _check_instances(spec: Any, my_task: SpiffTask) -> None:
    my_task._inherit_data()  # what the original hook does first: the collection or cardinality is in the data
    if spec.data_input is not None:
        if not spec.data_input.exists(my_task):
            return  # SpiffWorkflow names the missing collection itself
        collection = spec.data_input.get(my_task)
        count = len(collection) if isinstance(collection, Sized) else 0
    else:
        count = my_task.workflow.script_engine.evaluate(my_task, spec.cardinality)
    if isinstance(count, int) and count > MAX_INSTANCES:
        _refuse(my_task, f"{count} instanser, fler än de {MAX_INSTANCES} som tillåts")


def _refuse(my_task: SpiffTask, message: str) -> None:
    my_task._set_state(TaskState.ERROR)
    raise WorkflowTaskException(message, task=my_task)
