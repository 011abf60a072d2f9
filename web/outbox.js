// @ts-check
// The outbox: every report goes here first, and reaches the server exactly once.
//
// A report's id is made on the device when it is first saved; the server recognises a
// resend by it. An item leaves the outbox only when the server answers `created` or
// `duplicate`; `invalid` and `conflict` park it with the server's messages until the user
// fixes it; a network error, a 5xx or a 429 leave it waiting, to be tried again later.
// Pages and the service worker (its `sync` event calls flush) import this module; the
// parts are in outbox/:
//   items.js      the items in IndexedDB and every change of their state; waking the
//                 service worker when the network is back
//   sync.js       the sync protocol: batches through /api/v1/sync, one flush at a time
//   status.js     what became of sent reports, read with their receipts
//   scheduler.js  when a page sends: on start, online, shown again, with backoff
export {
  onChange, save, replace, get, remove, list, waitingCount, markMessagesRead,
} from './outbox/items.js';
export { flush } from './outbox/sync.js';
export { refreshStatuses } from './outbox/status.js';
export { sendNow, keepFlushing } from './outbox/scheduler.js';
