"""Process tests: run a test case (start data, the answers at each user task, the timers that fire) in
memory against a parsed definition and compare the path and end with what the case expects.

Nothing here touches the database, the task list or mail: the workflow lives only in this call. Time is
the service clock pinned per operation; firing a timer moves that pinned moment to the timer's due time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from service import clock
from service.engine import forms, runner, timers
from service.engine.specs import Definition
from service.errors import BpmnError, ValidationFailed

_CASE_KEYS = frozenset({"name", "start", "steps", "expect"})
_EXPECT_KEYS = frozenset({"path", "end", "data"})


@dataclass(frozen=True)
class TestCase:
    """One case: ``steps`` are ``{"task": id, "data": {...}}`` or ``{"timer": id}``, in order."""

    __test__ = False  # not a pytest class

    name: str
    start: Mapping[str, Any]
    steps: list[Mapping[str, Any]]
    path: list[str] = field(default_factory=list)
    end: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """A case's result: ``element_id`` names the BPMN element where it went wrong (None: passed)."""

    name: str
    passed: bool
    message: str = ""
    element_id: str | None = None
    path: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "message": self.message,
                "element_id": self.element_id, "path": self.path}


class CaseFailed(Exception):
    def __init__(self, element_id: str | None, message: str) -> None:
        super().__init__(message)
        self.element_id, self.message = element_id, message


def parse_case(raw: Any) -> TestCase:
    """A stored or typed test case as a TestCase; ValidationFailed names the field at fault."""
    if not isinstance(raw, Mapping):
        _refuse("", "Testfallet ska vara ett JSON-objekt.")
    unknown = sorted(set(raw) - _CASE_KEYS)
    if unknown:
        _refuse(unknown[0], "Okänt fält.")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        _refuse("name", "Ange ett namn (högst 200 tecken).")
    start = raw.get("start", {})
    if not isinstance(start, Mapping):
        _refuse("start", "Startdata ska vara ett objekt.")
    steps = raw.get("steps", [])
    if not isinstance(steps, list):
        _refuse("steps", "Stegen ska vara en lista.")
    for index, step in enumerate(steps):
        _check_step(index, step)
    path, end, data = _expectation(raw.get("expect", {}))
    return TestCase(name=name.strip(), start=dict(start), steps=list(steps), path=path, end=end, data=dict(data))


def _expectation(expect: Any) -> tuple[list[str], str | None, Mapping[str, Any]]:
    if not isinstance(expect, Mapping) or set(expect) - _EXPECT_KEYS:
        _refuse("expect", "Ska vara ett objekt med path, end och data.")
    path, end, data = expect.get("path", []), expect.get("end"), expect.get("data", {})
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        _refuse("expect/path", "Ska vara en lista med BPMN-id.")
    if end is not None and not isinstance(end, str):
        _refuse("expect/end", "Ska vara ett BPMN-id.")
    if not isinstance(data, Mapping):
        _refuse("expect/data", "Ska vara ett objekt.")
    return path, end or None, data


def _check_step(index: int, step: Any) -> None:
    where = f"steps/{index}"
    if not isinstance(step, Mapping) or len({"task", "timer"} & set(step)) != 1:
        _refuse(where, 'Ett steg är {"task": id, "data": {...}} eller {"timer": id}.')
    if set(step) - {"task", "data", "timer"} or ("timer" in step and "data" in step):
        _refuse(where, "Okänt fält i steget.")
    if not isinstance(step.get("task", step.get("timer")), str):
        _refuse(where, "Ange elementets BPMN-id som text.")
    if not isinstance(step.get("data", {}), Mapping):
        _refuse(f"{where}/data", "Ska vara ett objekt.")


def _refuse(path: str, message: str) -> Any:
    raise ValidationFailed("Testfallet är ogiltigt. Inget har sparats.", {path or "case": [message]})


def run_case(definition: Definition, form_schemas: Mapping[str, Any], case: TestCase,
             started_at: datetime | None = None) -> Outcome:
    """Run ``case`` in memory and compare its path, end and data with what it expects."""
    run = _Run(definition, form_schemas, started_at or clock.now())
    try:
        run.start(case.start)
        for index, step in enumerate(case.steps, 1):
            if "timer" in step:
                run.fire(index, str(step["timer"]))
            else:
                run.complete(index, str(step["task"]), step.get("data") or {})
        _compare(run, case)
    except CaseFailed as failure:
        return Outcome(case.name, False, f"Testfall ”{case.name}”: {failure.message}", failure.element_id, run.path)
    return Outcome(case.name, True, path=run.path)


def run_cases(definition: Definition, form_schemas: Mapping[str, Any], cases: list[TestCase]) -> list[Outcome]:
    return [run_case(definition, form_schemas, case) for case in cases]


