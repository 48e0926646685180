"""What a script or expression costs in-process and in the sandbox worker (service/engine/sandbox.py).

Prints, per evaluation: a typical gateway condition in-process (provably cheap: costs.is_cheap), the same
with the allow-list's cached check only, a condition with a comprehension (goes to the worker: one pipe
round trip with the task data pickled both ways), a script task in the worker, and the first call's worker
start. The task data is the adoption process's typical size (a few parties and decisions).

    .venv/bin/python bench/script_sandbox.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from service.engine import costs, sandbox, scripting

DATA: dict[str, Any] = {
    "parties": {str(n): {"organisation_id": n, "name": f"Kommun {n}"} for n in range(1, 6)},
    "decisions": {str(n): {"outcome": "approve", "diarienummer": f"KS 2026/{n}"} for n in range(1, 6)},
    "title": "Samverkan kring psykisk hälsa", "amount": 120_000, "limit": 100_000,
}
CHEAP = 'len(parties) > 2 and decisions.get("3", {}).get("outcome") == "approve" and amount > limit'
IN_WORKER = 'all(d["outcome"] == "approve" for d in decisions.values())'
SCRIPT = "approved = 0\nfor d in decisions.values():\n    if d[\"outcome\"] == \"approve\":\n        approved += 1\n"


def per_call_us(run: Callable[[], Any], rounds: int) -> float:
    """Median of five batches, in microseconds per call."""
    batches = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            run()
        batches.append((time.perf_counter() - started) / rounds * 1e6)
    return statistics.median(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    environment = scripting.GuardedEnvironment()
    assert costs.is_cheap(CHEAP, "eval", frozenset(scripting.HELPERS))
    assert not costs.is_cheap(IN_WORKER, "eval", frozenset(scripting.HELPERS))
    started = time.perf_counter()
    environment.evaluate(IN_WORKER, DATA)
    print(f"worker start (first call)            {(time.perf_counter() - started) * 1000:8.1f} ms")
    print(f"check_source, cached                  {per_call_us(lambda: scripting.check_source(CHEAP, 'eval'), rounds):8.2f} µs")
    print(f"cheap condition, in-process           {per_call_us(lambda: environment.evaluate(CHEAP, DATA), rounds):8.2f} µs")
    print(f"condition with a generator, worker    {per_call_us(lambda: environment.evaluate(IN_WORKER, DATA), rounds):8.2f} µs")
    print(f"script task with a loop, worker       {per_call_us(lambda: environment.execute(SCRIPT, dict(DATA)), rounds):8.2f} µs")
    print(f"workers started {sandbox.STATS.spawned}, killed {sandbox.STATS.killed}")


if __name__ == "__main__":
    main()
