// A user task's form (formJsonSchemaFilename) is one of the forms the server knows ({ forms: [...] }).
import { is } from 'bpmnlint-utils';
import { property } from './helpers.js';
import { ownMessage } from '../messages.js';

export default function formExists(config) {
  const forms = new Set((config && config.forms) || []);
  const language = config && config.language;
  function check(node, reporter) {
    if (!is(node, 'bpmn:UserTask')) return;
    const form = property(node, 'formJsonSchemaFilename');
    if (!form) reporter.report(node.id, ownMessage(language, 'noForm'));
    else if (!forms.has(form)) reporter.report(node.id, ownMessage(language, 'unknownForm', { form }));
  }
  return { check };
}
