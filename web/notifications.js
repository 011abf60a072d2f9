// Notifications, page side: the Settings section, the wipe hook (the server forgets this
// phone) and opening a tapped alert. "Near me" ticks the areas nearest the phone's
// position and forgets it: no location leaves the phone.
// kv "push": {id, endpoint, areas}; kv "notify-text": "neutral" (default) | "detailed".
import { h, status, errorList } from './dom.js';
import { t } from './i18n.js';
import * as db from './db.js';
import { api, memberToken, NetworkError } from './api.js';
import { cachedAreas, refreshAreas, myAreas, areaChips } from './areas.js';
import { addSettingsSection } from './screens/settings.js';
import { onWipe } from './wipe.js';
import { navigate } from './router.js';

const NEAREST = 3;
const subscriptionUrl = (id) => `/api/v1/push/subscriptions/${encodeURIComponent(id)}`;

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  const a = buffer ? new Uint8Array(buffer) : new Uint8Array();
  return a.length === bytes.length && a.every((byte, i) => byte === bytes[i]);
}

function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in globalThis && 'Notification' in globalThis;
}

// Each step throws an Error whose message is a catalogue key for the user.
async function browserSubscription() {
  const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('notify.blocked');
  const key = await api('/api/v1/push/key');
  if (!key.ok || !key.data) throw new Error('notify.not_ready');
  const bytes = keyBytes(key.data.public_key);
  const registration = await navigator.serviceWorker.getRegistration('/');
  if (!registration) throw new Error('notify.reload');
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options?.applicationServerKey, bytes)) {
    await subscription.unsubscribe(); // made for an old server key: push services refuse it
    subscription = null;
  }
  return subscription
    || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
}

async function turnOn(areas) {
  const subscription = await browserSubscription();
  const response = await api('/api/v1/push/subscriptions', {
    method: 'POST', body: { subscription: subscription.toJSON(), areas },
  });
  if (!response.ok) return response;
  const { id, endpoint } = response.data;
  await db.put('kv', { id, endpoint, areas: response.data.areas }, 'push');
  return response;
}

async function changeAreas(current, areas) {
  const response = await api(subscriptionUrl(current.id), { method: 'PUT', body: { areas } });
  // Gone on the server (the push service said so, or the server key changed): again.
  if (response.status === 404) return turnOn(areas);
  if (response.ok) await db.put('kv', { ...current, areas: response.data.areas }, 'push');
  return response;
}

async function forgetOnServer() {
  const current = await db.get('kv', 'push');
  if (!current) return;
  const response = await api(subscriptionUrl(current.id), { method: 'DELETE' });
  if (!response.ok && response.status !== 404 && response.status !== 401) throw new Error('notify.failed');
  await db.remove('kv', 'push');
}

async function turnOff() {
  await forgetOnServer();
  const registration = await navigator.serviceWorker.getRegistration('/');
  const subscription = registration && await registration.pushManager.getSubscription();
  if (subscription) await subscription.unsubscribe();
}

// The nearest areas to a position, by great-circle distance to each area's centre.
function nearest(areas, { latitude, longitude }, n = NEAREST) {
  const rad = Math.PI / 180;
  const distance = (area) => {
    const dLat = (area.latitude - latitude) * rad;
    const dLon = (area.longitude - longitude) * rad;
    const a = Math.sin(dLat / 2) ** 2
      + Math.cos(latitude * rad) * Math.cos(area.latitude * rad) * Math.sin(dLon / 2) ** 2;
    return Math.asin(Math.sqrt(a));
  };
  return areas.filter((area) => typeof area.latitude === 'number' && typeof area.longitude === 'number')
    .sort((a, b) => distance(a) - distance(b)).slice(0, n).map((area) => area.slug);
}

function textChoice(current) {
  const box = h('fieldset', { class: 'group' }, h('legend', {}, t('notify.text')),
    h('p', { class: 'hint' }, t('notify.text_hint')),
    ['neutral', 'detailed'].map((value) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'notify-text', value, checked: current === value }),
      h('span', {}, t(`notify.text_${value}`)))));
  return box;
}

