"""A restricted script engine: every script, condition and expression passes an AST allow-list first.

SpiffWorkflow evaluates with plain ``eval``/``exec`` and full builtins; limiting builtins alone is
escaped through ``().__class__.__base__.__subclasses__()`` (see shared/SPIFFWORKFLOW.md §4). The
allow-list refuses imports, definitions, lambdas, any ``_``-prefixed name or attribute, and calls to
anything but the helpers below; ``del`` may remove a name or an item of the task data, never an
attribute. What the allow-list lets through runs in this process only when its cost is provably linear
in the data (``costs.is_cheap``: most conditions); anything else runs in a worker process with hard CPU,
memory and wall-clock limits (``sandbox``), which also stop one long C-level operation.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from functools import lru_cache
from types import CodeType
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from service import clock
from service.engine import costs, sandbox
from service.errors import ScriptRejected

MAX_RANGE = 10_000
# Wall-clock seconds a script or expression may run in the worker (SAMVERKAN_SCRIPT_TIME_LIMIT_SECONDS).
DEFAULT_TIME_LIMIT_S = 1.0

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.Name, ast.Load,
    ast.Store, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp,
    ast.Not, ast.USub, ast.UAdd, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv,
    ast.Mod, ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.IfExp, ast.If, ast.For, ast.Subscript, ast.Slice, ast.Attribute,
    ast.Call, ast.keyword, ast.JoinedStr, ast.FormattedValue, ast.Pass, ast.Break, ast.Continue,
    ast.Delete, ast.Del,
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


MAX_SOURCE_CHARS = 100_000


@lru_cache(maxsize=4096)
def check_source(source: str, mode: str) -> CodeType:
    """Refuse ``source`` unless every node is allowed; return it compiled. Raises ScriptRejected (element id unknown)."""
    if len(source) > MAX_SOURCE_CHARS:
        raise ScriptRejected(None, f"uttrycket är för långt ({len(source)} tecken, högst {MAX_SOURCE_CHARS})")
    try:
        tree: ast.Module | ast.Expression = ast.parse(source, mode=mode)  # type: ignore[assignment]
        for node in ast.walk(tree):
            _check_node(node)
        return compile(tree, "<string>", mode)
    except SyntaxError as exc:
        raise ScriptRejected(None, f"syntaxfel på rad {exc.lineno}: {exc.msg}") from None
    except (RecursionError, MemoryError):  # nesting deep enough to exhaust the parser or the compiler
        raise ScriptRejected(None, "uttrycket är för djupt nästlat") from None


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise ScriptRejected(None, f"otillåten konstruktion: {type(node).__name__}")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ScriptRejected(None, f"otillåtet namn: {node.id}")
    if isinstance(node, ast.Attribute) and node.attr not in _ALLOWED_METHODS:
        raise ScriptRejected(None, f"otillåtet attribut: {node.attr}")
    if isinstance(node, ast.Call) and not _is_allowed_callee(node.func):
        raise ScriptRejected(None, "bara de inbyggda hjälpfunktionerna får anropas")
    if isinstance(node, ast.Delete):
        _check_deletion(node.targets)


def _check_deletion(targets: list[ast.expr]) -> None:
    """``del x`` and ``del x["k"]`` change only the task data the script runs on (a helper's name deleted
    is only the script's own copy: the next lookup finds the helper again); deleting an attribute could
    change a shared object, so it stays refused."""
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            _check_deletion(target.elts)
        elif not isinstance(target, ast.Name | ast.Subscript):
            raise ScriptRejected(None, f"otillåten borttagning: del av {type(target).__name__}")


def _is_allowed_callee(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in SAFE_BUILTINS or func.id in HELPERS
    return isinstance(func, ast.Attribute)


class GuardedEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """Task-data environment that checks every expression and script before running it, and runs what is
    not provably cheap (``costs.is_cheap``) in a worker process under hard CPU, memory and time limits."""

    def __init__(self, time_limit_s: float | None = None) -> None:
        allowed = functions()
        # Also as plain globals: name lookup tries globals before __builtins__, and evaluate() applies
        # these after the task data, so a data key such as ``len`` can never shadow a helper.
        # (execute() refuses such a key outright through check_for_overwrite.)
        super().__init__({"__builtins__": allowed, **allowed})
        self.time_limit_s = time_limit_s or DEFAULT_TIME_LIMIT_S

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        code = check_source(expression, "eval")
        if costs.is_cheap(expression, "eval", frozenset(HELPERS)):
            # Helpers are applied after the data so a data key can never shadow or replace them.
            return eval(code, {**(external_context or {}), **context, **self.globals})
        return self._in_worker("eval", expression, context, external_context)[0]

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        code = check_source(script, "exec")
        if costs.is_cheap(script, "exec", frozenset(HELPERS)):
            return bool(super().execute(code, context, external_context))
        self.check_for_overwrite(context, external_context or {})
        try:
            _, changed = self._in_worker("exec", script, context, external_context)
        except _PartialRun as partial:  # as TaskDataEnvironment: what ran before the error stays in the data
            _replace(context, partial.context)
            raise partial.error from None
        _replace(context, changed or {})
        return True

    def _in_worker(self, mode: str, source: str, context: dict[str, Any],
                   external_context: dict[str, Any] | None) -> tuple[Any, dict[str, Any] | None]:
        request = {"mode": mode, "source": source, "context": dict(context), "external": dict(external_context or {}),
                   "now": clock.now(), "time_limit_s": self.time_limit_s}
        status, value, changed = sandbox.run(request, self.time_limit_s)
        if status == "error":
            if changed is not None:
                raise _PartialRun(value, changed)
            raise value
        return value, changed


class _PartialRun(Exception):
    def __init__(self, error: BaseException, context: dict[str, Any]) -> None:
        super().__init__(str(error))
        self.error, self.context = error, context


def _replace(context: dict[str, Any], changed: dict[str, Any]) -> None:
    context.clear()
    context.update(changed)


def run_request(request: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """In the worker: what GuardedEnvironment would do in-process, for one request from ``_in_worker``."""
    code = check_source(request["source"], request["mode"])
    allowed = functions()
    environment = TaskDataEnvironment({"__builtins__": allowed, **allowed})
    context, external = request["context"], request["external"]
    with clock.pinned(request["now"]):
        if request["mode"] == "eval":
            return eval(code, {**external, **context, **environment.globals}), None
        request["partial_context"] = context  # sent back with an error: TaskDataEnvironment keeps partial work
        environment.execute(code, context, external)
        return True, context


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
