"""Every audit action recorded anywhere in service/ has a label in both languages; none is shown by its code."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from flask import Flask

from service.agreements.models import DecisionStage
from service.audit.labels import ACTION_LABELS, action_label
from service.audit.retention import _RULES
from tests.crawl.untranslated import looks_swedish

SERVICE = Path(__file__).resolve().parents[2] / "service"
RECORDERS = {"record", "_record"}  # audit.record and the deviation module's wrapper around it
# The actions built at run time, by the expression that builds them.
DYNAMIC = {
    "'agreement.decision_' + stage": {f"agreement.decision_{stage}" for stage in DecisionStage},
    "f'{decision.case_type}.disposed'": {f"{case_type}.disposed" for case_type in _RULES},
}


def recorded_actions() -> set[str]:
    """The second argument of every record()/_record() call in service/, constants and conditionals resolved."""
    actions: set[str] = set()
    for path in SERVICE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                     for target in node.targets if isinstance(target, ast.Name)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            name = getattr(call.func, "attr", getattr(call.func, "id", None))
            if name in RECORDERS and len(call.args) >= 2:
                actions |= _resolve(call.args[1], constants, f"{path}:{call.lineno}")
    return actions


def _resolve(node: ast.expr, constants: dict[str, str], where: str) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _resolve(node.body, constants, where) | _resolve(node.orelse, constants, where)
    if isinstance(node, ast.Name) and node.id in constants:
        return {constants[node.id]}
    if isinstance(node, ast.Name) and node.id == "action":  # a wrapper passing its parameter on
        return set()
    source = ast.unparse(node)
    assert source in DYNAMIC, f"{where}: an action built by {source}: add its values to DYNAMIC and a label"
    return DYNAMIC[source]


def test_every_recorded_action_has_a_label() -> None:
    actions = recorded_actions()
    assert len(actions) > 60  # the scan finds the calls (a broken scan would find none and pass)
    assert {"agreement.decision_final", "deviation.disposed", "agreement.expiry_notice_sent", "user.disabled",
            "deviation.reminded"} <= actions
    assert sorted(actions - set(ACTION_LABELS)) == []


def test_every_label_is_translated(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = {action: action_label(action) for action in ACTION_LABELS}
    with app.test_request_context(headers={"Accept-Language": "sv"}):
        swedish = {action: action_label(action) for action in ACTION_LABELS}
    assert [a for a in ACTION_LABELS if english[a] == swedish[a] or looks_swedish(english[a])] == []


def test_an_unknown_action_is_a_generic_event_and_is_logged(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}), caplog.at_level(logging.WARNING):
        assert action_label("agreement.something_new") == "Event"
    assert "agreement.something_new" in caplog.text
