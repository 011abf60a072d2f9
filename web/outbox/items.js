// @ts-check
// The outbox's items in IndexedDB (store "reports"), and every change of their state.
// An item moves only along these lines, each a function below:
//   (none) or parked --save--> waiting       a new report, or a fixed one back in
//   waiting --stillWaiting--> waiting       not answered (offline, busy, 5xx): try later
//   waiting --park--> parked                the server refused it: needs a fix
//   waiting --delivered--> sent             the server has it (created or duplicate);
//                                           filed for someone else: removed instead
//   sent --setStatus--> sent                the server's view, read with the receipt
// A sent item is never saved again: nothing is resent under a delivered id.
import * as db from '../db.js';
import { changeNotifier } from '../changes.js';

/** @typedef {import('../../types/outbox').Report} Report */
/** @typedef {import('../../types/outbox').Item} Item */
/** @typedef {import('../../types/outbox').WaitReason} WaitReason */
/** @typedef {import('../../types/outbox').Refusal} Refusal */

const STORE = 'reports';
const SYNC_TAG = 'outbox'; // the service worker's `sync` listener flushes on this tag

// Called whenever the outbox changes, in this page or another tab or the service worker.
const notices = changeNotifier('redflag-outbox');
/** @type {(listener: () => void) => () => void} add a listener; returns "remove it" */
export const onChange = notices.onChange;
/** @type {() => void} */
export const changed = notices.changed;

/** @param {Report} report */
function summarize(report) {
  return {
    occurred_on: report.occurred_on,
    area: report.area,
    incident_types: report.incident_types,
  };
}

/**
 * Put a report in the outbox (or put a fixed one back). Never resends under a delivered id.
 * @param {Report} report
 * @returns {Promise<void>}
 */
export async function save(report) {
  await db.update(STORE, report.id, (/** @type {Item | undefined} */ old) => {
    if (old?.state === 'sent') return undefined;
    /** @type {Item} */
    const item = {
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
    return item;
  });
  changed();
  wakeWhenOnline();
}

/**
 * A report the server answered `conflict` for (its id is taken by other content) goes
 * back under a new id; the old item goes.
 * @param {string} oldId
 * @param {Report} report
 */
export async function replace(oldId, report) {
  await save(report);
  if (oldId !== report.id) await db.remove(STORE, oldId);
  changed();
}

/**
 * @param {string} id
 * @returns {Promise<Item | undefined>}
 */
export async function get(id) {
  return db.get(STORE, id);
}

/** @param {string} id */
export async function remove(id) {
  await db.remove(STORE, id);
  changed();
}

/**
 * Every item, newest first.
 * @returns {Promise<Item[]>}
 */
export async function list() {
  /** @type {Item[]} */
  const items = await db.all(STORE);
  return items.sort((a, b) => b.savedAt - a.savedAt);
}

/**
 * The items waiting to send, oldest first.
 * @returns {Promise<Item[]>}
 */
export async function waiting() {
  /** @type {Item[]} */
  const items = await db.all(STORE);
  return items.filter((item) => item.state === 'waiting').sort((a, b) => a.savedAt - b.savedAt);
}

/** @returns {Promise<number>} */
export async function waitingCount() {
  return (await waiting()).length;
}

/**
 * Not answered: the items stay waiting, with the reason and one more attempt counted.
 * @param {Item[]} items
 * @param {WaitReason} reason
 */
export function stillWaiting(items, reason) {
  return Promise.all(items.map((item) => db.update(STORE, item.id, (/** @type {Item | undefined} */ old) => (
    old?.state === 'waiting'
      ? { ...old, reason, attempts: (old.attempts || 0) + 1, triedAt: Date.now() }
      : undefined))));
}

/**
 * The server refused it: parked with its messages until the user fixes it.
 * @param {Item} item
 * @param {Refusal} result
 * @param {Object<string, string[]>} errors
 */
export function park(item, result, errors) {
  return db.update(STORE, item.id, (/** @type {Item | undefined} */ old) => (
    old?.state === 'waiting' ? { ...old, state: 'parked', result, errors } : undefined));
}

/**
 * The server has it. Keeps only what My reports shows, and the receipt.
 * @param {Item} item
 * @param {string | undefined} receipt
 */
export function delivered(item, receipt) {
  return db.update(STORE, item.id, (/** @type {Item | undefined} */ old) => {
    if (!old) return undefined; // removed from this device while it was on its way
    // Filed for someone else (drop-in mode on a shared tablet): once the server has it,
    // nothing of it stays here, not even its receipt.
    if (old.report?.on_behalf) return null;
    // The report text itself leaves the device.
    const { report, errors, reason, ...kept } = old;
    /** @type {Item} */
    const sent = { ...kept, state: 'sent', result: null, receipt, sentAt: Date.now(), status: 'received' };
    return sent;
  });
}

/**
 * The sent items that have a receipt, to read their status with.
 * @returns {Promise<Item[]>}
 */
export async function sentWithReceipt() {
  /** @type {Item[]} */
  const items = await db.all(STORE);
  return items.filter((item) => item.state === 'sent' && item.receipt);
}

/**
 * The server's view of a sent report: its status, whether the project follows it up (a
 * case: messages are possible), and how many of the project's messages wait unread (a
 * count only: the messages themselves are never stored on the device).
 * @param {string} id
 * @param {string} status
 * @param {{hasCase?: boolean, newMessages?: number}} [conversation]
 */
export function setStatus(id, status, conversation = {}) {
  return db.update(STORE, id, (/** @type {Item | undefined} */ old) => (
    old ? { ...old, status, statusAt: Date.now(), ...conversation } : undefined));
}

/**
 * The person read the project's messages about this report (no change notice: the page
 * that showed them has already updated itself).
 * @param {string} id
 */
export function markMessagesRead(id) {
  return db.update(STORE, id, (/** @type {Item | undefined} */ old) => (
    old ? { ...old, newMessages: 0 } : undefined));
}

/**
 * Ask the browser to wake the service worker when the network is back (Background Sync,
 * Chromium only); its `sync` listener then flushes the outbox. Works in a page (once a
 * worker controls it) and in the service worker; never throws.
 */
export function wakeWhenOnline() {
  /** @type {any} the service worker's own registration, when this runs there */
  const own = /** @type {any} */ (globalThis).registration;
  const registration = own
    ? Promise.resolve(own)
    : globalThis.navigator?.serviceWorker?.controller
      ? navigator.serviceWorker.ready
      : null;
  if (!registration) return;
  registration
    .then((/** @type {any} */ r) => (r.sync ? r.sync.register(SYNC_TAG) : null))
    .catch(() => {});
}
