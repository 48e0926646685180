"""The modeller's lint (bpmnlint with our rules, service/modeller/lint/) run on the server, so that the
browser and the deploy never disagree: one node process per diagram, on the bundle npm builds."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from service.engine.validation import Problem
from service.errors import BpmnError
from service.parties.models import role_lane_names

BUNDLE = Path(__file__).resolve().parent.parent / "modeller" / "static" / "build" / "lint-node.js"
TIMEOUT_SECONDS = 30
_CACHE: dict[str, list[Finding]] = {}  # by input digest: the test suite deploys the same files again and again
_CACHE_SIZE = 256


@dataclass(frozen=True)
class Finding:
    """One lint report: ``category`` is "error" (refuses the deploy) or "warn" (shown only)."""

    element_id: str | None
    rule: str
    category: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.category not in ("warn", "info", "off")


@dataclass(frozen=True)
class LintProblem(Problem):
    """A lint error as one of the diagram's problems, naming the rule that found it."""

    rule: str = ""


class LintUnavailable(BpmnError):
    """The lint cannot run here (no Node.js, or the bundle was not built): nothing is deployed unchecked."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


def lint(xml: bytes, forms: Iterable[str]) -> list[Finding]:
    """Every lint finding of ``xml``, with the server's role lane names and the known ``forms``."""
    payload = json.dumps({"xml": xml.decode("utf-8", errors="replace"), "roles": role_lane_names(),
                          "forms": sorted(set(forms))})
    key = hashlib.sha256(payload.encode()).hexdigest()
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = _run(payload)
    return list(_CACHE[key])


def _run(payload: str) -> list[Finding]:
    node = shutil.which("node")
    if node is None:
        raise LintUnavailable("Diagrammet kan inte granskas: granskningen (bpmnlint) kräver Node.js, som inte "
                              "finns på servern. Installera Node.js (se README).")
    if not BUNDLE.is_file():
        raise LintUnavailable("Diagrammet kan inte granskas: granskningen är inte byggd (kör npm install).")
    try:
        done = subprocess.run([node, str(BUNDLE)], input=payload, capture_output=True, text=True,
                              timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise LintUnavailable(f"Granskningen av diagrammet tog mer än {TIMEOUT_SECONDS} sekunder.") from None
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise LintUnavailable(f"Granskningen av diagrammet misslyckades: {done.stderr.strip()[:300]}") from None
    if "error" in result:
        # The XML did not read as BPMN: the server's own checks name that problem.
        return []
    return [Finding(f.get("element_id"), f["rule"], f["category"], f["message"]) for f in result["findings"]]


def lint_problems(xml: bytes, forms: Iterable[str]) -> list[LintProblem]:
    """The lint's errors as problems of the diagram, naming the rule (warnings do not stop a deploy)."""
    return [LintProblem(f.element_id, f"{f.message} (regel {f.rule})", f.rule) for f in lint(xml, forms) if f.is_error]


def lint_warnings(xml: bytes, forms: Iterable[str]) -> list[Finding]:
    """The lint's warnings: shown by the modeller, returned by the API and printed by ``samverkan deploy``, never
    refusing a deploy."""
    return [finding for finding in lint(xml, forms) if not finding.is_error]


def merge(problems: list[Problem], lint_found: list[LintProblem]) -> list[Problem]:
    """One list: a server check that says word for word what a lint rule says gives way to the rule."""
    said = {(p.element_id, p.message.removesuffix(f" (regel {p.rule})")) for p in lint_found}
    return [*lint_found, *(p for p in problems if (p.element_id, p.message) not in said)]


def refuse_lint_errors(xml: bytes, forms: Iterable[str]) -> None:
    """Refuse a diagram with a lint error, naming the element and the rule."""
    for problem in lint_problems(xml, forms):
        raise BpmnError(problem.element_id, problem.message)
