"""Decision tables (DMN) in the browser: the list, and a table in dmn-js's editor (read-only for auditors)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from lxml import etree
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service import access
from service.engine import decisions
from service.errors import BpmnError, SamverkanError, ValidationFailed
from service.extensions import db
from service.i18n import flash_message, translate
from service.messages import Message
from service.modeller import operations as ops
from service.modeller.models import EditedDecision
from service.modeller.views import _owners_only, _readers_only, bp
from service.parties.models import User
from service.processes.definitions import list_processes
from service.transactions import commit_with_retry

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class DecisionTable:
    """One DMN file as the list shows it: its decision, where it comes from and who uses it."""

    filename: str
    decision_id: str
    name: str
    problem: str  # why the file cannot be read ("" when it can)
    saved_by: str | None  # edited in the browser: by whom and when; None: the file beside the diagrams
    saved_at: datetime | None
    processes: list[str]


def decision_choices() -> dict[str, dict[str, str]]:
    """Decision id -> its name and its page, for a business-rule task's choice in the modeller's panel."""
    found, _ = decisions.index(ops.available_decisions())
    return {decision_id: {"name": found[decision_id].name,
                          "url": url_for("modeller.decision_table", name=found[decision_id].filename)}
            for decision_id in sorted(found)}


def _tables() -> list[DecisionTable]:
    edited = {row.name: row for row in db.session.scalars(select(EditedDecision))}
    ids = {row.saved_by_id for row in edited.values() if row.saved_by_id}
    people = {user.id: user.display_name for user in db.session.scalars(select(User).where(User.id.in_(ids)))}
    processes = list_processes()
    found, broken = decisions.index(ops.available_decisions())
    by_file = {decision.filename: decision for decision in found.values()}
    tables = []
    for filename in sorted({*by_file, *broken}):
        decision = by_file.get(filename)
        decision_id, name = (decision.decision_id, decision.name) if decision else ("", "")
        problem = broken.get(filename, "")
        row = edited.get(filename)
        tables.append(DecisionTable(filename, decision_id, name, problem,
                                    people.get(row.saved_by_id, "") if row and row.saved_by_id else None,
                                    row.saved_at if row else None,
                                    [p.name for p in processes if filename in (p.decisions or {})]))
    return tables


@bp.get("/beslut/")
@_readers_only
def decision_tables() -> str:
    """List the decision tables: file, decision, edited or from the file, and the processes that use each."""
    return render_template("modeller/decisions.html", tables=_tables(),
                           can_edit=access.can_manage_definitions(current_user))


DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
_XML_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
_NEW_FIELDS = ("name", "decision_id", "title", "input", "output")
REFUSED_NEW = "Beslutstabellen skapades inte. Inget har sparats."
# A new table's elements, by id, and the field that gives each its content (the decision: its id).
_NEW_ELEMENTS = {"indata": "input", "indata_uttryck": "input", "regel_1_indata": "input",
                 "utdata": "output", "regel_1_utdata": "output"}


@bp.post("/beslut/ny")
@_owners_only
def new_decision_table() -> BaseResponse | tuple[str, int]:
    """Start a new decision table (one input column, one output column, one rule) and open it in the editor."""
    values = {field: request.form.get(field, "").strip() for field in _NEW_FIELDS}
    try:
        xml = _new_table(values)
        commit_with_retry(lambda: ops.save_decision(values["name"], xml, by=current_user))
    except SamverkanError as exc:
        fields = dict(getattr(exc, "fields", {}))
        if isinstance(exc, BpmnError):  # the check names an element of the new table: show it at its field
            fields.setdefault(_NEW_ELEMENTS.get(exc.element_id or "", "decision_id"), [exc.detail])
        return render_template("modeller/decisions.html", tables=_tables(), can_edit=True, values=values,
                               error=exc, fields=fields), exc.status
    flash_message("Beslutstabellen %(name)s är skapad. Fyll i reglerna och spara.", name=values["name"])
    return redirect(url_for("modeller.decision_table", name=values["name"]), 303)


def _new_table(values: dict[str, str]) -> bytes:
    """A new table's DMN, written by lxml (the user's texts are attribute and element text, never markup)."""
    errors: dict[str, list[Any]] = {}
    if values["name"] in ops.available_decisions():
        errors["name"] = [Message("Det finns redan en beslutstabell med filnamnet %(name)s.", name=values["name"])]
    elif not decisions.FILE_NAME.match(values["name"]):
        errors["name"] = [Message("Små bokstäver, siffror, punkt, bindestreck och _, slutar på .dmn.")]
    if not _XML_ID.match(values["decision_id"]):
        errors["decision_id"] = [Message("Börjar med en bokstav eller _, därefter bokstäver, siffror, _, - eller punkt.")]
    for field in ("title", "input", "output"):
        if not values[field] or len(values[field]) > 200:
            errors[field] = [Message("Fyll i fältet (högst 200 tecken).")]
    if errors:
        raise ValidationFailed(REFUSED_NEW, errors)
    dmn = f"{{{DMN_NS}}}"
    root = etree.Element(dmn + "definitions", nsmap={None: DMN_NS},
                         id=f"{values['decision_id']}_definitioner", name=values["title"],
                         namespace="https://samverkan.se/dmn")
    decision = etree.SubElement(root, dmn + "decision", id=values["decision_id"], name=values["title"])
    table = etree.SubElement(decision, dmn + "decisionTable", id=f"{values['decision_id']}_tabell", hitPolicy="FIRST")
    column = etree.SubElement(table, dmn + "input", id="indata", label=values["input"])
    expression = etree.SubElement(column, dmn + "inputExpression", id="indata_uttryck", typeRef="string")
    etree.SubElement(expression, dmn + "text").text = values["input"]
    etree.SubElement(table, dmn + "output", id="utdata", label=values["output"], name=values["output"], typeRef="string")
    rule = etree.SubElement(table, dmn + "rule", id="regel_1")
    etree.SubElement(etree.SubElement(rule, dmn + "inputEntry", id="regel_1_indata"), dmn + "text").text = "-"
    etree.SubElement(etree.SubElement(rule, dmn + "outputEntry", id="regel_1_utdata"), dmn + "text").text = "None"
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml


@bp.get("/beslut/<name>")
@_readers_only
def decision_table(name: str) -> str:
    """Open a decision table in the editor (process owners) or the viewer (auditors)."""
    xml = ops.available_decisions().get(name)
    if xml is None:
        abort(404)
    row = db.session.scalar(select(EditedDecision).where(EditedDecision.name == name))
    author = db.session.get(User, row.saved_by_id) if row and row.saved_by_id else None
    return render_template("modeller/decision.html", name=name, xml=xml, row=row,
                           saved_by=author.display_name if author else None,
                           can_edit=access.can_manage_definitions(current_user))


@bp.post("/beslut/<name>")
@_owners_only
def save_decision(name: str) -> tuple[Response, int]:
    """Save an edited decision table; refused naming the rule or column, nothing stored."""
    if name not in ops.available_decisions():
        abort(404)
    payload = request.get_json(silent=True) or {}
    xml = str(payload.get("xml") or "").encode("utf-8") if isinstance(payload, dict) else b""
    try:
        if not xml:
            raise ValidationFailed("Beslutstabellen saknas.", {"xml": ["Skicka beslutstabellens XML."]})
        row = commit_with_retry(lambda: ops.save_decision(name, xml, by=current_user))
    except SamverkanError as exc:
        return jsonify(_refusal(exc, xml)), exc.status
    return jsonify({"name": row.name, "saved_at": row.saved_at.isoformat(),
                    "message": gettext("Beslutstabellen är sparad. Den följer med nästa version som driftsätts "
                                       "av varje process som använder den.")}), 200


def _refusal(error: SamverkanError, xml: bytes) -> dict[str, Any]:
    """The refusal's message and its problems, each naming the rule or column as people see it."""
    problems: list[dict[str, str]] = []
    if isinstance(error, BpmnError):
        element_id = error.element_id or ""
        problems.append({"element_id": element_id, "element_label": element_labels(xml).get(element_id, element_id),
                         "message": error.detail})
    for messages in getattr(error, "fields", {}).values():
        problems.extend({"element_id": "", "element_label": "", "message": translate(m)} for m in messages)
    return {"message": translate(error.message), "problems": problems}


