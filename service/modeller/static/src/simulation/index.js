// Token simulation in the modeller (#22 item 4): bpmn-js-token-simulation's engine (its simulator, token
// animation and disable-modeling) with our own controls, log and exclusive-gateway choice. The package's own UI
// modules are not loaded: they are English only and build their markup from strings with element names in them.
import SimulatorModule from 'bpmn-js-token-simulation/lib/simulator';
import AnimationModule from 'bpmn-js-token-simulation/lib/animation';
import DisableModelingModule from 'bpmn-js-token-simulation/lib/features/disable-modeling';
import ChoiceGatewayBehavior from './ChoiceGatewayBehavior.js';
import SimulationMode from './SimulationMode.js';
import SimulationControls from './SimulationControls.js';
import SimulationLog from './SimulationLog.js';

export default {
  __depends__: [SimulatorModule, AnimationModule, DisableModelingModule],
  __init__: ['simulationMode', 'simulationControls', 'simulationLog'],
  exclusiveGatewayBehavior: ['type', ChoiceGatewayBehavior],
  simulationMode: ['type', SimulationMode],
  simulationControls: ['type', SimulationControls],
  simulationLog: ['type', SimulationLog],
};
