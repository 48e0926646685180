// Lint messages in the page's language. Our rules' Swedish texts are word for word the server's own
// (service/engine/validation.py), so the server's check can merge its findings with the lint's.
const OWN = {
  sv: {
    noForm: 'användaruppgiften saknar formulär (egenskapen formJsonSchemaFilename)',
    unknownForm: "formuläret '{form}' finns inte",
    noRoleLane: 'användaruppgiften ligger inte i en simbana som anger en roll (simbana: {lane})',
    noAssignment: 'användaruppgiften saknar tilldelning (egenskapen organisation eller assignee)',
    noTime: 'timern saknar tid (timeDuration, timeDate eller timeCycle)',
    nameNotTime: 'timerns uttryck {source} är ett namn, inte en tid: skriv "{source}" inom citattecken',
    unparsable: "timerns uttryck '{source}' går inte att tolka (skriv \"{source}\" inom citattecken)",
    invalidValue: "timerns värde '{value}' är ingen giltig ISO 8601-{kind}",
    timeDuration: 'varaktighet (t.ex. P5D)', timeDate: 'tidpunkt', timeCycle: 'upprepning (t.ex. R3/PT1H)',
  },
  en: {
    noForm: 'the user task has no form (property formJsonSchemaFilename)',
    unknownForm: "the form '{form}' does not exist",
    noRoleLane: 'the user task is not in a lane that names a role (lane: {lane})',
    noAssignment: 'the user task has no assignment (property organisation or assignee)',
    noTime: 'the timer has no time (timeDuration, timeDate or timeCycle)',
    nameNotTime: 'the timer expression {source} is a name, not a time: write "{source}" in quotes',
    unparsable: "the timer expression '{source}' cannot be read (write \"{source}\" in quotes)",
    invalidValue: "the timer value '{value}' is not a valid ISO 8601 {kind}",
    timeDuration: 'duration (e.g. P5D)', timeDate: 'date and time', timeCycle: 'cycle (e.g. R3/PT1H)',
  },
};

// The standard (bpmnlint) rules' messages that our configuration keeps, in Swedish; the bpmn-js-bpmnlint
// overlay and its button texts go through the same translate service (src/translate.js).
export const STANDARD_SV = {
  'Element is missing label/name': 'Elementet saknar namn',
  'Element is not connected': 'Elementet är inte kopplat till flödet',
  'Element is missing bpmndi': 'Elementet saknar diagraminformation (bpmndi)',
  'Element type <bpmn:ComplexGateway> is discouraged': 'Komplexa gatewayer stöds inte',
  'Element is an implicit end': 'Elementet är ett implicit slut (lägg till en sluthändelse)',
  'Element is an implicit start': 'Elementet är en implicit start (lägg till en starthändelse)',
  'Flow splits implicitly': 'Flödet delas implicit (använd en gateway)',
  'Process is missing end event': 'Processen saknar sluthändelse',
  'Process is missing start event': 'Processen saknar starthändelse',
  'Sub process is missing end event': 'Delprocessen saknar sluthändelse',
  'Sub process is missing start event': 'Delprocessen saknar starthändelse',
  'Process has multiple blank start events': 'Processen har flera tomma starthändelser',
  'Sequence flow is missing condition': 'Sekvensflödet saknar villkor',
  'SequenceFlow is a duplicate': 'Sekvensflödet är en dubblett',
  'Event has multiple event definitions': 'Händelsen har flera händelsedefinitioner',
  'Gateway is superfluous. It only has one source and target.': 'Gatewayen är överflödig: den har bara ett in- och ett utflöde.',
  'Gateway forks and joins': 'Gatewayen både förenar och delar flödet',
  'Incoming flows do not join': 'Inkommande flöden förenas inte (använd en gateway)',
  'Element overlaps with other element': 'Elementet överlappar ett annat element',
  'Element type <bpmn:InclusiveGateway> is discouraged': 'Inkluderande gatewayer bör undvikas',
  'Duplicate outgoing sequence flows': 'Dubblerade utgående sekvensflöden',
  'Duplicate incoming sequence flows': 'Dubblerade inkommande sekvensflöden',
  'Start event is missing event definition': 'Starthändelsen saknar händelsedefinition',
  'Start event must be blank': 'Starthändelsen ska vara tom',
  'Element is missing name': 'Elementet saknar namn',
  'Element is unused': 'Elementet används inte',
  'Element name is not unique': 'Elementets namn är inte unikt',
  'Element is outside of parent boundary': 'Elementet ligger utanför sin förälders ram',
  'Toggle linting overlays': 'Visa eller dölj granskningens markeringar',
  'Issues for child elements': 'Problem i underliggande element',
  '{errors} Errors, {warnings} Warnings': '{errors} fel, {warnings} varningar',
  'No Issues': 'Inga problem',
};

export function ownMessage(language, key, values) {
  const texts = OWN[language] || OWN.sv;
  return texts[key].replace(/{([^}]+)}/g, (whole, name) => (values && name in values ? values[name] : whole));
}

export function timerKindName(language, kind) {
  return (OWN[language] || OWN.sv)[kind];
}
