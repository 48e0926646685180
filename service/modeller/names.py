"""Element names for messages: people know a task as "Kvittera avvikelsen", not as ``acknowledge``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# No entities, no network, no huge trees: the XML is the user's upload.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def element_names(xml: bytes | str) -> dict[str, str]:
    """The name of every BPMN element that has one, by id ({} when the XML does not parse)."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return {}
    names: dict[str, str] = {}
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        element_id, name = node.get("id"), " ".join((node.get("name") or "").split())
        if element_id and name:
            names[element_id] = name
    return names


def element_label(element_id: str | None, names: Mapping[str, str]) -> str:
    """"Namn (id)" for a named element, the id alone for one without a name, "" for the whole file."""
    if not element_id:
        return ""
    name = names.get(element_id)
    return f"{name} ({element_id})" if name else element_id


def with_names(problems: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Problems (element_id, message) with the element's name and its label for the page."""
    return [{**problem, "element_name": names.get(problem.get("element_id") or "", ""),
             "element_label": element_label(problem.get("element_id"), names)} for problem in problems]
