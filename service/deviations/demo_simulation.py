"""A year of collaboration, event by event on the controllable clock: every report, acknowledgement, question,
answer, reminder, escalation, verdict and analysis goes through the real processes, in time order, and the
timers fire when their moment passes (as the scheduler would have fired them)."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select

from service import clock
from service.deviations import demo_texts as texts
from service.deviations.models import Deviation, DeviationCategory, RootCause
from service.deviations.operations import report_deviation
from service.extensions import db
from service.parties.models import User
from service.processes.models import HumanTask, ProcessTimer, TaskStatus, TimerStatus
from service.processes.operations import complete_task, fire_timer

# What happens to a receiving party's answer (the rest is answered in time and accepted).
LATE, QUESTION, CONTESTED = "late", "question", "contested"
FATE_WEIGHTS = {"in_time": 70, LATE: 12, QUESTION: 11, CONTESTED: 7}


@dataclass(frozen=True)
class PartyPeople:
    """Who acts for one party in the demo."""

    reporter: User
    contact: User
    manager: User


@dataclass(order=True)
class _Event:
    moment: datetime
    seq: int
    action: Callable[[], None] = field(compare=False)


@dataclass(frozen=True)
class Plan:
    delay_days: tuple[float, float]
    user: User
    data: dict[str, Any]


class Simulation:
    """The event queue: ``at`` schedules, ``run`` plays everything up to ``end`` (later events never happen)."""

    def __init__(self, rng: random.Random, end: datetime, people: Mapping[int, PartyPeople],
                 analysts: Mapping[int, User]) -> None:
        self.rng, self.end, self.people, self.analysts = rng, end, people, analysts
        self.queue: list[_Event] = []
        self.counter = itertools.count()
        self.planned: set[int] = set()
        self.fates: dict[tuple[int, int], str] = {}  # (instance id, receiving organisation id) -> fate
        self.asked: set[tuple[int, int]] = set()

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, _Event(moment, next(self.counter), action))

    def run(self) -> None:
        while self.queue and self.queue[0].moment <= self.end:
            event = heapq.heappop(self.queue)
            self.fire_timers(event.moment)
            clock.freeze(event.moment)
            event.action()
        self.fire_timers(self.end)

    def fire_timers(self, until: datetime) -> None:
        """Fire every timer due by ``until`` in due order, and let people react to the tasks that appear."""
        while True:
            timer = db.session.scalars(select(ProcessTimer).where(
                ProcessTimer.status == TimerStatus.WAITING, ProcessTimer.due_at <= until)
                .order_by(ProcessTimer.due_at, ProcessTimer.id).limit(1)).first()
            if timer is None:
                return
            clock.freeze(max(timer.due_at + timedelta(seconds=1), clock.now()))
            if not fire_timer(timer.id):
                return
            self.follow(timer.instance_id)

    def report(self, fields: dict[str, Any], reporter: User, fates: Mapping[int, str]) -> None:
        """Report a deviation now and let the receiving parties react."""
        deviation = report_deviation(fields, by=reporter)
        for organisation_id, fate in fates.items():
            self.fates[(deviation.instance_id or 0, organisation_id)] = fate
        self.follow(deviation.instance_id or 0)

    def follow(self, instance_id: int) -> None:
        """Schedule a reaction to every new READY task of the instance that the demo's people handle."""
        tasks = db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY).order_by(HumanTask.id)).all()
        for task in tasks:
            if task.id in self.planned:
                continue
            self.planned.add(task.id)
            plan = self.plan(task)
            if plan is not None:
                delay = timedelta(days=self.rng.uniform(*plan.delay_days))
                self.at(clock.now() + delay, partial(self.complete, task.id, plan.user, plan.data))

    def complete(self, task_id: int, user: User, data: dict[str, Any]) -> None:
        """Complete the task if it is still waiting (a timer may have taken it away meanwhile)."""
        task = db.session.get(HumanTask, task_id)
        if task is None or not task.is_ready:
            return
        complete_task(task_id, data, by=user)
        self.follow(task.instance_id)

    def plan(self, task: HumanTask) -> Plan | None:
        """What the responsible person does with a deviation task, and after how many days."""
        deviation = db.session.scalar(select(Deviation).where(Deviation.instance_id == task.instance_id))
        if deviation is None:
            return None  # disputes are scripted in demo.py
        planner = _PLANNERS.get(task.bpmn_id)
        return planner(self, task, deviation) if planner is not None else None

    def fate(self, task: HumanTask) -> str:
        return self.fates.get((task.instance_id, task.organisation_id or 0), "in_time")

    def choice(self, options: list[str]) -> str:
        return self.rng.choice(options)


