// The simulation's texts in the page's language: Swedish from ./sv.js, English is the key itself; {placeholders}
// are filled by bpmn-js's translate service (src/translate.js), which returns a text it does not know unchanged.
import SWEDISH from './sv.js';
import { pageLanguage } from '../translate.js';

export function simulationText(translate) {
  const dictionary = pageLanguage() === 'sv' ? SWEDISH : {};
  return function text(key, replacements) {
    const template = Object.prototype.hasOwnProperty.call(dictionary, key) ? dictionary[key] : key;
    return translate(template, replacements);
  };
}

// What the log and the controls call an element: its name, or its id when it has none (always as text).
export function nameOf(element) {
  const bo = element && element.businessObject;
  const name = bo && typeof bo.name === 'string' ? bo.name.trim() : '';
  return name || (element ? element.id : '');
}