def element_labels(xml: bytes) -> dict[str, str]:
    """How a refusal names a DMN element, by id: "Regel 3, Kategori (id)" for a cell, "Regel 3 (id)" for a rule,
    "Rubrik (id)" for a column, "Namn (id)" for a decision."""
    try:
        root = etree.fromstring(xml, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return {}
    labels: dict[str, str] = {}
    for decision in root.iter("{*}decision"):
        columns = {"inputEntry": [_title(c) for c in decision.iter("{*}input")],
                   "outputEntry": [_title(c) for c in decision.iter("{*}output")]}
        for node in [decision, *decision.iter("{*}input"), *decision.iter("{*}output")]:
            _label(labels, node, _title(node))
        for number, rule in enumerate(decision.iter("{*}rule"), start=1):
            _label(labels, rule, gettext("Regel %(number)s", number=number))
            for kind, titles in columns.items():
                for index, cell in enumerate(rule.findall(f"{{*}}{kind}")):
                    title = titles[index] if index < len(titles) else ""
                    _label(labels, cell, gettext("Regel %(number)s", number=number) + (f", {title}" if title else ""))
    return labels


def _title(node: etree._Element) -> str:
    return " ".join((node.get("label") or node.get("name") or "").split())


def _label(labels: dict[str, str], node: etree._Element, title: str) -> None:
    element_id = node.get("id")
    if element_id:
        labels[element_id] = f"{title} ({element_id})" if title else element_id
