// The decision-table page: open the DMN file in dmn-js (editor or viewer), one button per decision table of the
// file, and Spara: post the XML, list a refusal's problems and mark the rule or column they name.
(function () {
  const config = JSON.parse(document.getElementById('decision-config').textContent);
  const statusLine = document.getElementById('decision-status');
  const problemList = document.getElementById('decision-problems');
  const editor = SamverkanDecisions.createDecisionEditor({ container: '#decision-editor', readOnly: config.readOnly });
  window.samverkanDecisions = editor;

  function say(text) { statusLine.textContent = text; }

  function showViews() {
    const nav = document.getElementById('decision-views');
    const views = editor.getViews().filter((view) => view.type === 'decisionTable');
    nav.replaceChildren();
    if (views.length < 2) return;  // one table: nothing to choose
    views.forEach((view) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = view.name || view.element.id;
      button.setAttribute('aria-pressed', String(view === editor.getActiveView()));
      button.addEventListener('click', () => editor.open(view).then(showViews));
      nav.appendChild(button);
    });
  }

  function clearMarks() {
    document.querySelectorAll('.dmn-problem').forEach((cell) => cell.classList.remove('dmn-problem'));
    problemList.replaceChildren();
  }

  // A rule's cells carry data-row-id, a column's data-col-id (dmn-js's own attributes).
  function mark(elementId) {
    if (!elementId) return;
    const id = CSS.escape(elementId);
    document.getElementById('decision-editor')
      .querySelectorAll(`[data-row-id="${id}"], [data-col-id="${id}"], [data-element-id="${id}"]`)
      .forEach((cell) => cell.classList.add('dmn-problem'));
  }

  function showProblems(problems) {
    clearMarks();
    problems.forEach((p) => {
      const item = document.createElement('li');
      item.dataset.elementId = p.element_id || '';
      item.textContent = (p.element_label ? p.element_label + ': ' : '') + p.message;
      problemList.appendChild(item);
      mark(p.element_id);
    });
  }

  async function save() {
    const { xml } = await editor.saveXML({ format: true });
    const response = await fetch(config.save, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrf },
      body: JSON.stringify({ xml }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      showProblems([]);
      say(body.message);
    } else {
      // The personal-data guard answers with fields (the XML's line and column) instead of problems.
      const problems = body.problems || Object.values(body.fields || {}).flat().map((message) => ({ message }));
      showProblems(problems);
      // The list names each problem's rule and cell; the message alone when there is no list.
      say(problems.length ? config.refused : config.refused + ' ' + (body.message || response.status));
    }
  }

  async function start() {
    try {
      await editor.importXML(JSON.parse(document.getElementById('decision-xml').textContent));
      showViews();
      editor.on('views.changed', showViews);
      document.body.dataset.decisionReady = 'true';
    } catch (error) {
      say(config.failed + ' ' + error.message);
    }
    const button = document.getElementById('save-decision');
    if (button) button.addEventListener('click', save);
  }

  start();
})();
