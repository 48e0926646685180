// An exclusive gateway in the simulation: the token takes the flow the user chose for this gateway (a choice is
// used once), else the gateway's default flow, else it waits until the user chooses (SimulationControls).
// Replaces bpmn-js-token-simulation's exclusiveGatewayBehavior, which lets a token without a chosen flow vanish.
import { is } from 'bpmn-js/lib/util/ModelUtil';

export const CHOOSE = 'samverkan-choose';

export function outgoingFlows(gateway) {
  return gateway.outgoing.filter((flow) => is(flow, 'bpmn:SequenceFlow'));
}

export function defaultFlow(gateway) {
  const target = gateway.businessObject.get('default');
  return target ? outgoingFlows(gateway).find((flow) => flow.businessObject === target) || null : null;
}

export default function ChoiceGatewayBehavior(simulator, eventBus) {
  this._simulator = simulator;
  this._eventBus = eventBus;
  simulator.registerBehavior('bpmn:ExclusiveGateway', this);
}

ChoiceGatewayBehavior.$inject = ['simulator', 'eventBus'];

ChoiceGatewayBehavior.prototype.chosenFlow = function (gateway) {
  const flows = outgoingFlows(gateway);
  const { choice } = this._simulator.getConfig(gateway);
  return (flows.length === 1 && flows[0]) || flows.find((flow) => flow.id === choice) || defaultFlow(gateway);
};

ChoiceGatewayBehavior.prototype.enter = function (context) {
  const { element, scope } = context;
  if (this.chosenFlow(element)) {
    this._simulator.exit(context);
    return;
  }
  const event = { element, type: CHOOSE, interrupting: false, boundary: false };
  const subscription = this._simulator.subscribe(scope, event, (initiator) => {
    subscription.remove();
    return this._simulator.signal({ scope, element, initiator });
  });
};

ChoiceGatewayBehavior.prototype.signal = function (context) {
  this._simulator.exit(context);
};

ChoiceGatewayBehavior.prototype.exit = function (context) {
  const { element, scope } = context;
  const flow = this.chosenFlow(element);
  this._simulator.setConfig(element, { choice: null });
  this._eventBus.fire('samverkanSimulation.flowTaken', { element, flow });
  this._simulator.enter({ element: flow, scope: scope.parent });
};
