// @ts-check
// When a page sends the outbox: on start, when the network comes back, when the app is
// shown again, and on a backoff timer while anything waits. Pages only; the service
// worker sends on the browser's `sync` event instead.
import * as db from '../db.js';
import { flush } from './sync.js';
import { wakeWhenOnline } from './items.js';

/** @typedef {import('../../types/outbox').Outcome | import('../../types/outbox').Skipped} FlushResult */

/** @type {(() => Promise<FlushResult>) | null} this page's "send now", once keepFlushing runs */
let runner = null;

/**
 * "Send now": reset the backoff and flush (the page's runner when there is one).
 * @returns {Promise<FlushResult>}
 */
export function sendNow() {
  return runner ? runner() : flush();
}

/**
 * Keep sending while this page is open. Delays in ms: `base` after success or a skip,
 * doubling up to `max` while anything waits (or the server's Retry-After, if longer).
 * @param {{base?: number, max?: number}} [options]
 * @returns {() => Promise<FlushResult>} "send now"
 */
export function keepFlushing({ base = 5000, max = 5 * 60 * 1000 } = {}) {
  let delay = base;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let stopped = false;

  /** @param {number} ms */
  const schedule = (ms) => {
    clearTimeout(timer);
    // A little jitter, so many phones coming back online do not all knock at once.
    if (!stopped) timer = setTimeout(run, ms * (0.8 + Math.random() * 0.4));
  };

  /** @returns {Promise<FlushResult>} */
  async function run() {
    clearTimeout(timer);
    if (db.isWiped()) { stopped = true; return { skipped: true }; }
    /** @type {FlushResult} */
    let outcome;
    try {
      outcome = await flush();
    } catch {
      outcome = { sent: 0, parked: 0, waiting: 1, error: 'server', retryAfter: null };
    }
    if ('skipped' in outcome) {
      schedule(base); // another tab or the worker is sending; look again soon
    } else if (outcome.waiting > 0) {
      delay = Math.min(max, delay * 2);
      schedule(Math.max(delay, (outcome.retryAfter || 0) * 1000));
      wakeWhenOnline();
    } else {
      delay = base;
    }
    return outcome;
  }

  addEventListener('online', () => { delay = base; run(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') run();
  });
  runner = () => { delay = base; return run(); };
  run();
  return runner;
}
