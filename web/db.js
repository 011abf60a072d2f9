// IndexedDB: the only place the app keeps data on the device (the worker uses it too).
// Stores:
//   reports  the reports made on this device, by id: the outbox (waiting, parked) and
//            the sent ones (a summary and the receipt only)
//   kv       small values by name: "draft", "member" (the member token), "areas",
//            "my-areas", "language", "persist", "alerts-sync", "push", "notify-text"
//   alerts   (version 2) member alerts kept for offline reading, by id (see alerts-store.js)
// A later version adds stores in `upgrade`; it must never drop `reports`: it holds the outbox.

const NAME = 'redflag';
const VERSION = 2;

let connection = null;
let wiped = false;
let early = null; // prefetch()

function upgrade(db) {
  if (!db.objectStoreNames.contains('reports')) db.createObjectStore('reports', { keyPath: 'id' });
  if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
  if (!db.objectStoreNames.contains('alerts')) db.createObjectStore('alerts', { keyPath: 'id' });
}

export function open() {
  if (wiped) return Promise.reject(new Error('This device was wiped.'));
  if (!connection) {
    connection = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = () => upgrade(request.result);
      request.onsuccess = () => {
        const db = request.result;
        // Another tab wipes the device, or a newer app version upgrades: let go at once.
        db.onversionchange = () => { db.close(); connection = null; };
        db.onclose = () => { connection = null; };
        resolve(db);
      };
      request.onerror = () => { connection = null; reject(request.error); };
    });
  }
  return connection;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

async function run(store, mode, work) {
  if (mode !== 'readonly') early = null;
  const db = await open();
  const tx = db.transaction(store, mode);
  const result = work(tx.objectStore(store));
  await committed(tx);
  return result;
}

export function get(store, key) {
  const i = store === 'kv' && early ? early.keys.indexOf(key) : -1;
  return i < 0 ? run(store, 'readonly', (s) => done(s.get(key))) : early.reads.then((values) => values[i]);
}

// The first screen's kv reads in one transaction, early; get() answers them from it until
// a write or the returned function.
export function prefetch(keys) {
  const reads = run('kv', 'readonly', (s) => Promise.all(keys.map((key) => done(s.get(key)))));
  reads.catch(() => {}); // a get()'s error
  early = { keys, reads };
  return () => { early = null; };
}

export async function all(store) {
  return run(store, 'readonly', (s) => done(s.getAll()));
}

export async function put(store, value, key) {
  await run(store, 'readwrite', (s) => (key === undefined ? s.put(value) : s.put(value, key)));
}

export async function remove(store, key) {
  await run(store, 'readwrite', (s) => s.delete(key));
}

// Read, change and write one record in a single transaction, so two tabs (or a tab and
// the service worker) never overwrite each other's change. `change(old)` returns the new
// record, `undefined` to leave it, or `null` to delete it.
export async function update(store, key, change) {
  return run(store, 'readwrite', (s) => new Promise((resolve, reject) => {
    const read = s.get(key);
    read.onerror = () => reject(read.error);
    read.onsuccess = () => {
      const next = change(read.result);
      if (next === null) s.delete(key);
      else if (next !== undefined) s.put(next);
      resolve(next);
    };
  }));
}

// Wipe: delete the whole database (the others close on `versionchange`).
export async function destroy() {
  wiped = true;
  early = null;
  if (connection) {
    const db = await connection.catch(() => null);
    if (db) db.close();
    connection = null;
  }
  await new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(NAME);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
}

// After another tab wiped the device this page must not create the database again.
export function forget() {
  wiped = true;
  early = null;
  if (connection) connection.then((db) => db.close(), () => {});
  connection = null;
}

export function isWiped() {
  return wiped;
}

// Persistent storage keeps the browser from clearing the outbox when space runs low.
export async function askPersistence() {
  if (!globalThis.navigator?.storage?.persist) return null;
  if (await navigator.storage.persisted()) return true;
  const granted = await navigator.storage.persist();
  await put('kv', { granted, at: Date.now() }, 'persist');
  return granted;
}

// "kept", "refused" (asked, said no), "not-asked" or "unsupported".
export async function persistence() {
  if (!globalThis.navigator?.storage?.persisted) return 'unsupported';
  if (await navigator.storage.persisted()) return 'kept';
  const asked = await get('kv', 'persist');
  return asked ? 'refused' : 'not-asked';
}
