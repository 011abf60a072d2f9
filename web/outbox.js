// @ts-check
// The outbox: every report goes here first, and reaches the server exactly once (how:
// docs/architecture.md; an item's states: outbox/items.js). Pages and the service worker
// (its `sync` event calls flush) import this module.
export {
  onChange, save, replace, get, remove, list, waitingCount, markMessagesRead,
} from './outbox/items.js';
export { flush } from './outbox/sync.js';
export { refreshStatuses } from './outbox/status.js';
export { sendNow, keepFlushing } from './outbox/scheduler.js';
