// Decision tables (DMN) in the browser: dmn-js's decision-table editor, or its viewer for readers, in the page's
// language. Only the decision-table view is bundled (no DRD, literal or boxed expressions): the page lists a
// file's decisions itself. Built by esbuild (package.json "build-decisions") into ../build/decisions.js.
import EditingManager from 'dmn-js-shared/lib/base/EditingManager';
import Manager from 'dmn-js-shared/lib/base/Manager';
import DecisionTableEditor from 'dmn-js-decision-table/lib/Editor';
import DecisionTableViewer from 'dmn-js-decision-table/lib/Viewer';
import { is } from 'dmn-js-shared/lib/util/ModelUtil';
import { pageLanguage, translateModule } from './translate.js';
import SWEDISH from './dmn-sv.js';

function opensTable(element) {
  return is(element, 'dmn:Decision') && is(element.decisionLogic, 'dmn:DecisionTable');
}

class TableEditor extends EditingManager {
  _getViewProviders() {
    return [{ id: 'decisionTable', constructor: DecisionTableEditor, opens: opensTable }];
  }
}

class TableViewer extends Manager {
  _getViewProviders() {
    return [{ id: 'decisionTable', constructor: DecisionTableViewer, opens: opensTable }];
  }
}

// SpiffWorkflow evaluates every cell as a Python expression (a quoted string, a comparison, "-" for any), so
// cells are plain text, not dmn-js's FEEL editor; the XML names no expression language for a cell.
const PYTHON = { options: [{ value: 'python', label: 'Python' }], defaults: { editor: 'python' } };

export function createDecisionEditor(options) {
  const Kind = options.readOnly ? TableViewer : TableEditor;
  return new Kind({
    container: options.container,
    common: { expressionLanguages: PYTHON },
    // Per view: the Manager replaces common.additionalModules with the view's own list.
    decisionTable: { additionalModules: [translateModule(options.language || pageLanguage(), { sv: SWEDISH })] },
  });
}