def _acknowledge(sim: Simulation, task: HumanTask, deviation: Deviation) -> Plan | None:
    receiver = deviation.receiver_for(task.organisation_id or 0)
    if sim.fate(task) == LATE and receiver is not None and receiver.contest_count == 0:
        return None  # nobody at this party takes the deviation up: the deadline will escalate it
    handler = sim.choice(["Enhetschef", "Avdelningschef", "Sjuksköterska, hemsjukvården", "Verksamhetsutvecklare"])
    return Plan((0.3, 4), sim.people[task.organisation_id or 0].contact, {"handler": handler})


def _investigate(sim: Simulation, task: HumanTask, deviation: Deviation) -> Plan:
    key = (task.instance_id, task.organisation_id or 0)
    contact = sim.people[task.organisation_id or 0].contact
    if sim.fate(task) == QUESTION and key not in sim.asked:
        sim.asked.add(key)
        return Plan((2, 7), contact, {"action": "question",
                                      "question": "Kan du beskriva vid vilken tid på dygnet det inträffade?"})
    return Plan((3, 40), contact, {"action": "answer", "findings": sim.choice(texts.FINDINGS),
                                   "measures": sim.choice(texts.MEASURES)})


def _reply(sim: Simulation, task: HumanTask, deviation: Deviation) -> Plan:
    return Plan((0.5, 3), deviation.reported_by, {"reply": "Det var sent på eftermiddagen, strax före helgen."})


def _overdue(sim: Simulation, task: HumanTask, deviation: Deviation) -> Plan:
    return Plan((2, 10), sim.people[task.organisation_id or 0].manager, {
        "findings": sim.choice(texts.FINDINGS), "measures": "Avvikelsekontakten får en ersättare vid frånvaro."})


def _review(sim: Simulation, task: HumanTask, deviation: Deviation) -> Plan:
    contested = [r for r in deviation.receivers if sim.fates.get((task.instance_id, r.organisation_id)) == CONTESTED
                 and r.contest_count == 0 and r.answered_at is not None]
    if contested:
        return Plan((1, 6), deviation.reported_by, {"verdict": "contest",
                                                    "motivation": "Svaret beskriver inte varför rutinen inte följdes."})
    return Plan((1, 6), deviation.reported_by, {"verdict": "accept"})


def _analyse(sim: Simulation, task: HumanTask, deviation: Deviation) -> Plan:
    category = deviation.category if sim.rng.random() < 0.85 else sim.choice([str(c) for c in DeviationCategory])
    data: dict[str, Any] = {"final_category": category, "root_cause": sim.choice([str(c) for c in RootCause]),
                            "root_cause_description": "Genomgången i analysgruppen."}
    if sim.rng.random() < 0.25:
        description, owner = sim.rng.choice(texts.IMPROVEMENTS)
        due = (clock.now() + timedelta(days=90)).date().isoformat()
        data.update(improvement=True, improvement_description=description, improvement_owner=owner, improvement_due_on=due)
    return Plan((5, 30), sim.analysts[deviation.analysis_organisation_id], data)


_PLANNERS: dict[str, Callable[[Simulation, HumanTask, Deviation], Plan | None]] = {
    "acknowledge": _acknowledge, "investigate": _investigate, "answer_question": _reply, "answer_overdue": _overdue,
    "review_answer": _review, "analyse": _analyse,
}
