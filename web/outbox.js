// The outbox: every report goes here first, and reaches the server exactly once.
//
// A report's id is made on the device when it is first saved; the server recognises a
// resend by it. An item leaves the outbox only when the server answers `created` or
// `duplicate`; `invalid` and `conflict` park it with the server's messages until the user
// fixes it; a network error, a 5xx or a 429 leave it waiting, to be tried again later.
// flush() is used by pages and by the service worker's `sync` event (no `window` here).
import * as db from './db.js';
import { api, NetworkError } from './api.js';
import { changeNotifier } from './changes.js';

const MAX_BATCH = 100;                 // the server takes at most 100 per sync
const MAX_BATCH_BYTES = 120 * 1024;    // well under the server's body limit
// The server's default body limit (MAX_CONTENT_LENGTH): one report over it can never be
// taken, so it is parked for the person to shorten instead of being sent again and again.
const MAX_REPORT_BYTES = 256 * 1024 - 64;
const SYNC_TAG = 'outbox';

// Item states: waiting (to send), parked (the server refused it: needs a fix), sent.
// Item: {id, state, report, summary, savedAt, attempts, reason, result, errors,
//        receipt, sentAt, status, statusAt}

// Called whenever the outbox changes, in this page or another tab or the service worker.
const notices = changeNotifier('redflag-outbox');
export const onChange = notices.onChange;
const changed = notices.changed;

function summarize(report) {
  return {
    occurred_on: report.occurred_on,
    area: report.area,
    incident_types: report.incident_types,
  };
}

// Ask the browser to wake the service worker when the network is back (Chromium only).
function requestBackgroundSync() {
  const registration = globalThis.registration
    ? Promise.resolve(globalThis.registration)
    : globalThis.navigator && navigator.serviceWorker && navigator.serviceWorker.controller
      ? navigator.serviceWorker.ready
      : null;
  if (!registration) return;
  registration
    .then((r) => (r.sync ? r.sync.register(SYNC_TAG) : null))
    .catch(() => {});
}

// Put a report in the outbox (or put a fixed one back). Never resends under a delivered id.
export async function save(report) {
  await db.update('reports', report.id, (old) => {
    if (old && old.state === 'sent') return undefined;
    return {
      id: report.id,
      state: 'waiting',
      report,
      summary: summarize(report),
      savedAt: old ? old.savedAt : Date.now(),
      attempts: 0,
      reason: null,
      result: null,
      errors: null,
    };
  });
  changed();
  requestBackgroundSync();
}

// A report the server answered `conflict` for (its id is taken by other content) goes
// back under a new id; the old item goes.
export async function replace(oldId, report) {
  await save(report);
  if (oldId !== report.id) await db.remove('reports', oldId);
  changed();
}

export async function get(id) {
  return db.get('reports', id);
}

export async function remove(id) {
  await db.remove('reports', id);
  changed();
}

// Newest first.
export async function list() {
  const items = await db.all('reports');
  return items.sort((a, b) => b.savedAt - a.savedAt);
}

export async function waitingCount() {
  return (await db.all('reports')).filter((item) => item.state === 'waiting').length;
}

function takeBatch(items, limit) {
  const batch = [];
  let bytes = 0;
  for (const item of items) {
    const size = JSON.stringify(item.report).length;
    if (batch.length && (batch.length >= limit || bytes + size > MAX_BATCH_BYTES)) break;
    batch.push(item);
    bytes += size;
  }
  return batch;
}

function stillWaiting(items, reason) {
  return Promise.all(items.map((item) => db.update('reports', item.id, (old) => (
    old && old.state === 'waiting'
      ? { ...old, reason, attempts: (old.attempts || 0) + 1, triedAt: Date.now() }
      : undefined))));
}

function park(item, result, errors) {
  return db.update('reports', item.id, (old) => (
    old && old.state === 'waiting' ? { ...old, state: 'parked', result, errors } : undefined));
}

function delivered(item, receipt) {
  return db.update('reports', item.id, (old) => {
    if (!old) return undefined; // removed from this device while it was on its way
    // Filed for someone else (drop-in mode on a shared tablet): once the server has it,
    // nothing of it stays here, not even its receipt.
    if (old.report && old.report.on_behalf) return null;
    // Keep only what My reports shows: the report text itself leaves the device.
    const { report, errors, reason, ...kept } = old;
    return { ...kept, state: 'sent', result: null, receipt, sentAt: Date.now(), status: 'received' };
  });
}