class _Run:
    def __init__(self, definition: Definition, form_schemas: Mapping[str, Any], moment: datetime) -> None:
        self.definition, self.schemas, self.moment = definition, form_schemas, moment
        self.path: list[str] = []
        self.ends: list[str] = []
        self.workflow: BpmnWorkflow | None = None

    def start(self, data: Mapping[str, Any]) -> None:
        with self._engine(None, "vid starten"):
            self.workflow, steps = runner.start(self.definition, data)
            self._record(steps)

    def complete(self, index: int, bpmn_id: str, data: Mapping[str, Any]) -> None:
        workflow = self._workflow()
        ready = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == bpmn_id]
        if not ready:
            names = ", ".join(f"”{t.task_spec.bpmn_id}”" for t in workflow.get_tasks(state=TaskState.READY, manual=True))
            raise CaseFailed(bpmn_id, f"steg {index}: väntade att ”{bpmn_id}” skulle vara redo, men redo är "
                                      f"{names or 'ingen uppgift'}")
        form = self.definition.user_tasks[bpmn_id].form if bpmn_id in self.definition.user_tasks else None
        schema = self.schemas.get(form) if form else None
        if schema is not None:
            errors = forms.validate(schema, data)
            if errors:
                field_name, messages = next(iter(errors.items()))
                raise CaseFailed(bpmn_id, f"steg {index}: uppgiften ”{bpmn_id}” tar inte emot svaret: fältet "
                                          f"”{field_name}”: {messages[0]}")
            data = {**forms.defaults(schema), **data}
        with self._engine(bpmn_id, f"steg {index}"):
            self.path.append(bpmn_id)
            self._record(runner.complete(workflow, str(ready[0].id), data))

    def fire(self, index: int, bpmn_id: str) -> None:
        workflow = self._workflow()
        waiting = timers.waiting_timers(workflow)
        due = [t.due_at for t in waiting if t.bpmn_id == bpmn_id]
        if not due:
            names = ", ".join(f"”{t.bpmn_id}”" for t in waiting)
            raise CaseFailed(bpmn_id, f"steg {index}: väntade att timern ”{bpmn_id}” skulle vänta, men väntande "
                                      f"timrar är {names or 'inga'}")
        # SpiffWorkflow fires a timer once now is strictly past its due moment.
        self.moment = max(self.moment, min(due) + timedelta(seconds=1))
        with self._engine(bpmn_id, f"steg {index}"):
            self._record(timers.fire_due(workflow))

    def _workflow(self) -> BpmnWorkflow:
        assert self.workflow is not None
        return self.workflow

    def _record(self, steps: list[runner.Step]) -> None:
        self.path.extend(step.bpmn_id for step in steps)
        self.ends.extend(step.bpmn_id for step in steps if step.kind == "EndEvent")

    @contextmanager
    def _engine(self, element_id: str | None, where: str) -> Iterator[None]:
        """One operation at one pinned moment; an engine failure fails the case, naming its element."""
        try:
            with clock.pinned(self.moment):
                yield
        except CaseFailed:
            raise
        except BpmnError as error:
            element = error.element_id or element_id
            raise CaseFailed(element, f"{where}: {error.detail}") from error
        except Exception as error:  # a process owner's script or expression: theirs to fix, named in the result
            raise CaseFailed(element_id, f"{where}: processen kunde inte köras: {error}") from error


def _compare(run: _Run, case: TestCase) -> None:
    position = 0
    for expected in case.path:
        try:
            position = run.path.index(expected, position) + 1
        except ValueError:
            taken = " → ".join(run.path) or "inga element"
            raise CaseFailed(expected, f"väntade att vägen skulle gå genom ”{expected}” (i den ordningen), men "
                                       f"vägen blev {taken}") from None
    workflow = run._workflow()
    if case.end is not None:
        if not runner.is_completed(workflow):
            waiting = ", ".join(f"”{t.task_spec.bpmn_id}”" for t in workflow.get_tasks(state=TaskState.READY, manual=True))
            raise CaseFailed(case.end, f"väntade slut i ”{case.end}”, men processen väntar på {waiting or 'en timer'}")
        if case.end not in run.ends:
            ended = ", ".join(f"”{end}”" for end in run.ends) or "inget slut"
            raise CaseFailed(case.end, f"väntade slut i ”{case.end}”, men processen slutade i {ended}")
    final = runner.final_data(workflow) if runner.is_completed(workflow) else _last_data(workflow)
    for key, value in case.data.items():
        if final.get(key) != value:
            raise CaseFailed(case.end, f"väntade att ”{key}” skulle vara {value!r}, men det är {final.get(key)!r}")


def _last_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    return dict(ready[0].data) if ready else dict(workflow.data)
