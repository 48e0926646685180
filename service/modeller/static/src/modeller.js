// Samverkan modeller: bpmn-js Modeler + properties panel + a provider for our spiffworkflow properties.
// Built by esbuild (npm install runs it, see package.json "postinstall") into ../build/modeller.js.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, useService } from 'bpmn-js-properties-panel';
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { h } from '@bpmn-io/properties-panel/preact';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import lintModule from 'bpmn-js-bpmnlint';
import { pageLanguage, translateModule } from './translate.js';
import { lintConfig } from '../../lint/config.js';
import { decisionEntries } from './decision-entry.js';
import SimulationModule from './simulation/index.js';

const FORM = 'formJsonSchemaFilename';

function propertyValue(bo, name) {
  const ext = bo.get('extensionElements');
  const props = ext && ext.get('values').find((v) => is(v, 'spiffworkflow:Properties'));
  const prop = props && props.get('properties').find((p) => p.get('name') === name);
  return prop ? prop.get('value') : '';
}

// Set (or with an empty value remove) one spiffworkflow:property, as one undoable command.
function setProperty(element, bpmnFactory, commandStack, name, value) {
  const bo = element.businessObject;
  const commands = [];
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  let props = ext.get('values').find((v) => is(v, 'spiffworkflow:Properties'));
  if (!props) {
    props = bpmnFactory.create('spiffworkflow:Properties', { properties: [] });
    props.$parent = ext;
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: ext, properties: { values: [...ext.get('values'), props] } } });
  }
  const others = props.get('properties').filter((p) => p.get('name') !== name);
  const list = [...others];
  if (value) {
    const prop = bpmnFactory.create('spiffworkflow:Property', { name, value });
    prop.$parent = props;
    list.push(prop);
  }
  commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: props, properties: { properties: list } } });
  commandStack.execute('properties-panel.multi-command-executor', commands);
}

// Labels are English and go through the translate service (src/translate.js, Swedish in src/sv.js).
function textEntry(name, label, example) {
  return function Entry(props) {
    const { element, id } = props;
    const bpmnFactory = useService('bpmnFactory');
    const commandStack = useService('commandStack');
    const debounce = useService('debounceInput');
    const translate = useService('translate');
    return h(TextFieldEntry, {
      element, id, debounce, label: translate(label), description: translate('e.g. {example}', { example }),
      getValue: () => propertyValue(element.businessObject, name),
      setValue: (value) => setProperty(element, bpmnFactory, commandStack, name, value),
    });
  };
}

// The deployed forms' names, from the page's application/json element (no inline script: see the CSP).
function formNames() {
  return pageJson('modeller-forms');
}

function pageJson(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : [];
}

function FormEntry(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const names = formNames();
  const translate = useService('translate');
  return h(SelectEntry, {
    element, id, label: translate('Form'),
    getValue: () => propertyValue(element.businessObject, FORM),
    setValue: (value) => setProperty(element, bpmnFactory, commandStack, FORM, value),
    getOptions: () => [{ value: '', label: translate('(no form)') }, ...names.map((n) => ({ value: n, label: n }))],
  });
}

function bodyEntry(getTarget, label, example) {
  return function Entry(props) {
    const { element, id } = props;
    const bpmnFactory = useService('bpmnFactory');
    const modeling = useService('modeling');
    const debounce = useService('debounceInput');
    const translate = useService('translate');
    return h(TextFieldEntry, {
      element, id, debounce, label: translate(label), description: translate('e.g. {example}', { example }),
      getValue: () => { const t = getTarget(element, null); return t ? (t.get('body') || '') : ''; },
      setValue: (value) => { getTarget(element, { bpmnFactory, modeling }, value); },
    });
  };
}

// A flow's condition (bpmn:conditionExpression, Python over the case data).
function conditionTarget(element, services, value) {
  const bo = element.businessObject;
  if (!services) return bo.get('conditionExpression');
  const expr = value ? services.bpmnFactory.create('bpmn:FormalExpression', { body: value }) : undefined;
  services.modeling.updateProperties(element, { conditionExpression: expr });
  return expr;
}

