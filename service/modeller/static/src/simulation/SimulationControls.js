// The controls on the canvas while simulating: "Starta" at a start event, "Fortsätt" at a task where a token
// waits, "Utlös" at a timer, message or boundary event that can fire, and one button per outgoing flow at an
// exclusive gateway (choose the flow the next token takes; a token that waits there takes it at once). Each
// control is built with createElement and textContent: element names are user-written text, never markup.
import { is, isAny } from 'bpmn-js/lib/util/ModelUtil';
import { RESET_SIMULATION_EVENT, TOGGLE_MODE_EVENT, ELEMENT_CHANGED_EVENT } from 'bpmn-js-token-simulation/lib/util/EventHelper';
import { CHOOSE, defaultFlow, outgoingFlows } from './ChoiceGatewayBehavior.js';
import { nameOf, simulationText } from './text.js';

const OVERLAY = 'samverkan-simulation';
const ROOTS = ['bpmn:Process', 'bpmn:Participant', 'bpmn:Collaboration'];

export default function SimulationControls(eventBus, overlays, elementRegistry, canvas, simulator, simulationMode,
  translate) {
  this._overlays = overlays;
  this._elementRegistry = elementRegistry;
  this._canvas = canvas;
  this._simulator = simulator;
  this._mode = simulationMode;
  this._text = simulationText(translate);
  eventBus.on(ELEMENT_CHANGED_EVENT, (event) => this.update(event.element));
  eventBus.on([TOGGLE_MODE_EVENT, RESET_SIMULATION_EVENT], () => {
    this.forgetChoices();
    this.updateAll();
  });
  // Clicking a start event (or a waiting task or event) does what its control does.
  eventBus.on('element.click', (event) => {
    if (!this._mode.isActive() || isChoice(event.element)) return;
    const subscription = this.subscriptions(event.element)[0];
    if (subscription) this.fire(subscription);
  });
}

SimulationControls.$inject = ['eventBus', 'overlays', 'elementRegistry', 'canvas', 'simulator', 'simulationMode',
  'translate'];

function isChoice(element) {
  return is(element, 'bpmn:ExclusiveGateway') && outgoingFlows(element).length > 1;
}

SimulationControls.prototype.updateAll = function () {
  this._elementRegistry.forEach((element) => this.update(element));
};

SimulationControls.prototype.forgetChoices = function () {
  this._elementRegistry.filter(isChoice).forEach((gateway) => this._simulator.setConfig(gateway, { choice: null }));
};

SimulationControls.prototype.subscriptions = function (element) {
  return this._simulator.findSubscriptions({ element });
};

SimulationControls.prototype.fire = function (subscription) {
  this._simulator.trigger({ event: subscription.event, scope: subscription.scope });
};

SimulationControls.prototype.update = function (element) {
  if (!element || !element.id || element.waypoints || isAny(element, ROOTS) || !this._elementRegistry.get(element.id)) return;
  this._overlays.remove({ element: element.id, type: OVERLAY });
  ['sim-token', 'sim-waiting'].forEach((marker) => this._canvas.removeMarker(element, marker));
  if (!this._mode.isActive()) return;
  const subscriptions = this.subscriptions(element);
  if (this._simulator.findScopes({ element }).length) this._canvas.addMarker(element, 'sim-token');
  if (isChoice(element)) {
    this.addChoices(element, subscriptions.filter((s) => s.event.type === CHOOSE));
  } else if (subscriptions.length) {
    this.addButton(element, subscriptions);
  }
  if (subscriptions.length && !is(element, 'bpmn:StartEvent')) this._canvas.addMarker(element, 'sim-waiting');
};

SimulationControls.prototype.addButton = function (element, subscriptions) {
  const text = this._text;
  const [label, title] = is(element, 'bpmn:StartEvent')
    ? ['Start', 'Start a token at this start event']
    : is(element, 'bpmn:Activity') && !is(element, 'bpmn:ReceiveTask')
      ? ['Continue', 'Complete the task and move the token on']
      : ['Trigger', 'Trigger the event (the timer has run out or the message has come)'];
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'sim-control sim-' + label.toLowerCase();
  button.textContent = text(label);
  button.title = text(title) + ': ' + nameOf(element);
  button.dataset.elementId = element.id;
  button.addEventListener('click', () => {
    const current = this.subscriptions(element);
    const first = current.find((s) => s.event.type !== 'none') || current[0];
    if (first) this.fire(first);
  });
  const position = is(element, 'bpmn:Activity') ? { bottom: 6, right: 4 } : { top: -30, left: -8 };
  this._overlays.add(element, OVERLAY, { position, html: button });
};

SimulationControls.prototype.addChoices = function (gateway, waiting) {
  const text = this._text;
  const { choice } = this._simulator.getConfig(gateway);
  const fallback = defaultFlow(gateway);
  const box = document.createElement('div');
  box.className = 'sim-choices' + (waiting.length ? ' sim-choices-waiting' : '');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', text('Choose the flow the next token takes at this gateway') + ': ' + nameOf(gateway));
  box.dataset.elementId = gateway.id;
  outgoingFlows(gateway).forEach((flow) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sim-choice';
    const name = flow.businessObject.name && flow.businessObject.name.trim();
    button.textContent = (name || text('to {target}', { target: nameOf(flow.target) }))
      + (flow === fallback ? ' ' + text('(default)') : '');
    button.dataset.flowId = flow.id;
    button.setAttribute('aria-pressed', String(choice === flow.id));
    button.addEventListener('click', () => this.choose(gateway, flow));
    box.appendChild(button);
  });
  this._overlays.add(gateway, OVERLAY, { position: { top: -4, left: 56 }, html: box });
};

SimulationControls.prototype.choose = function (gateway, flow) {
  this._simulator.setConfig(gateway, { choice: flow.id });
  const waiting = this.subscriptions(gateway).find((s) => s.event.type === CHOOSE);
  if (waiting) this.fire(waiting);
};
