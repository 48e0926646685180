// A user task names who gets it: an organisation or an assignee (expressions over the case data).
import { is } from 'bpmnlint-utils';
import { property } from './helpers.js';
import { ownMessage } from '../messages.js';

export default function userTaskAssignment(config) {
  function check(node, reporter) {
    if (is(node, 'bpmn:UserTask') && !property(node, 'organisation') && !property(node, 'assignee')) {
      reporter.report(node.id, ownMessage(config && config.language, 'noAssignment'));
    }
  }
  return { check };
}
