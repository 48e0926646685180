// A timer's time is a Python expression: a quoted ISO 8601 text of the timer's kind, or an expression over
// the case data (that one the server's sandbox check reads). The shapes follow validation.py's _timer_message.
import { is } from 'bpmnlint-utils';
import { ownMessage, timerKindName } from '../messages.js';

const KINDS = ['timeDuration', 'timeDate', 'timeCycle'];
const DURATION = /^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const ISO_NAME = /^(P|PT|R)\d/;

function isValid(kind, value) {
  if (kind === 'timeDuration') return DURATION.test(value);
  if (kind === 'timeDate') return DATE.test(value);
  const parts = value.split('/');  // R<n>/<start or duration>/<duration or end>
  return /^R\d*$/.test(parts[0]) && parts.length >= 2 && parts.slice(1).every((p) => DURATION.test(p) || DATE.test(p));
}

function problem(kind, source, language) {
  const quoted = /^(['"])(.*)\1$/s.exec(source);
  if (quoted) {
    const value = quoted[2];
    return isValid(kind, value) ? null : ownMessage(language, 'invalidValue', { value, kind: timerKindName(language, kind) });
  }
  if (/^[A-Za-z_]\w*$/.test(source) && ISO_NAME.test(source)) return ownMessage(language, 'nameNotTime', { source });
  if (/^\d{4}-\d/.test(source) || /^(P|R)\d.*[^\w]/.test(source)) return ownMessage(language, 'unparsable', { source });
  return null;  // an expression over the case data
}

export default function timerExpression(config) {
  const language = config && config.language;
  function check(node, reporter) {
    if (!is(node, 'bpmn:TimerEventDefinition')) return;
    const event = node.$parent;
    const kind = KINDS.find((k) => node[k]);
    const source = kind ? (node[kind].body || '').trim() : '';
    const message = source ? problem(kind, source, language) : ownMessage(language, 'noTime');
    if (message) reporter.report(event.id, message);
  }
  return { check };
}
