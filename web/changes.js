// Change notices for a store that pages, other tabs and the service worker share:
// listeners in this context, and a BroadcastChannel so the other contexts hear too.
export function changeNotifier(name) {
  const listeners = new Set();
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : null;
  if (channel) channel.onmessage = () => listeners.forEach((fn) => fn());
  return {
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    changed() {
      listeners.forEach((fn) => fn());
      if (channel) channel.postMessage('changed');
    },
  };
}
