// The modeller in the page's language: bpmn-js and its properties panel ask their `translate` service for every
// label (written in English, with {placeholders}); Swedish comes from ./sv.js, English is the text itself.
import SWEDISH from './sv.js';
import { STANDARD_SV } from '../../lint/messages.js';

// The lint overlay's texts are the standard bpmnlint rules' messages and bpmn-js-bpmnlint's labels.
const DICTIONARIES = { sv: { ...SWEDISH, ...STANDARD_SV } };

// `dictionaries`: another library's texts by language (the decision tables' are in ./dmn-sv.js). A placeholder
// may be written with spaces ("{ sample }", as dmn-js does).
export function translator(language, dictionaries = DICTIONARIES) {
  const dictionary = dictionaries[language] || {};
  return function translate(template, replacements) {
    const text = Object.prototype.hasOwnProperty.call(dictionary, template) ? dictionary[template] : template;
    return text.replace(/{([^}]+)}/g, (whole, name) => {
      const key = name.trim();
      return replacements && key in replacements ? replacements[key] : whole;
    });
  };
}

// A bpmn-js (or dmn-js) module replacing the default (identity) translate service.
export function translateModule(language, dictionaries) {
  return { translate: ['value', translator(language, dictionaries)] };
}

// The language of the page (<html lang>), the service's default (Swedish) when it names none.
export function pageLanguage() {
  return (document.documentElement.getAttribute('lang') || 'sv').slice(0, 2);
}
