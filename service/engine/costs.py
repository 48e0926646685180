"""Which expressions and scripts are provably cheap enough to run in the service process.

A round trip to the sandbox worker costs far more than a typical gateway condition (bench/script_sandbox.py),
so what cannot take long runs in-process: no loops or comprehensions, no operator that can multiply the
size of its input (``*`` by anything but a small constant, ``**``, ``%`` formatting, format specs), and calls
only to functions whose cost is linear in their (size-limited) input. Each node then runs once, so the work
is bounded by the number of nodes times the size of the task data. Everything else goes to the worker.
"""

from __future__ import annotations

import ast
from functools import lru_cache

# Linear in their input. Not sum (``sum(lists, [])`` is quadratic), sorted, join, replace or split.
_CHEAP_FUNCTIONS = frozenset({
    "len", "str", "int", "float", "bool", "abs", "round", "min", "max", "isinstance", "any", "all",
    "list", "dict", "set", "tuple", "range",
})
_CHEAP_METHODS = frozenset({
    "get", "keys", "values", "items", "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith",
    "isdigit", "title", "capitalize", "count", "index", "copy",
})
_LOOPS = (ast.For, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension)
# ``x * 100`` at most multiplies the data's size by a hundred; ``x * n`` with ``n`` from the data is unbounded.
_MAX_FACTOR = 100
_MAX_NODES = 2_000


@lru_cache(maxsize=4096)
def is_cheap(source: str, mode: str, helpers: frozenset[str] = frozenset()) -> bool:
    """Whether ``source`` (already through the allow-list) may run in-process. ``helpers``: the registered
    domain helpers, trusted to bound their own work (e.g. ``working_days`` refuses a huge count)."""
    nodes = list(ast.walk(ast.parse(source, mode=mode)))
    return (len(nodes) <= _MAX_NODES and all(_is_cheap_node(node, helpers) for node in nodes)
            and sum(_is_replication(node) for node in nodes) <= 1 and not _reads_own_results(nodes))


def _is_replication(node: ast.AST) -> bool:
    """``x * 3``: a sequence times an integer is copied; twice in one source would multiply the factors."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return not (_is_float(node.left) or _is_float(node.right))
    return isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Mult) and not _is_float(node.value)


def _reads_own_results(nodes: list[ast.AST]) -> bool:
    """A script that reads a variable it assigned can double its data once per line (``a = a + a``):
    in-process, every value must be computed from the task data and constants only."""
    if any(isinstance(n, ast.Subscript | ast.Attribute) and isinstance(n.ctx, ast.Store) for n in nodes):
        return True  # ``a["k"] = str(a)``: the same doubling through the data itself
    assigned = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    assigned |= {n.target.id for n in nodes if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in assigned for n in nodes)


def _is_float(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is float


def _is_cheap_node(node: ast.AST, helpers: frozenset[str]) -> bool:
    if isinstance(node, _LOOPS):
        return False
    if isinstance(node, ast.BinOp | ast.AugAssign):
        right = node.right if isinstance(node, ast.BinOp) else node.value
        left = node.left if isinstance(node, ast.BinOp) else None
        return _is_cheap_operator(node.op, left, right)
    if isinstance(node, ast.FormattedValue):
        return node.format_spec is None
    if isinstance(node, ast.Call):
        return _is_cheap_call(node, helpers)
    return True


def _is_cheap_operator(op: ast.operator, left: ast.expr | None, right: ast.expr) -> bool:
    if isinstance(op, ast.Mult):
        return _is_small_number(right) or (left is not None and _is_small_number(left))
    if isinstance(op, ast.Pow):
        return _is_small_number(right) and _number(right) <= 3
    return not isinstance(op, ast.Mod)  # ``fmt % args``: a format from the data can ask for any width


def _is_cheap_call(node: ast.Call, helpers: frozenset[str]) -> bool:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr in _CHEAP_METHODS
    if not isinstance(func, ast.Name):
        return False
    if func.id == "round" and len(node.args) > 1:  # round(5, -10**9) computes 10**(10**9)
        return _is_small_number(node.args[1])
    return func.id in _CHEAP_FUNCTIONS or func.id in helpers


def _is_small_number(node: ast.expr | None) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return (isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool)
            and abs(node.value) <= _MAX_FACTOR)


def _number(node: ast.expr) -> float:
    if isinstance(node, ast.UnaryOp):
        return -_number(node.operand) if isinstance(node.op, ast.USub) else _number(node.operand)
    assert isinstance(node, ast.Constant) and isinstance(node.value, int | float)
    return float(node.value)
