"""Messages and the heat map name BPMN elements as people know them: "Pröva begäran (Activity_1qa6h3r)",
the id alone only for an element without a name."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from service.modeller.heatmap import ElementFigures, by_waiting_time
from service.modeller.names import element_label, element_names
from service.processes.operations import complete_task
from service.transactions import commit_with_retry
from tests.conftest import csrf_token, login
from tests.modeller.edit import camunda_ready, element, set_property, to_bytes
from tests.modeller.test_modeller import PROCESS, TASK, _deploy, _start, owner  # noqa: F401 (fixture)


def test_label_is_name_and_id_or_the_id_alone() -> None:
    root = camunda_ready()
    del element(root, "Event_0l7y3vd").attrib["name"]
    names = element_names(to_bytes(root))
    assert element_label(TASK, names) == "Pröva begäran (Activity_1qa6h3r)"
    assert element_label("Event_0l7y3vd", names) == "Event_0l7y3vd" and element_label(None, names) == ""
    assert element_names(b"<not xml") == {}


def test_validation_and_a_refused_deploy_name_the_element(client: FlaskClient, owner: Any) -> None:  # noqa: F811
    login(client, "owner")
    root = camunda_ready()
    set_property(root, TASK, "formJsonSchemaFilename", None)
    token = csrf_token(client.get("/processer/modell").get_data(as_text=True))
    body = {"xml": to_bytes(root).decode(), "filename": "request.bpmn", "comment": "x"}
    for url in ("/processer/modell/validera", "/processer/modell/driftsatt"):
        problems = client.post(url, json=body, headers={"X-CSRFToken": token}).json["problems"]
        assert problems and problems[0]["element_id"] == TASK, url
        assert problems[0]["element_name"] == "Pröva begäran", url
        assert problems[0]["element_label"] == "Pröva begäran (Activity_1qa6h3r)", url


def test_heat_map_names_the_elements(client: FlaskClient, owner: Any) -> None:  # noqa: F811
    row = _deploy(to_bytes(camunda_ready()), owner)
    instance = _start(owner)
    commit_with_retry(lambda: complete_task(instance.tasks[0].id, {"approved": True}, by=owner))
    login(client, "owner")
    html = client.get(f"/processer/{PROCESS}/versioner/{row.version}/varmekarta").get_data(as_text=True)
    table = html.split('<table id="figures">', 1)[1].split("</table>", 1)[0]
    assert "Pröva begäran (<code>Activity_1qa6h3r</code>)" in table
    assert "Begäran inkommen (<code>StartEvent_1</code>)" in table and "Beviljas? (<code>Gateway_0r8w2ke</code>)" in table
    figures = html.split('id="figures-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(figures)[TASK]["label"] == "Pröva begäran (Activity_1qa6h3r)"


def test_the_heat_map_lists_the_slowest_elements_first() -> None:
    found = {"start": ElementFigures(passed=9), "answer": ElementFigures(9, 1, 30.0, 70.0),
             "acknowledge": ElementFigures(9, 4, 2.5, 8.0), "review": ElementFigures(3, 0, 30.0, 31.0),
             "gateway": ElementFigures(passed=12)}
    assert list(by_waiting_time(found)) == ["answer", "review", "acknowledge", "gateway", "start"]
