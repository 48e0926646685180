"""Compare two versions of a diagram element by element (by BPMN id): added, removed, changed.

What is compared is what a process owner changes: names, timers, forms, assignments (lane, organisation,
assignee), deadlines, conditions and scripts. Diagram layout (bpmndi) is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from service.engine.specs import NS

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
_ASPECTS = {
    "name": "Namn",
    "type": "Typ",
    "lane": "Simbana (roll)",
    "formJsonSchemaFilename": "Formulär",
    "organisation": "Organisation",
    "assignee": "Tilldelad",
    "dueIn": "Svarstid (varaktighet)",
    "dueInWorkingDays": "Svarstid (arbetsdagar)",
    "dueAt": "Sista dag (uttryck)",
    "timer": "Timer",
    "condition": "Villkor",
    "script": "Skript",
    "default": "Standardflöde",
    "flow": "Flöde",
}


@dataclass(frozen=True)
class Change:
    element_id: str
    kind: str  # ADDED, REMOVED or CHANGED
    name: str
    aspect: str = ""
    before: str = ""
    after: str = ""

    @property
    def aspect_label(self) -> str:
        return _ASPECTS.get(self.aspect, self.aspect)


def compare(old_xml: bytes, new_xml: bytes) -> list[Change]:
    """Differences from ``old_xml`` to ``new_xml``, in the new diagram's document order."""
    old, new = _describe(old_xml), _describe(new_xml)
    changes: list[Change] = []
    for element_id, after in new.items():
        before = old.get(element_id)
        if before is None:
            changes.append(Change(element_id, ADDED, after.get("name", "")))
            continue
        for aspect in sorted(set(before) | set(after), key=list(_ASPECTS).index):
            if before.get(aspect, "") != after.get(aspect, ""):
                changes.append(Change(element_id, CHANGED, after.get("name", ""), aspect,
                                      before.get(aspect, ""), after.get(aspect, "")))
    changes.extend(Change(element_id, REMOVED, before.get("name", "")) for element_id, before in old.items()
                   if element_id not in new)
    return changes


def _describe(xml: bytes) -> dict[str, dict[str, str]]:
    root = etree.fromstring(xml)
    lanes = {ref.text.strip(): lane.get("name", "") for lane in root.iterfind(".//bpmn:lane", NS)
             for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}
    described: dict[str, dict[str, str]] = {}
    for process in root.iterfind("bpmn:process", NS):
        for node in process.iter():
            if not isinstance(node.tag, str) or not node.get("id") or etree.QName(node).namespace != NS["bpmn"]:
                continue
            kind = etree.QName(node).localname
            if kind in {"laneSet", "lane", "documentation"} or kind.endswith("EventDefinition") or kind.endswith("DataItem"):
                continue
            described[node.get("id", "")] = _aspects(node, kind, lanes)
    return described


def _aspects(node: etree._Element, kind: str, lanes: dict[str, str]) -> dict[str, str]:
    aspects = {"type": kind, "name": node.get("name", "")}
    if node.get("id") in lanes:
        aspects["lane"] = lanes[node.get("id", "")]
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name") in _ASPECTS:
            aspects[prop.get("name", "")] = prop.get("value", "")
    timer = node.find("bpmn:timerEventDefinition", NS)
    if timer is not None:
        aspects["timer"] = " ".join(f"{etree.QName(t).localname}: {(t.text or '').strip()}" for t in timer
                                    if isinstance(t.tag, str))
    texts = {"condition": "bpmn:conditionExpression", "script": "bpmn:script"}
    for aspect, path in texts.items():
        text = node.findtext(path, namespaces=NS)
        if text is not None:
            aspects[aspect] = text.strip()
    if node.get("default"):
        aspects["default"] = node.get("default", "")
    if kind == "sequenceFlow":
        aspects["flow"] = f"{node.get('sourceRef')} → {node.get('targetRef')}"
    return aspects
