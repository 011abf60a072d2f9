// @ts-check
// The sync protocol: send what waits through POST /api/v1/sync in batches, and apply each
// answer as outbox.js says. Used by the service worker too (no `window` here).
import { api, NetworkError } from '../api.js';
import * as items from './items.js';

const MAX_BATCH = 100;                 // the server takes at most 100 per sync
const MAX_BATCH_BYTES = 120 * 1024;    // well under the server's body limit
// The server's default body limit (MAX_CONTENT_LENGTH): one report over it can never be
// taken, so it is parked for the person to shorten instead of being sent again and again.
const MAX_REPORT_BYTES = 256 * 1024 - 64;

/** @typedef {import('../../types/outbox').Item} Item */
/** @typedef {import('../../types/outbox').Outcome} Outcome */
/** @typedef {import('../../types/outbox').Skipped} Skipped */
/** @typedef {import('../../types/outbox').SyncResult} SyncResult */
/** @typedef {import('../../types/outbox').WaitReason} WaitReason */

/**
 * As many items as fit one request, oldest first: at most `limit`, and at most
 * MAX_BATCH_BYTES of reports (always at least one).
 * @param {Item[]} waiting
 * @param {number} limit
 */
function takeBatch(waiting, limit) {
  const batch = [];
  let bytes = 0;
  for (const item of waiting) {
    const size = JSON.stringify(item.report).length;
    if (batch.length && (batch.length >= limit || bytes + size > MAX_BATCH_BYTES)) break;
    batch.push(item);
    bytes += size;
  }
  return batch;
}

/**
 * Apply the server's answers to the batch it answered; counts go into `outcome`.
 * @param {Item[]} batch
 * @param {SyncResult[]} results  in the batch's order (matched by id first)
 * @param {Outcome} outcome
 */
async function applyResults(batch, results, outcome) {
  for (const [i, item] of batch.entries()) {
    const result = results.find((r) => r?.id === item.id) || results[i] || /** @type {any} */ ({});
    if (result.result === 'created' || result.result === 'duplicate') {
      await items.delivered(item, result.receipt);
      outcome.sent += 1;
    } else if (result.result === 'invalid' || result.result === 'conflict'
               || (result.result === 'error' && result.retryable === false)) {
      await items.park(item, result.result, result.errors || {});
      outcome.parked += 1;
    } else {
      await items.stillWaiting([item], 'server');
      outcome.error = 'server';
    }
  }
}

/**
 * Send everything waiting, in batches. Each item is tried at most once per call.
 * @returns {Promise<Outcome>}
 */
async function sendWaiting() {
  /** @type {Outcome} */
  const outcome = { sent: 0, parked: 0, waiting: 0, error: null, retryAfter: null };
  const tried = new Set();
  let limit = MAX_BATCH;
  for (;;) {
    const waiting = (await items.waiting()).filter((item) => !tried.has(item.id));
    if (!waiting.length) break;
    const batch = takeBatch(waiting, limit);
    batch.forEach((item) => tried.add(item.id));
    if (batch.length === 1
        && new TextEncoder().encode(JSON.stringify(batch[0].report)).length > MAX_REPORT_BYTES) {
      await items.park(batch[0], 'invalid', { _schema: ['too_large'] });
      outcome.parked += 1;
      continue;
    }
    let response;
    try {
      response = await api('/api/v1/sync', {
        method: 'POST', body: { reports: batch.map((item) => item.report) },
        // Drop-in reports carry the staff session, so the server records who filed them.
        cookies: batch.some((item) => item.report?.on_behalf),
      });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      await items.stillWaiting(batch, 'offline');
      outcome.error = 'offline';
      break;
    }
    if (response.status === 200 && response.data && Array.isArray(response.data.results)) {
      await applyResults(batch, response.data.results, outcome);
      continue;
    }
    if (response.status === 413 && batch.length > 1) {
      // Too big together: try again in smaller batches.
      limit = Math.max(1, Math.floor(batch.length / 2));
      batch.forEach((item) => tried.delete(item.id));
      continue;
    }
    if (response.status === 413) {
      await items.park(batch[0], 'invalid', { _schema: ['too_large'] });
      outcome.parked += 1;
      continue;
    }
    /** @type {WaitReason} */
    const reason = response.status === 429 ? 'busy' : response.status === 401 ? 'auth' : 'server';
    await items.stillWaiting(batch, reason);
    outcome.error = reason;
    outcome.retryAfter = response.retryAfter;
    break;
  }
  outcome.waiting = await items.waitingCount();
  items.changed();
  return outcome;
}

/** @type {Promise<Outcome> | null} the in-page guard where the Web Locks API is missing */
let running = null;

/**
 * Send the outbox. Only one flush at a time across every tab and the service worker
 * (Web Locks); a flush asked for while another runs returns {skipped: true} at once.
 * @returns {Promise<Outcome | Skipped>}
 */
export function flush() {
  if (globalThis.navigator?.locks) {
    // The lock's promise settles with what the callback's promise settles with.
    return /** @type {Promise<Outcome | Skipped>} */ (navigator.locks.request('outbox-flush',
      { ifAvailable: true }, (lock) => (lock ? sendWaiting() : { skipped: true })));
  }
  if (!running) running = sendWaiting().finally(() => { running = null; });
  return running;
}
