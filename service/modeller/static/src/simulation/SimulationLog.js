// The simulation's log: every element a token reaches, in order, by name (the id when it has none), the flow
// taken at an exclusive gateway, and whether the process has finished. Text only (textContent).
import { is, isAny } from 'bpmn-js/lib/util/ModelUtil';
import { RESET_SIMULATION_EVENT, TOGGLE_MODE_EVENT, SCOPE_CREATE_EVENT, SCOPE_DESTROYED_EVENT, TRACE_EVENT } from 'bpmn-js-token-simulation/lib/util/EventHelper';
import { nameOf, simulationText } from './text.js';

export default function SimulationLog(eventBus, simulationMode, translate) {
  const panel = simulationMode.panel;
  this._list = panel && panel.querySelector('[data-simulation=log]');
  this._state = panel && panel.querySelector('[data-simulation=state]');
  this._panel = panel;
  this._text = simulationText(translate);
  if (!this._list) return;
  eventBus.on([TOGGLE_MODE_EVENT, RESET_SIMULATION_EVENT], () => this.clear());
  // An element is listed when a token reaches it; a joining gateway once, when its tokens go on together.
  eventBus.on(SCOPE_CREATE_EVENT, (event) => {
    const element = event.scope.element;
    if (is(element, 'bpmn:FlowNode') && !isJoin(element)) this.add(element);
  });
  eventBus.on(TRACE_EVENT, (event) => {
    if (event.action === 'exit' && isJoin(event.element)) this.add(event.element);
  });
  eventBus.on('samverkanSimulation.flowTaken', (event) => this.flowTaken(event.element, event.flow));
  eventBus.on(SCOPE_DESTROYED_EVENT, (event) => {
    const { scope } = event;
    if (!scope.parent && scope.completed) this.finished();
  });
}

SimulationLog.$inject = ['eventBus', 'simulationMode', 'translate'];

function isJoin(element) {
  return isAny(element, ['bpmn:ParallelGateway', 'bpmn:InclusiveGateway'])
    && element.incoming.filter((flow) => is(flow, 'bpmn:SequenceFlow')).length > 1;
}

SimulationLog.prototype.clear = function () {
  this._list.replaceChildren();
  this._panel.dataset.state = 'idle';
  if (this._state) this._state.textContent = this._text('Start a token at a start event.');
};

SimulationLog.prototype.add = function (element) {
  const item = document.createElement('li');
  const name = document.createElement('span');
  name.className = 'sim-name';
  name.textContent = nameOf(element);
  item.appendChild(name);
  item.dataset.elementId = element.id;
  item.dataset.type = element.type.replace('bpmn:', '');
  this._list.appendChild(item);
  this._panel.dataset.state = 'running';
  if (this._state) this._state.textContent = '';
  item.scrollIntoView && item.scrollIntoView({ block: 'nearest' });
};

SimulationLog.prototype.flowTaken = function (gateway, flow) {
  const items = this._list.querySelectorAll('li');
  const item = Array.from(items).reverse().find((li) => li.dataset.elementId === gateway.id);
  if (!item || !flow) return;
  const note = document.createElement('span');
  note.className = 'sim-flow';
  const name = flow.businessObject.name && flow.businessObject.name.trim();
  note.textContent = '→ ' + (name || this._text('to {target}', { target: nameOf(flow.target) }));
  item.appendChild(note);
};

SimulationLog.prototype.finished = function () {
  this._panel.dataset.state = 'finished';
  if (this._state) this._state.textContent = this._text('Finished: the token reached the end.');
};
