// The server's lint (service/processes/lint.py runs it at deploy): reads {"xml", "roles", "forms"} as JSON on
// stdin, prints {"findings": [{"element_id", "rule", "category", "message"}]} (Swedish) or {"error": ...}.
// Bundled by esbuild (npm run build-lint) into ../static/build/lint-node.js.
import { BpmnModdle } from 'bpmn-moddle';
import { Linter } from 'bpmnlint';
import spiffworkflow from '../static/spiffworkflow.json';
import { lintConfig } from './config.js';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf-8');
}

async function main() {
  const input = JSON.parse(await readStdin());
  const moddle = new BpmnModdle({ spiffworkflow });
  const { rootElement } = await moddle.fromXML(input.xml);
  const results = await new Linter(lintConfig({ roles: input.roles, forms: input.forms, language: 'sv' })).lint(rootElement);
  const findings = [];
  Object.entries(results).forEach(([rule, reports]) => reports.forEach((r) => findings.push(
    { element_id: r.id || null, rule, category: r.category, message: r.message })));
  process.stdout.write(JSON.stringify({ findings }));
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ error: String(error && error.message || error) }));
  process.exitCode = 1;
});