async function render(section) {
  const message = status();
  // iOS 16.4+: Web Push only on the Home Screen. iPads say "Mac" (with touch).
  const ua = navigator.userAgent;
  if ((/iP(hone|ad|od)/.test(ua) || (/Mac/.test(ua) && navigator.maxTouchPoints > 1))
    && !matchMedia('(display-mode: standalone)').matches) {
    section.append(h('p', {}, t('notify.ios_home')), h('p', { class: 'hint' }, t('notify.ios_steps')));
    return;
  }
  if (!supported()) {
    section.append(h('p', {}, t('notify.unsupported')));
    return;
  }
  if (!(await memberToken())) {
    section.append(h('p', {}, t('notify.members_only'), ' ', h('a', { href: '/join' }, t('alerts.join_link'))));
    return;
  }
  const state = h('p', { class: 'notify-state' });
  const areasBox = h('div', { class: 'notify-areas' });
  // The long list of areas is folded, open while notifications are off.
  const summary = h('summary', {});
  const folded = h('details', { class: 'areas-list' }, summary, areasBox);
  const count = () => {
    const n = areasBox.querySelectorAll('input:checked').length;
    summary.textContent = n ? t('settings.areas_choose', { n }) : t('settings.areas_none');
  };
  areasBox.addEventListener('change', count);
  const near = h('button', { type: 'button', class: 'secondary' }, t('notify.near_me'));
  const nearBox = h('div', { class: 'actions' }, near);
  const save = h('button', { type: 'button', class: 'primary' });
  const off = h('button', { type: 'button', class: 'secondary' }, t('notify.turn_off'));
  const text = textChoice((await db.get('kv', 'notify-text')) || 'neutral');
  let areas = await cachedAreas();

  const chosen = () => [...areasBox.querySelectorAll('input:checked')].map((el) => el.value);
  const drawAreas = (ticked) => {
    areasBox.replaceChildren(...(areas.length ? areaChips(areas, 'notify-areas', ticked)
      : [h('p', { class: 'hint' }, t('settings.areas_offline'))]));
    count();
    nearBox.hidden = !('geolocation' in navigator) || !areas.some((a) => typeof a.latitude === 'number');
  };
  const drawState = async () => {
    const current = await db.get('kv', 'push');
    state.textContent = current ? t('notify.on', { n: current.areas.length }) : t('notify.off');
    save.textContent = current ? t('notify.save_areas') : t('notify.turn_on');
    off.hidden = !current;
    return current;
  };
  const current = await drawState();
  folded.open = !current;
  drawAreas(current ? current.areas : await myAreas());
  if (!areas.length) {
    refreshAreas().then(async (fresh) => {
      areas = fresh;
      if (fresh.length) drawAreas(((await db.get('kv', 'push')) || {}).areas || await myAreas());
    });
  }

  const busy = async (work) => {
    save.disabled = true;
    off.disabled = true;
    try {
      await work();
    } catch (error) {
      message.replaceChildren(error instanceof NetworkError ? t('notify.offline')
        : t(error.message.startsWith('notify.') ? error.message : 'notify.failed'));
    } finally {
      save.disabled = false;
      off.disabled = false;
      await drawState();
    }
  };

  save.addEventListener('click', () => busy(async () => {
    const slugs = chosen();
    if (!slugs.length) {
      message.textContent = t('notify.need_area');
      return;
    }
    message.textContent = t('notify.working');
    const now = await db.get('kv', 'push');
    const response = now ? await changeAreas(now, slugs) : await turnOn(slugs);
    if (response.ok) message.textContent = t(now ? 'settings.saved' : 'notify.turned_on');
    else if (response.status === 409) message.textContent = t('notify.too_many');
    else if (response.status === 401) message.textContent = t('notify.members_only');
    else if (response.status === 422 && response.data) {
      message.replaceChildren(t('notify.failed'), errorList(response.data.errors));
    } else message.textContent = t('notify.failed');
  }));

  off.addEventListener('click', () => busy(async () => {
    message.textContent = t('notify.working');
    await turnOff();
    message.textContent = t('notify.turned_off');
  }));

  near.addEventListener('click', () => {
    message.textContent = t('notify.locating');
    navigator.geolocation.getCurrentPosition((position) => {
      // Used here and dropped: never stored, never sent.
      const close = nearest(areas, position.coords);
      drawAreas([...new Set([...chosen(), ...close])]);
      folded.open = true; // show what was ticked
      message.textContent = t('notify.near_done', { n: close.length });
    }, () => { message.textContent = t('notify.no_location'); }, { maximumAge: 600000, timeout: 20000 });
  });

  text.addEventListener('change', async (event) => {
    await db.put('kv', event.target.value, 'notify-text');
    message.textContent = t('settings.saved');
  });

  section.append(state,
    h('fieldset', { class: 'group' }, h('legend', {}, t('notify.areas')),
      h('p', { class: 'hint' }, t('notify.areas_hint')), nearBox, folded),
    h('div', { class: 'actions' }, save, off), text, message);
}

addSettingsSection({ id: 'notifications', render });

// Wipe: the server forgets this phone's subscription too (wipe.js unsubscribes the browser).
onWipe(forgetOnServer);

// A tapped notification while the app is open: the service worker asks us to show it.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'OPEN_ALERT' && event.data.id) {
      navigate(`/alerts?id=${event.data.id}`);
    }
  });
}
