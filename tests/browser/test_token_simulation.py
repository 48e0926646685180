"""Token simulation in the modeller (issue #22 item 4): a process owner walks a diagram before deploying it. Tokens
start at a start event, wait at user tasks for "Fortsätt", take the flow chosen at a gateway (else its default), go
into subprocesses and end; the log lists the path by element name. The diagram is not changed, an element name is
only ever text, and the English page has English controls."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from service.i18n import LANGUAGE_COOKIE
from service.parties.models import Membership, Role
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.deviations.world import World, deployed, frozen, world  # noqa: F401 (fixtures)

MODELER = "window.samverkanModeler"
XML = f"async () => (await {MODELER}.saveXML({{ format: true }})).xml"
UNDO = f"() => [{MODELER}.get('commandStack')._stack.length, {MODELER}.get('commandStack').canUndo()]"
LOG = "#simulation [data-simulation=log] li .sim-name"

# The walk through the dispute process: at level 1 the parties first raise the question ("Lyft", chosen once), the
# second time the gateway takes its default ("Nej": the escalation end event, caught on the subprocess's border);
# at level 2 the steering group escalates ("Eskalera"), and at the end an instruction is written ("Ja").
PATH = ["Tvist öppnad av en parts chef", "Nivå 1: linjeorganisationen", "level_1_start",
        "Försöka komma överens (linjeorganisationen)", "Sammanställ parternas besked", "Överens?",
        "Försöka komma överens (närmast högre ledningsnivå)", "Sammanställ parternas besked", "Överens?",
        "Inte överens", "Eskalerad", "Nivå 2: avtalets styrgrupp", "level_2_start", "Besluta i tvisten (styrgruppen)",
        "Löst?", "Eskaleras", "Eskalerad", "Bereda tvisten (tjänstemän på länsnivå)", "Besluta i tvisten (länsnivå)",
        "Gemensam instruktion behövs?", "Skriva gemensam instruktion", "Tvisten löst"]

HOSTILE_NAME = '<img src=x onerror="window.simulationInjected=1">'
SHAPES = {"start": (100, 100, 36, 36), "fork": (170, 93, 50, 50), "task": (260, 20, 100, 80), "review": (260, 140, 100, 80),
          "join": (400, 93, 50, 50), "wait": (490, 100, 36, 36), "choose": (570, 93, 50, 50), "yes": (670, 100, 36, 36),
          "no": (670, 182, 36, 36)}
FLOWS = {"f1": ("start", "fork", "", [(136, 118), (170, 118)]),
         "f2": ("fork", "task", "", [(195, 93), (195, 60), (260, 60)]),
         "f3": ("fork", "review", "", [(195, 143), (195, 180), (260, 180)]),
         "f4": ("task", "join", "", [(360, 60), (425, 60), (425, 93)]),
         "f5": ("review", "join", "", [(360, 180), (425, 180), (425, 143)]),
         "f6": ("join", "wait", "", [(450, 118), (490, 118)]),
         "f7": ("wait", "choose", "", [(526, 118), (570, 118)]),
         "f8": ("choose", "yes", "Ja", [(620, 118), (670, 118)]),
         "f9": ("choose", "no", "Nej", [(595, 143), (595, 200), (670, 200)])}
# A parallel split and join, a user task whose name is markup, a timer and a gateway with no default flow.
HOSTILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="x">
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:userTask id="task" name="{escape(HOSTILE_NAME, quote=True)}"/>
    <bpmn:userTask id="review" name="Granska"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:intermediateCatchEvent id="wait" name="En dag senare"><bpmn:timerEventDefinition/></bpmn:intermediateCatchEvent>
    <bpmn:exclusiveGateway id="choose" name="Godkänt?"/>
    <bpmn:endEvent id="yes" name="Godkänt"/>
    <bpmn:endEvent id="no" name="Avslaget"/>
    {"".join(f'<bpmn:sequenceFlow id="{i}" name="{n}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b, n, _) in FLOWS.items())}
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dd"><bpmndi:BPMNPlane id="p" bpmnElement="hostile">
    {"".join(f'<bpmndi:BPMNShape id="{i}_di" bpmnElement="{i}"><dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/>'
             '</bpmndi:BPMNShape>' for i, (x, y, w, h) in SHAPES.items())}
    {"".join(f'<bpmndi:BPMNEdge id="{i}_di" bpmnElement="{i}">' + "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
             + '</bpmndi:BPMNEdge>' for i, (_, _, _, points) in FLOWS.items())}
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _csp_violations(page: Any) -> list[str]:
    """What Chromium reports as blocked by the page's Content-Security-Policy (an inline handler, say)."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return violations


def _owner(w: World) -> None:
    w.user("handlaggare").memberships.append(Membership(organisation_id=w.alingsas.id, role=Role.PROCESS_OWNER))
    w.db.session.commit()


def _open(page: Any, live_server: str, process: str = "dispute") -> None:
    page.goto(f"{live_server}/processer/modell?process={process}")
    page.wait_for_selector("body[data-modeller-ready=true]")


def _control(page: Any, kind: str, element_id: str) -> Any:
    return page.locator(f".sim-control.sim-{kind}[data-element-id={element_id}]")


def _choice(page: Any, gateway_id: str, flow_id: str) -> Any:
    return page.locator(f".sim-choices[data-element-id={gateway_id}] .sim-choice[data-flow-id={flow_id}]")


def _continue(page: Any, element_id: str) -> None:
    _control(page, "continue", element_id).click()


