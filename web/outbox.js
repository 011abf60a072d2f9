// @ts-check
// The outbox: every report goes here first, and reaches the server exactly once.
//
// A report's id is made on the device; the server recognises a resend by it. An item
// leaves the outbox only when the server answers `created` or
// `duplicate`; `invalid` and `conflict` park it with the server's messages until the user
// fixes it; a network error, a 5xx or a 429 leave it waiting, to be tried again later.
// Pages and the service worker (its `sync` event calls flush) import this module.
export {
  onChange, save, replace, get, remove, list, waitingCount, markMessagesRead,
} from './outbox/items.js';
export { flush } from './outbox/sync.js';
export { refreshStatuses } from './outbox/status.js';
export { sendNow, keepFlushing } from './outbox/scheduler.js';
