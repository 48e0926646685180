"""History compaction: a case that loops keeps a small state, loses no data and behaves the same."""

from __future__ import annotations

import json

from service.engine import replay, runner, serializer, specs
from tests.conftest import ROOT

DIAGRAM = ROOT / "tests" / "fixtures" / "bpmn" / "parallel_loop.bpmn"


def run_rounds(rounds: int) -> tuple[list[int], list[int], dict[str, object], bool]:
    definition = specs.parse(DIAGRAM.read_bytes(), DIAGRAM.name)
    workflow, _ = runner.start(definition, {"organisation_id": 7, "rounds": 0, "last_round": rounds})
    state = serializer.dump(workflow)
    sizes, ready_counts = [], []
    while True:
        workflow = runner.load(definition, state)
        ready = runner.ready_tasks(workflow, definition)
        if not ready:
            break
        ready_counts.append(len(ready))
        runner.complete(workflow, ready[0].task_id, {"note": f"{ready[0].bpmn_id} {len(sizes)}"})
        state = serializer.dump(workflow)
        sizes.append(len(json.loads(state)["tasks"]))
    return sizes, ready_counts, runner.final_data(workflow), runner.is_completed(workflow)


def test_a_long_loop_keeps_a_bounded_tree_and_all_its_data() -> None:
    sizes, ready_counts, data, completed = run_rounds(150)

    assert completed
    assert len(sizes) == 300  # two user tasks per round, each completed once
    # Without compaction round 150 holds about 1 200 tasks; with it the tree stays within a few steps of cutting.
    assert max(sizes[100:]) < 120
    assert max(sizes[-60:]) <= max(sizes[60:120]) + 10  # no growth with the number of rounds
    assert set(ready_counts) == {1, 2}
    assert data["rounds"] == 150 and data["organisation_id"] == 7 and data["note"].startswith(("revise", "review"))


def test_compaction_changes_nothing_for_a_short_case() -> None:
    definition = specs.parse(DIAGRAM.read_bytes(), DIAGRAM.name)
    workflow, _ = runner.start(definition, {"organisation_id": 7, "rounds": 0, "last_round": 3})
    state = json.loads(serializer.dump(workflow))
    assert state["root_depth"] == 0 and state["tasks"][state["root"]]["task_spec"] == "Start"


def test_compacting_in_memory_cuts_where_a_save_and_load_would() -> None:
    """A replay compacts the live workflow after every step instead of saving and loading it."""
    definition = specs.parse(DIAGRAM.read_bytes(), DIAGRAM.name)
    start = {"organisation_id": 7, "rounds": 0, "last_round": 40}
    saved, _ = runner.start(definition, start)
    live, _ = runner.start(definition, start)
    serializer.compact_in_memory(live)
    depths = set()
    for step in range(80):
        saved = runner.load(definition, serializer.dump(saved))
        [first_saved, *_] = runner.ready_tasks(saved, definition)
        [first_live, *_] = runner.ready_tasks(live, definition)
        assert first_saved.bpmn_id == first_live.bpmn_id
        runner.complete(saved, first_saved.task_id, {"note": f"{step}"})
        runner.complete(live, first_live.task_id, {"note": f"{step}"})
        serializer.compact_in_memory(live)
        after_save = runner.load(definition, serializer.dump(saved))
        assert replay.describe(live) == replay.describe(after_save), step
        assert len(live.tasks) == len(after_save.tasks)
        depths.add(json.loads(serializer.dump(saved))["root_depth"])
    assert len(depths) > 3  # the tree was cut several times on the way
    assert runner.final_data(live) == runner.final_data(saved)
