"""A restricted script engine: every script, condition and expression passes an AST allow-list first.

SpiffWorkflow evaluates with plain ``eval``/``exec`` and full builtins; limiting builtins alone is
escaped through ``().__class__.__base__.__subclasses__()`` (see shared/SPIFFWORKFLOW.md §4). The
allow-list refuses imports, definitions, lambdas, any ``_``-prefixed name or attribute, and calls to
anything but the helpers below; a trace-based deadline bounds execution time.
"""

from __future__ import annotations

import ast
import sys
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from types import FrameType
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from service.errors import ScriptRejected

MAX_RANGE = 10_000
DEFAULT_TIME_LIMIT_S = 1.0

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.Name, ast.Load,
    ast.Store, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp,
    ast.Not, ast.USub, ast.UAdd, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv,
    ast.Mod, ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.IfExp, ast.If, ast.For, ast.Subscript, ast.Slice, ast.Attribute,
    ast.Call, ast.keyword, ast.JoinedStr, ast.FormattedValue, ast.Pass, ast.Break, ast.Continue,
)
# Methods of str/list/dict that cannot reach an object's internals. ``format`` is left out on
# purpose: "{0.__class__}".format(x) reads attributes without an ast.Attribute node.
_ALLOWED_METHODS = frozenset({
    "get", "keys", "values", "items", "append", "extend", "pop", "copy", "count", "index",
    "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "join",
    "replace", "isdigit", "title", "capitalize",
})


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise ValueError(f"range() med fler än {MAX_RANGE} värden är inte tillåtet")
    return result


SAFE_BUILTINS: dict[str, Any] = {
    "len": len, "min": min, "max": max, "sum": sum, "any": any, "all": all, "sorted": sorted,
    "abs": abs, "round": round, "str": str, "int": int, "float": float, "bool": bool,
    "list": list, "dict": dict, "set": set, "tuple": tuple, "enumerate": enumerate, "zip": zip,
    "range": _bounded_range, "isinstance": isinstance, "reversed": reversed,
}


# Domain helpers scripts may call (e.g. working-day arithmetic); engine modules add to this.
HELPERS: dict[str, Callable[..., Any]] = {}


def functions() -> dict[str, Any]:
    """Everything a script may call by name."""
    return {**SAFE_BUILTINS, **HELPERS}


def reserved_names() -> frozenset[str]:
    """Names a form field or data key must not take: they would shadow a helper."""
    return frozenset(functions())


@lru_cache(maxsize=4096)
def check_source(source: str, mode: str) -> None:
    """Refuse ``source`` unless every node is allowed. Raises ScriptRejected (element id unknown)."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptRejected(None, f"syntaxfel på rad {exc.lineno}: {exc.msg}") from None
    for node in ast.walk(tree):
        _check_node(node)


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise ScriptRejected(None, f"otillåten konstruktion: {type(node).__name__}")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ScriptRejected(None, f"otillåtet namn: {node.id}")
    if isinstance(node, ast.Attribute) and node.attr not in _ALLOWED_METHODS:
        raise ScriptRejected(None, f"otillåtet attribut: {node.attr}")
    if isinstance(node, ast.Call) and not _is_allowed_callee(node.func):
        raise ScriptRejected(None, "bara de inbyggda hjälpfunktionerna får anropas")


def _is_allowed_callee(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in SAFE_BUILTINS or func.id in HELPERS
    return isinstance(func, ast.Attribute)


class _Deadline:
    """A trace function that stops Python-level execution once the time limit has passed."""

    def __init__(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds
        self.seconds = seconds

    def __call__(self, frame: FrameType, event: str, arg: object) -> Callable[..., Any]:
        if time.monotonic() > self.until:
            raise TimeoutError(f"skriptet avbröts efter {self.seconds} s")
        return self


def _bounded(run: Callable[[], Any], seconds: float) -> Any:
    previous = sys.gettrace()
    sys.settrace(_Deadline(seconds))
    try:
        return run()
    finally:
        sys.settrace(previous)


class GuardedEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """Task-data environment that checks every expression and script before running it."""

    def __init__(self, time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> None:
        allowed = functions()
        # Also as plain globals: name lookup tries globals before __builtins__, and evaluate() applies
        # these after the task data, so a data key such as ``len`` can never shadow a helper.
        # (execute() refuses such a key outright through check_for_overwrite.)
        super().__init__({"__builtins__": allowed, **allowed})
        self.time_limit_s = time_limit_s

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        check_source(expression, "eval")
        # Helpers are applied after the data so a data key can never shadow or replace them.
        scope = {**(external_context or {}), **context, **self.globals}
        return _bounded(lambda: eval(expression, scope), self.time_limit_s)

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        check_source(script, "exec")
        return bool(_bounded(lambda: super(GuardedEnvironment, self).execute(
            script, context, external_context), self.time_limit_s))


def new_script_engine() -> PythonScriptEngine:
    """The engine every workflow gets, at start and again after every load (it is not serialized)."""
    return PythonScriptEngine(environment=GuardedEnvironment())


def check_all(sources: Iterable[tuple[str, str, str]]) -> None:
    """Check (element_id, source, mode) triples; the first refusal names its element."""
    for element_id, source, mode in sources:
        try:
            check_source(source, mode)
        except ScriptRejected as exc:
            raise ScriptRejected(element_id, exc.detail) from None