def _viewport_screenshot(page: Any, name: str) -> None:
    """The workspace as a 1400x900 window shows it: the Simulera button at the top, then canvas and panel."""
    page.evaluate("() => document.getElementById('deploy').scrollIntoView()")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _workspace_screenshot(page: Any) -> None:
    """docs/screenshots/modeller.png: a user task selected, the Swedish properties panel open on it."""
    page.evaluate(f"() => {MODELER}.get('selection').select({MODELER}.get('elementRegistry').get('line_position'))")
    page.locator(".bio-properties-panel-group-header", has_text="Samverkan").click()
    page.locator("#bio-properties-panel-samverkan-form").wait_for()
    _viewport_screenshot(page, "modeller")
    page.evaluate(f"() => {MODELER}.get('selection').select(null)")


def test_a_token_walks_the_dispute_process_and_leaves_the_diagram_as_it_was(live_server: str, page: Any,
                                                                               world: World) -> None:  # noqa: F811
    _owner(world)
    violations = _csp_violations(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "handlaggare")
    _open(page, live_server)
    before, undo = page.evaluate(XML), page.evaluate(UNDO)
    _workspace_screenshot(page)
    page.evaluate(f"() => {MODELER}.get('animation').setAnimationSpeed(4)")

    page.click("#simulate")
    assert page.locator("#simulate").get_attribute("aria-pressed") == "true"
    assert page.locator("#simulation").is_visible() and page.locator("#properties").is_hidden()
    assert page.locator(".djs-palette").is_hidden()
    _control(page, "start", "opened").click()
    # While the token waits at the first task, choose "Lyft" for the gateway after it.
    raise_ = _choice(page, "line_result", "f_line_raise")
    raise_.click()
    assert raise_.get_attribute("aria-pressed") == "true"
    _continue(page, "line_position")
    _continue(page, "higher_position")
    page.locator(LOG, has_text="Inte överens").wait_for()
    _choice(page, "steering_result", "f_steering_escalate").click()
    _continue(page, "steering_decision")
    _continue(page, "county_preparation")
    # The screenshot: the token slowed down on its way to the last gateway.
    page.evaluate(f"""() => {MODELER}.get('eventBus').on('tokenSimulation.animationCreated', (event) => {{
        if (event.animation.element.id === 'f_county_decided') {MODELER}.get('animation').setAnimationSpeed(0.3);
    }})""")
    _continue(page, "county_decision")
    page.wait_for_timeout(1200)
    assert page.locator(".bts-token").count() == 1
    _viewport_screenshot(page, "modeller-simulation")
    page.evaluate(f"() => {MODELER}.get('animation').setAnimationSpeed(4)")
    _choice(page, "instruction_needed", "f_instruction").click()
    _continue(page, "write_instruction")
    page.wait_for_selector("#simulation[data-state=finished]")

    assert page.locator(LOG).all_inner_texts() == PATH
    assert page.locator("#simulation [data-simulation=state]").inner_text() == "Klart: token nådde slutet."
    flows = page.locator("#simulation [data-simulation=log] li .sim-flow").all_inner_texts()
    assert flows == ["→ Lyft", "→ Nej", "→ Eskalera", "→ Ja"]

    page.click("#simulation [data-simulation=reset]")
    assert page.locator(LOG).count() == 0
    page.click("#simulate")
    assert page.locator("#simulation").is_hidden() and page.locator("#properties").is_visible()
    assert page.evaluate(XML) == before
    assert page.evaluate(UNDO) == undo
    assert violations == [] and page.js_errors == []


def test_a_task_name_with_markup_is_text_and_the_english_page_is_english(live_server: str, page: Any, world: World,  # noqa: F811
                                                                          tmp_path: Path) -> None:
    _owner(world)
    violations = _csp_violations(page)
    sign_in(page, live_server, "handlaggare")
    page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "en", "url": live_server}])
    _open(page, live_server)
    path = tmp_path / "hostile.bpmn"
    path.write_text(HOSTILE, encoding="utf-8")
    page.set_input_files("#upload", str(path))
    page.wait_for_function(f"() => {MODELER}.get('elementRegistry').get('task')")

    page.click("#simulate")
    assert page.locator("#simulate").inner_text() == "Simulate"
    assert page.locator("#simulation h2").inner_text() == "Simulation"
    assert page.locator("#simulation [data-simulation=reset]").inner_text() == "Reset"
    start = _control(page, "start", "start")
    assert start.inner_text() == "Start"
    start.click()
    hostile = _control(page, "continue", "task")
    assert hostile.inner_text() == "Continue"
    hostile.click()
    _continue(page, "review")  # the join waits for both branches
    timer = _control(page, "trigger", "wait")
    assert timer.inner_text() == "Trigger"
    timer.click()
    waiting = page.locator(".sim-choices.sim-choices-waiting[data-element-id=choose]")
    waiting.wait_for()
    assert waiting.locator("button").all_inner_texts() == ["Ja", "Nej"]  # no default: the token waits for a choice
    waiting.locator("button", has_text="Ja").click()
    page.wait_for_selector("#simulation[data-state=finished]")

    logged = page.locator(LOG).all_inner_texts()
    assert logged[:2] == ["start", "fork"] and sorted(logged[2:4]) == sorted([HOSTILE_NAME, "Granska"])
    assert logged[4:] == ["join", "En dag senare", "Godkänt?", "Godkänt"]
    assert page.locator("#simulation [data-simulation=state]").inner_text() == "Finished: the token reached the end."
    assert page.locator("#simulation img, .djs-overlays img").count() == 0
    assert page.evaluate("() => window.simulationInjected") is None
    assert violations == [] and page.js_errors == []
