// A user task goes to the role its lane names (service/parties/models.py role_for_lane); the names come
// from the server, passed as this rule's configuration ({ roles: [...lowercase names], language }).
import { is } from 'bpmnlint-utils';
import { laneName } from './helpers.js';
import { ownMessage } from '../messages.js';

export default function userTaskLaneRole(config) {
  const roles = new Set((config && config.roles) || []);
  const language = config && config.language;
  function check(node, reporter) {
    if (!is(node, 'bpmn:UserTask')) return;
    const lane = laneName(node);
    if (!lane || !roles.has(lane.trim().toLowerCase())) {
      // Written as Python's repr, like the server's message: 'name', or None for no lane.
      reporter.report(node.id, ownMessage(language, 'noRoleLane', { lane: lane === null ? 'None' : `'${lane}'` }));
    }
  }
  return { check };
}