const TIMER_KINDS = ['timeDuration', 'timeDate', 'timeCycle'];

function timerDefinition(element) {
  return (element.businessObject.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function TimerEntry(props) {
  const { element, id } = props;
  const bpmnFactory = useService('bpmnFactory');
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const definition = timerDefinition(element);
  const kind = TIMER_KINDS.find((k) => definition.get(k)) || 'timeDuration';
  const translate = useService('translate');
  return h(TextFieldEntry, {
    element, id, debounce, label: translate('Timer ({kind})', { kind }),
    description: translate('Python expression: "P5D" in quotes, or e.g. receiver["due_at"]'),
    getValue: () => { const e = definition.get(kind); return e ? (e.get('body') || '') : ''; },
    setValue: (value) => {
      const expr = value ? bpmnFactory.create('bpmn:FormalExpression', { body: value }) : undefined;
      modeling.updateModdleProperties(element, definition, { [kind]: expr });
    },
  });
}

function SamverkanProvider(propertiesPanel, translate) {
  propertiesPanel.registerProvider(400, this);
  this.translate = translate;
}
SamverkanProvider.$inject = ['propertiesPanel', 'translate'];

SamverkanProvider.prototype.getGroups = function (element) {
  return (groups) => {
    const entries = [];
    if (is(element, 'bpmn:UserTask')) {
      entries.push(
        { id: 'samverkan-form', component: FormEntry, isEdited: isSelectEntryEdited },
        { id: 'samverkan-organisation', component: textEntry('organisation', 'Organisation (expression)', 'receiver["organisation_id"]'), isEdited: isTextFieldEntryEdited },
        { id: 'samverkan-assignee', component: textEntry('assignee', 'Assignee (expression)', 'reporter_id'), isEdited: isTextFieldEntryEdited },
        { id: 'samverkan-dueIn', component: textEntry('dueIn', 'Answer period (ISO duration)', 'P30D'), isEdited: isTextFieldEntryEdited },
        { id: 'samverkan-dueInWorkingDays', component: textEntry('dueInWorkingDays', 'Answer period in working days (expression)', '10'), isEdited: isTextFieldEntryEdited },
        { id: 'samverkan-dueAt', component: textEntry('dueAt', 'Last day (expression, ISO date and time)', 'receiver["due_at"]'), isEdited: isTextFieldEntryEdited },
      );
    }
    entries.push(...decisionEntries(element));
    if (is(element, 'bpmn:Event') && timerDefinition(element)) {
      entries.push({ id: 'samverkan-timer', component: TimerEntry, isEdited: isTextFieldEntryEdited });
    }
    if (is(element, 'bpmn:SequenceFlow')) {
      const source = element.businessObject.get('sourceRef');
      if (source && (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway'))) {
        entries.push({ id: 'samverkan-condition', component: bodyEntry(conditionTarget, 'Condition (Python expression)', 'verdict == "accept"'), isEdited: isTextFieldEntryEdited });
      }
    }
    if (entries.length) {
      groups.splice(1, 0, { id: 'samverkan', label: this.translate('Samverkan'), entries });
    }
    return groups;
  };
};

const SamverkanPropertiesModule = { __init__: ['samverkanProvider'], samverkanProvider: ['type', SamverkanProvider] };

// Live lint (bpmn-js-bpmnlint) with the same rules the server runs at deploy (../../lint/): the role lane
// names and form names come from the page (#modeller-roles, #modeller-forms), as the server has them.
export function createModeller(options) {
  const language = options.language || pageLanguage();
  return new BpmnModeler({
    container: options.container,
    propertiesPanel: { parent: options.panel },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, SamverkanPropertiesModule,
      lintModule, translateModule(language), SimulationModule],
    moddleExtensions: { spiffworkflow: options.descriptor },
    linting: { active: true, bpmnlint: lintConfig({ roles: pageJson('modeller-roles'), forms: formNames(), language }) },
  });
}
