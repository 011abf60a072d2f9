// First open: every language in its own words above the first screen, until one is
// chosen or kept. It blocks nothing: a worker in a hurry can report at once.
import { h } from './dom.js';
import { t, LANGUAGES, asked, current, setLanguage } from './i18n.js';

export async function offerLanguages(box) {
  if (await asked()) return null;
  let finished = false;
  const done = async (choice) => {
    finished = true;
    box.hidden = true;
    box.replaceChildren();
    await setLanguage(choice);
    document.getElementById('main').focus();
  };
  const draw = () => {
    if (finished) return;
    box.replaceChildren(
      h('h2', { id: 'first-language-title' }, t('first.title')),
      h('p', {}, h('button', { type: 'button', class: 'primary', 'data-action': 'keep', onclick: () => done('') },
        t('first.keep', { language: LANGUAGES[current()] }))),
      h('ul', {}, Object.entries(LANGUAGES).map(([code, name]) => h('li', {},
        h('button', { type: 'button', class: 'secondary', lang: code, onclick: () => done(code) }, name)))));
    box.hidden = false;
  };
  draw();
  return draw; // redraw in a new language
}
