"""Edit BPMN XML the way the modeller's properties panel does (tests only)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from service.engine.specs import NS, SPIFF_NS

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]


def element(root: etree._Element, element_id: str) -> etree._Element:
    found = root.xpath(f"//*[@id='{element_id}']")
    assert found, element_id
    return found[0]


def set_property(root: etree._Element, element_id: str, name: str, value: str | None) -> None:
    """Set (or with None remove) a spiffworkflow:property of an element."""
    node = element(root, element_id)
    extensions = node.find("bpmn:extensionElements", NS)
    if extensions is None:
        extensions = etree.Element(f"{{{NS['bpmn']}}}extensionElements")
        node.insert(0, extensions)
    properties = extensions.find("spiffworkflow:properties", NS)
    if properties is None:
        properties = etree.SubElement(extensions, f"{{{SPIFF_NS}}}properties")
    for existing in properties.findall(f"spiffworkflow:property[@name='{name}']", NS):
        properties.remove(existing)
    if value is not None:
        etree.SubElement(properties, f"{{{SPIFF_NS}}}property", name=name, value=value)


def camunda_ready() -> etree._Element:
    """The Camunda Modeler export with a form, a role lane and an assignment set."""
    root = etree.fromstring((FIXTURES / "camunda_request.bpmn").read_bytes())
    element(root, "Lane_0c9gq1p").set("name", "Handläggare")
    set_property(root, "Activity_1qa6h3r", "formJsonSchemaFilename", "request-review.schema.json")
    set_property(root, "Activity_1qa6h3r", "organisation", "organisation_id")
    set_property(root, "Activity_1qa6h3r", "dueInWorkingDays", "5")
    return root


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
