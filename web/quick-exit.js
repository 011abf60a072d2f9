// Quick exit: leave for a neutral site (<meta name="redflag-quick-exit">) at once,
// replacing this page in the history so Back does not return to the app. Escape three
// times within two seconds does the same. A half-written report is deleted on the way
// out, unless Settings says keep it.
import * as db from './db.js';

const PRESSES = 3;
const WINDOW_MS = 2000;
const FORGET_WAIT_MS = 300; // the neutral site never waits longer for the draft to go

let exiting = false;
// Once pressed, nothing may be saved again (screens/report.js).
export const leaving = () => exiting;

async function forgetDrafts() {
  if (!(await db.get('kv', 'keep-draft'))) await Promise.all(['draft', 'dropin-draft'].map((key) => db.remove('kv', key)));
}

export function quickExit() {
  exiting = true;
  const meta = document.querySelector('meta[name="redflag-quick-exit"]');
  const target = meta?.content || 'https://www.bbc.co.uk/weather';
  // Hide everything first: with no signal the new page may take a while, or never come.
  document.title = '';
  document.body.replaceChildren();
  const go = () => location.replace(target);
  Promise.race([forgetDrafts().catch(() => {}), new Promise((done) => { setTimeout(done, FORGET_WAIT_MS); })])
    .then(go, go);
}

export function setupQuickExit(button) {
  button.addEventListener('click', quickExit);
  let presses = [];
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    const now = Date.now();
    presses = presses.filter((at) => now - at < WINDOW_MS);
    presses.push(now);
    if (presses.length >= PRESSES) quickExit();
  }, true);
}
