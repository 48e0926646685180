// The properties panel's "Decision table" choice for a business-rule task: the spiffworkflow:calledDecisionId
// extension SpiffWorkflow reads, chosen among the decision tables the server knows (#modeller-decisions:
// decision id -> {name, url}), with a link that opens the chosen table in the decision-table editor.
import { SelectEntry, isSelectEntryEdited } from '@bpmn-io/properties-panel';
import { h } from '@bpmn-io/properties-panel/preact';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';

const CALLED = 'spiffworkflow:CalledDecisionId';

function choices() {
  const element = document.getElementById('modeller-decisions');
  return element ? JSON.parse(element.textContent) : {};
}

function calledDecision(bo) {
  const ext = bo.get('extensionElements');
  const node = ext && ext.get('values').find((v) => is(v, CALLED));
  return node ? (node.get('value') || '').trim() : '';
}

// Set (or with an empty value remove) the called decision, as one undoable command.
function setCalledDecision(element, bpmnFactory, commandStack, value) {
  const bo = element.businessObject;
  const commands = [];
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  const values = ext.get('values').filter((v) => !is(v, CALLED));
  if (value) {
    const node = bpmnFactory.create(CALLED, { value });
    node.$parent = ext;
    values.push(node);
  }
  commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: ext, properties: { values } } });
  commandStack.execute('properties-panel.multi-command-executor', commands);
}

function DecisionEntry(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const translate = useService('translate');
  const known = choices();
  return h(SelectEntry, {
    element, id, label: translate('Decision table'),
    getValue: () => calledDecision(element.businessObject),
    setValue: (value) => setCalledDecision(element, bpmnFactory, commandStack, value),
    getOptions: () => {
      const current = calledDecision(element.businessObject);
      const options = Object.entries(known).map(([value, d]) => ({ value, label: `${d.name || value} (${value})` }));
      if (current && !known[current]) options.push({ value: current, label: translate('{id} (unknown)', { id: current }) });
      return [{ value: '', label: translate('(no decision table)') }, ...options];
    },
  });
}

function DecisionLink(props) {
  const { element } = props;
  const translate = useService('translate');
  const chosen = choices()[calledDecision(element.businessObject)];
  if (!chosen) return null;
  return h('div', { class: 'bio-properties-panel-entry' },
    h('a', { href: chosen.url, target: '_blank', rel: 'noopener', id: 'samverkan-open-decision' }, translate('Open the decision table')));
}

export function decisionEntries(element) {
  if (!is(element, 'bpmn:BusinessRuleTask')) return [];
  return [
    { id: 'samverkan-decision', component: DecisionEntry, isEdited: isSelectEntryEdited },
    { id: 'samverkan-decision-link', component: DecisionLink },
  ];
}
