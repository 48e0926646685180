// The Simulera toggle: while it is on, editing is paused (bpmn-js-token-simulation's disableModeling refuses
// modelling commands; the palette, context pad and properties panel are hidden by the `simulating` class) and
// user tasks wait for the user's "Fortsätt". Nothing here runs a command, so the diagram and its undo stack
// stay as they were. The toggle and the panel (log, Nollställ) are in the page: config `simulation.toggle`
// and `simulation.panel` (selectors, #simulate and #simulation by default).
import { is, isAny } from 'bpmn-js/lib/util/ModelUtil';
import { RESET_SIMULATION_EVENT, TOGGLE_MODE_EVENT } from 'bpmn-js-token-simulation/lib/util/EventHelper';

const WAITING_TASKS = ['bpmn:UserTask', 'bpmn:ManualTask'];

export default function SimulationMode(config, eventBus, canvas, elementRegistry, simulator, selection, contextPad) {
  const settings = { toggle: '#simulate', panel: '#simulation', ...(config || {}) };
  this._eventBus = eventBus;
  this._canvas = canvas;
  this._elementRegistry = elementRegistry;
  this._simulator = simulator;
  this._selection = selection;
  this._contextPad = contextPad;
  this._active = false;
  this.button = document.querySelector(settings.toggle);
  this.panel = document.querySelector(settings.panel);
  if (this.button) this.button.addEventListener('click', () => this.toggle());
  const reset = this.panel && this.panel.querySelector('[data-simulation=reset]');
  if (reset) reset.addEventListener('click', () => this.reset());
  // A diagram opened while simulating ends the simulation (its tokens were on the old diagram's elements).
  eventBus.on('import.done', () => { if (this._active) this.toggle(false); });
}

SimulationMode.$inject = ['config.simulation', 'eventBus', 'canvas', 'elementRegistry', 'simulator', 'selection',
  'contextPad'];

SimulationMode.prototype.isActive = function () {
  return this._active;
};

SimulationMode.prototype.toggle = function (active = !this._active) {
  this._active = active;
  if (active) {
    this._selection.select(null);
    this._contextPad.close();
    this._elementRegistry.filter((element) => isAny(element, WAITING_TASKS))
      .forEach((element) => this._simulator.waitAtElement(element, true));
    // An inclusive gateway sends a token down each of its flows (the simulation knows no case data).
    this._elementRegistry.filter((element) => is(element, 'bpmn:InclusiveGateway')).forEach((gateway) => {
      const flows = gateway.outgoing.filter((flow) => is(flow, 'bpmn:SequenceFlow'));
      this._simulator.setConfig(gateway, { activeOutgoing: flows });
    });
  }
  this._canvas.getContainer().classList.toggle('simulating', active);
  if (this.button) this.button.setAttribute('aria-pressed', String(active));
  if (this.panel) this.panel.hidden = !active;
  this._eventBus.fire(TOGGLE_MODE_EVENT, { active });
};

// Nollställ: every token removed, the log emptied, the start events ready again.
SimulationMode.prototype.reset = function () {
  if (this._active) this._eventBus.fire(RESET_SIMULATION_EVENT);
};

export function isWaitingTask(element) {
  return WAITING_TASKS.some((type) => is(element, type));
}
