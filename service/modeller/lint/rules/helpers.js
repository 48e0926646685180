// Shared by our rules: spiffworkflow properties and the lane a flow node is in (as SpiffWorkflow reads it).
import { is } from 'bpmnlint-utils';

export function property(node, name) {
  const values = (node.extensionElements && node.extensionElements.values) || [];
  const props = values.find((v) => is(v, 'spiffworkflow:Properties'));
  const found = props && (props.properties || []).find((p) => p.name === name);
  return found ? (found.value || '').trim() : '';
}

function lanesOf(container) {
  const found = [];
  const visit = (laneSets) => (laneSets || []).forEach((set) => (set.lanes || []).forEach((lane) => {
    found.push(lane);
    if (lane.childLaneSet) visit([lane.childLaneSet]);
  }));
  visit(container.laneSets);
  return found;
}

// The innermost lane naming the node or an enclosing subprocess (a subprocess's tasks have its lane); lanes
// belong to a process or to a subprocess (its own laneSets).
export function laneName(node) {
  for (let current = node; current && current.$parent; current = current.$parent) {
    for (let container = current.$parent; container; container = container.$parent) {
      const lanes = lanesOf(container).filter((lane) => (lane.flowNodeRef || []).includes(current));
      if (lanes.length) return lanes[lanes.length - 1].name || null;
      if (is(container, 'bpmn:Process')) break;
    }
  }
  return null;
}
