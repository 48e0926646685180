// Swedish for the simulation's controls and log (the keys are the English texts, shown on an English page).
export default {
  'Start': 'Starta',
  'Start a token at this start event': 'Starta en token vid den här starthändelsen',
  'Continue': 'Fortsätt',
  'Complete the task and move the token on': 'Slutför aktiviteten och flytta token vidare',
  'Trigger': 'Utlös',
  'Trigger the event (the timer has run out or the message has come)': 'Utlös händelsen (tiden har gått ut eller meddelandet har kommit)',
  'to {target}': 'till {target}',
  '(default)': '(standard)',
  'Choose the flow the next token takes at this gateway': 'Välj flödet som nästa token tar vid grinden',
  'Finished: the token reached the end.': 'Klart: token nådde slutet.',
  'Start a token at a start event.': 'Starta en token vid en starthändelse.',
};
