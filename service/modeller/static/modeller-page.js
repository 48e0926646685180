// The modeller page: load the diagram, save a draft, validate and deploy, show problems on the elements.
(function () {
  const config = JSON.parse(document.getElementById('modeller-config').textContent);
  const statusLine = document.getElementById('status');
  const problemList = document.getElementById('problems');
  let modeler;
  let overlayIds = [];
  let filename = (config.processId || 'diagram') + '.bpmn';

  function say(text) { statusLine.textContent = text; }

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrf },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => ({})) };
  }

  // SpiffWorkflow reads loopDataInputRef/loopDataOutputRef as variable names; bpmn-moddle takes them for
  // references to elements, drops the unresolved ones on import. Keep them from the file and put them back.
  const BPMN = 'http://www.omg.org/spec/BPMN/20100524/MODEL';
  let loopRefs = {};

  function rememberLoopRefs(xml) {
    loopRefs = {};
    const doc = new DOMParser().parseFromString(xml, 'application/xml');
    Array.from(doc.getElementsByTagNameNS(BPMN, 'multiInstanceLoopCharacteristics')).forEach((mi) => {
      const refs = {};
      ['loopDataInputRef', 'loopDataOutputRef'].forEach((name) => {
        const node = mi.getElementsByTagNameNS(BPMN, name)[0];
        if (node && node.parentNode === mi) refs[name] = node.textContent.trim();
      });
      if (mi.parentNode.getAttribute('id')) loopRefs[mi.parentNode.getAttribute('id')] = refs;
    });
  }

  function restoreLoopRefs(xml) {
    const doc = new DOMParser().parseFromString(xml, 'application/xml');
    Array.from(doc.getElementsByTagNameNS(BPMN, 'multiInstanceLoopCharacteristics')).forEach((mi) => {
      const refs = loopRefs[mi.parentNode.getAttribute('id')] || {};
      ['loopDataOutputRef', 'loopDataInputRef'].forEach((name) => {
        if (!refs[name] || Array.from(mi.children).some((c) => c.localName === name)) return;
        const node = doc.createElementNS(BPMN, mi.prefix ? mi.prefix + ':' + name : name);
        node.textContent = refs[name];
        const after = Array.from(mi.children).find((c) => c.localName !== 'loopCardinality');
        mi.insertBefore(node, after || null);
      });
    });
    return new XMLSerializer().serializeToString(doc);
  }

  async function currentXml() { return restoreLoopRefs((await modeler.saveXML({ format: true })).xml); }

  // One problem list: the live lint's findings (bpmn-js-bpmnlint, on every change) and the server's check
  // (debounced after a change, and at deploy). The server runs the same lint; its lint findings give way to
  // the browser's own where both name the element and the rule.
  let serverProblems = [];
  let lintProblems = [];

  function clearProblems() {
    const overlays = modeler.get('overlays');
    const canvas = modeler.get('canvas');
    overlayIds.forEach((id) => overlays.remove(id));
    overlayIds = [];
    modeler.get('elementRegistry').forEach((el) => canvas.removeMarker(el.id, 'has-problem'));
    problemList.replaceChildren();
  }

  function showProblems(problems) {
    serverProblems = problems;
    renderProblems();
  }

  function showLint(issues) {
    lintProblems = [];
    Object.values(issues).forEach((list) => list.forEach((issue) => lintProblems.push({
      element_id: issue.actualElementId || issue.id, message: issue.message, rule: issue.rule,
      level: issue.category === 'error' ? 'error' : 'warning',
    })));
    renderProblems();
  }

  function renderProblems() {
    clearProblems();
    const linted = new Set(lintProblems.map((p) => p.element_id + ' ' + p.rule));
    const fromServer = serverProblems.filter((p) => !p.rule || !linted.has(p.element_id + ' ' + p.rule));
    const errorsFirst = [...lintProblems.filter((p) => p.level === 'error'), ...fromServer,
      ...lintProblems.filter((p) => p.level !== 'error')];
    errorsFirst.forEach(showProblem);
  }

  function showProblem(p) {
    const registry = modeler.get('elementRegistry');
    const translate = modeler.get('translate');
    const item = document.createElement('li');
    const label = p.element_label || labelOf(p.element_id);
    const message = p.rule ? translate(p.message) : p.message;
    const text = (label ? label + ': ' : '') + message;
    item.dataset.elementId = p.element_id || '';
    if (p.rule) {
      item.dataset.rule = p.rule;
      item.className = 'lint-' + (p.level || 'error');
    }
    problemList.appendChild(item);
    const element = p.element_id && registry.get(p.element_id);
    if (!element) {
      item.textContent = text;
      return;
    }
    // A problem on an element is a button: it opens the element's level of the diagram and selects it.
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link';
    button.textContent = text;
    button.addEventListener('click', () => selectElement(element));
    item.appendChild(button);
    if (p.level === 'warning') return;  // a warning has the lint's own marker only
    const canvas = modeler.get('canvas');
    canvas.addMarker(element.id, 'has-problem');
    const html = document.createElement('div');
    html.className = 'problem-overlay';
    html.dataset.elementId = element.id;
    html.setAttribute('role', 'note');
    html.textContent = message;
    overlayIds.push(modeler.get('overlays').add(element.id, 'problem', { position: { bottom: -4, left: 0 }, html }));
  }

  function selectElement(element) {
    const canvas = modeler.get('canvas');
    let root = element;
    while (root.parent) root = root.parent;  // the element's plane (a collapsed subprocess has its own)
    if (canvas.getRootElement() !== root) canvas.setRootElement(root);
    modeler.get('selection').select(element);
    canvas.scrollToElement(element);
    canvas.focus && canvas.focus();
  }

  // "Namn (id)" for a named element, the id alone otherwise (people know a task by its name).
  function labelOf(id, element) {
    if (!id) return '';
    const shape = modeler && modeler.get('elementRegistry').get(id);
    const name = (element && element.name) || (shape && shape.businessObject && shape.businessObject.name) || '';
    return name ? `${name.trim()} (${id})` : id;
  }

  // The element a warning is about: bpmn-moddle names the object holding the reference, which may be an
  // unnamed part (loop characteristics) of a task; the nearest ancestor with an id is what people recognise.
  function warnedElement(w) {
    let element = w.element || (w.context && w.context.element);
    while (element && !element.id && element.$parent) element = element.$parent;
    return element && element.id ? element : null;
  }

  function warningText(w) {
    const message = w.message || String(w.error || w);
    const unresolved = /^unresolved reference <(.+)>$/.exec(message);
    return unresolved ? `hänvisar till ${unresolved[1]}, som inte finns i diagrammet` : message;
  }

  // SpiffWorkflow names a multi-instance's collection by its data variable, which bpmn-moddle reports as an
  // unresolved reference; rememberLoopRefs keeps it and currentXml writes it back: no problem to show.
  function isKeptLoopRef(w) {
    const unresolved = /^unresolved reference <(.+)>$/.exec(w.message || '');
    const element = warnedElement(w);
    return Boolean(unresolved && element && Object.values(loopRefs[element.id] || {}).includes(unresolved[1]));
  }

  function showWarnings(all) {
    const section = document.getElementById('import-warnings');
    const list = document.getElementById('warnings');
    const warnings = all.filter((w) => !isKeptLoopRef(w));
    list.replaceChildren();
    warnings.forEach((w) => {
      const item = document.createElement('li');
      const element = warnedElement(w);
      const label = element ? labelOf(element.id, element) : '';
      item.textContent = (label ? label + ': ' : '') + warningText(w);
      item.dataset.elementId = element ? element.id : '';
      list.appendChild(item);
    });
    section.hidden = warnings.length === 0;
    return warnings;
  }

  async function check() {
    const result = await post(config.validate, { xml: await currentXml(), filename });
    showProblems(result.body.problems || []);
    return result.body.problems || [];
  }

  async function validate() {
    const problems = await check();
    say(problems.length ? `${problems.length} problem hittades.` : 'Inga problem: diagrammet kan driftsättas.');
    return problems;
  }

  // The server's check (expressions in the sandbox, forms, reachability) a moment after the last change.
  let checkTimer = null;
  function checkSoon() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(() => { check().catch(() => {}); }, 800);
  }

  async function deploy() {
    const comment = document.getElementById('comment').value;
    const result = await post(config.deploy, { xml: await currentXml(), filename, comment });
    if (result.status === 201 || result.status === 200) {
      showProblems([]);
      const link = document.createElement('a');
      link.href = result.body.versions_url;
      link.textContent = 'Visa versionerna';
      say(result.status === 201 ? `Version ${result.body.version} är driftsatt. ` : `Ingen ändring: version ${result.body.version} gäller. `);
      statusLine.appendChild(link);
    } else {
      showProblems(result.body.problems || []);
      say('Driftsättningen vägrades: ' + (result.body.message || result.status));
    }
  }

  async function saveDraft() {
    const result = await post(config.draft, { xml: await currentXml(), base_version: config.baseVersion });
    say(result.status === 200 ? 'Utkastet är sparat.' : 'Utkastet sparades inte: ' + (result.body.message || result.status));
  }

  async function download() {
    const blob = new Blob([await currentXml()], { type: 'application/xml' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    link.click();
  }

  async function upload(event) {
    const file = event.target.files[0];
    if (!file) return;
    filename = file.name;
    await open(await file.text());
  }

  const EMPTY = '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="Process_1" isExecutable="true"><bpmn:startEvent id="StartEvent_1"/></bpmn:process><bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1"><bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>';

  async function open(xml) {
    try {
      rememberLoopRefs(xml || EMPTY);
      const result = await modeler.importXML(xml || EMPTY);
      modeler.get('canvas').zoom('fit-viewport');
      const warnings = showWarnings(result.warnings);
      say(warnings.length ? `Diagrammet öppnades med ${warnings.length} varningar (se listan nedan).` : 'Diagrammet är öppnat.');
      document.body.dataset.modellerReady = 'true';
    } catch (error) {
      say('Diagrammet kunde inte öppnas: ' + error.message);
    }
  }

  async function start() {
    const descriptor = await (await fetch(config.descriptor)).json();
    modeler = SamverkanModeller.createModeller({ container: '#canvas', panel: '#properties', descriptor });
    window.samverkanModeler = modeler;
    modeler.on('linting.completed', (event) => showLint(event.issues));
    modeler.on('commandStack.changed', checkSoon);
    document.getElementById('validate').addEventListener('click', validate);
    document.getElementById('deploy').addEventListener('click', deploy);
    document.getElementById('save-draft').addEventListener('click', saveDraft);
    document.getElementById('download').addEventListener('click', download);
    document.getElementById('upload').addEventListener('change', upload);
    await open(JSON.parse(document.getElementById('initial-xml').textContent));
  }

  start();
})();