async function applyResults(batch, results, outcome) {
  for (const [i, item] of batch.entries()) {
    const result = results.find((r) => r && r.id === item.id) || results[i] || {};
    if (result.result === 'created' || result.result === 'duplicate') {
      await delivered(item, result.receipt);
      outcome.sent += 1;
    } else if (result.result === 'invalid' || result.result === 'conflict'
               || (result.result === 'error' && result.retryable === false)) {
      await park(item, result.result, result.errors || {});
      outcome.parked += 1;
    } else {
      await stillWaiting([item], 'server');
      outcome.error = 'server';
    }
  }
}

// Send everything waiting, in batches through /api/v1/sync. Returns
// {sent, parked, waiting, error, retryAfter}; error is null, "offline", "server", "busy"
// or "auth".
async function sendWaiting() {
  const outcome = { sent: 0, parked: 0, waiting: 0, error: null, retryAfter: null };
  const tried = new Set();
  let limit = MAX_BATCH;
  for (;;) {
    const items = (await db.all('reports'))
      .filter((item) => item.state === 'waiting' && !tried.has(item.id))
      .sort((a, b) => a.savedAt - b.savedAt);
    if (!items.length) break;
    const batch = takeBatch(items, limit);
    batch.forEach((item) => tried.add(item.id));
    if (batch.length === 1
        && new TextEncoder().encode(JSON.stringify(batch[0].report)).length > MAX_REPORT_BYTES) {
      await park(batch[0], 'invalid', { _schema: ['too_large'] });
      outcome.parked += 1;
      continue;
    }
    let response;
    try {
      response = await api('/api/v1/sync', {
        method: 'POST', body: { reports: batch.map((item) => item.report) },
        cookies: batch.some((item) => item.report.on_behalf),
      });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      await stillWaiting(batch, 'offline');
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
      await park(batch[0], 'invalid', { _schema: ['too_large'] });
      outcome.parked += 1;
      continue;
    }
    const reason = response.status === 429 ? 'busy' : response.status === 401 ? 'auth' : 'server';
    await stillWaiting(batch, reason);
    outcome.error = reason;
    outcome.retryAfter = response.retryAfter;
    break;
  }
  outcome.waiting = await waitingCount();
  changed();
  return outcome;
}

let running = null; // the in-page guard where the Web Locks API is missing

// Only one flush at a time across every tab and the service worker (Web Locks); a flush
// asked for while another runs returns {skipped: true} at once.
export function flush() {
  if (globalThis.navigator && navigator.locks) {
    return navigator.locks.request('outbox-flush', { ifAvailable: true },
      (lock) => (lock ? sendWaiting() : { skipped: true }));
  }
  if (!running) running = sendWaiting().finally(() => { running = null; });
  return running;
}

// The server's view of each sent report, read with its receipt.
export async function refreshStatuses() {
  const sent = (await db.all('reports')).filter((item) => item.state === 'sent' && item.receipt);
  let any = false;
  await Promise.all(sent.map(async (item) => {
    let response;
    try {
      response = await api(`/api/v1/reports/${encodeURIComponent(item.id)}/status`,
        { headers: { 'X-Receipt': item.receipt } });
    } catch {
      return;
    }
    const status = response.status === 200 && response.data ? response.data.status
      : response.status === 404 ? 'unknown' : null;
    if (!status) return;
    any = true;
    await db.update('reports', item.id, (old) => (
      old ? { ...old, status, statusAt: Date.now() } : undefined));
  }));
  if (any) changed();
}

let runner = null;

// "Send now": reset the backoff and flush (the page's runner when there is one).
export function sendNow() {
  return runner ? runner() : flush();
}

// While a page is open: flush on start, when the network comes back, when the app is
// shown again, and on a backoff timer while anything waits. Returns "send now".
export function keepFlushing({ base = 5000, max = 5 * 60 * 1000 } = {}) {
  let delay = base;
  let timer = null;
  let stopped = false;

  const schedule = (ms) => {
    clearTimeout(timer);
    // A little jitter, so many phones coming back online do not all knock at once.
    if (!stopped) timer = setTimeout(run, ms * (0.8 + Math.random() * 0.4));
  };

  async function run() {
    clearTimeout(timer);
    if (db.isWiped()) { stopped = true; return { skipped: true }; }
    let outcome;
    try {
      outcome = await flush();
    } catch {
      outcome = { waiting: 1, error: 'server' };
    }
    if (outcome.skipped) {
      schedule(base); // another tab or the worker is sending; look again soon
    } else if (outcome.waiting > 0) {
      delay = Math.min(max, delay * 2);
      schedule(Math.max(delay, (outcome.retryAfter || 0) * 1000));
      requestBackgroundSync();
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
