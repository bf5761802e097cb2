// Notifications on this device: subscribe and unsubscribe through the service worker's
// PushManager, choose the events, and say plainly why push is impossible when it is.
import { gettext, loadCatalog } from './i18n.js';

const section = document.querySelector('[data-push]');

function explain(reason) {
  for (const p of section.querySelectorAll('[data-push-why]')) p.hidden = p.dataset.pushWhy !== reason;
}

function say(text) {
  section.querySelector('[data-push-state]').textContent = text;
}

function isIOS() {
  const ua = navigator.userAgent;
  return /iPad|iPhone|iPod/.test(ua) || (ua.includes('Macintosh') && navigator.maxTouchPoints > 1);
}

function isInstalled() {
  return navigator.standalone === true || window.matchMedia('(display-mode: standalone)').matches;
}

// Why push cannot work here, or '' when it can.
function obstacle() {
  if (!window.isSecureContext) return 'insecure';
  const able = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  if (!able) return isIOS() && !isInstalled() ? 'ios' : 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  return '';
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function chosenEvents() {
  return [...section.querySelectorAll('input[name="events"]:checked')].map((box) => box.value);
}

function showEvents(events) {
  for (const box of section.querySelectorAll('input[name="events"]')) box.checked = events.includes(box.value);
}

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'X-CSRFToken': section.dataset.csrf,
      'Idempotency-Key': crypto.randomUUID(),
    },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    const detail = Object.values(error.fields || {})[0];
    throw new Error(detail || error.message || gettext('Could not reach SEC GO!. Try again when you are online.'));
  }
  return data;
}

function showButtons(subscribed) {
  section.querySelector('[data-push-on]').hidden = subscribed;
  section.querySelector('[data-push-save]').hidden = !subscribed;
  section.querySelector('[data-push-off]').hidden = !subscribed;
}

async function registration() {
  const timeout = new Promise((resolve) => { setTimeout(() => resolve(null), 10000); });
  return Promise.race([navigator.serviceWorker.ready, timeout]);
}

async function turnOn(reg) {
  const events = chosenEvents();
  if (!events.length) {
    say(gettext('Choose at least one kind of notification.'));
    return;
  }
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    explain(permission === 'denied' ? 'denied' : '');
    say(gettext('Notifications were not allowed.'));
    return;
  }
  say(gettext('Turning on…'));
  let subscription = await reg.pushManager.getSubscription();
  const key = keyBytes(section.dataset.key);
  if (subscription && subscription.options && subscription.options.applicationServerKey) {
    const current = new Uint8Array(subscription.options.applicationServerKey);
    if (current.join() !== key.join()) {
      await subscription.unsubscribe();
      subscription = null;
    }
  }
  if (!subscription) {
    try {
      subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    } catch (error) {
      throw new Error(gettext('This browser could not reach its notification service. Check the connection and try again.'));
    }
  }
  try {
    await post(section.dataset.saveUrl, { subscription: subscription.toJSON(), events });
  } catch (error) {
    await subscription.unsubscribe().catch(() => {});
    throw error;
  }
  showButtons(true);
  say(gettext('Notifications are on for this device.'));
}

async function save(reg) {
  const events = chosenEvents();
  if (!events.length) {
    say(gettext('Choose at least one kind of notification, or turn notifications off.'));
    return;
  }
  const subscription = await reg.pushManager.getSubscription();
  if (!subscription) {
    showButtons(false);
    say(gettext('Notifications are off for this device.'));
    return;
  }
  await post(section.dataset.saveUrl, { subscription: subscription.toJSON(), events });
  say(gettext('Your choices are saved.'));
}

async function turnOff(reg) {
  const subscription = await reg.pushManager.getSubscription();
  if (subscription) {
    await post(section.dataset.removeUrl, { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
  }
  showButtons(false);
  say(gettext('Notifications are off for this device.'));
}

function guarded(action, reg) {
  return async () => {
    try {
      await action(reg);
    } catch (error) {
      say(error.message || gettext('Something went wrong. Please try again.'));
    }
  };
}

async function start() {
  await loadCatalog();
  const reason = obstacle();
  explain(reason);
  if (reason && reason !== 'denied') return;
  const reg = await registration();
  if (!reg || !reg.pushManager) {
    explain('unsupported');
    return;
  }
  section.querySelector('[data-push-form]').hidden = false;
  if (reason === 'denied') {
    section.querySelector('[data-push-on]').disabled = true;
    return;
  }
  section.querySelector('[data-push-on]').addEventListener('click', guarded(turnOn, reg));
  section.querySelector('[data-push-save]').addEventListener('click', guarded(save, reg));
  section.querySelector('[data-push-off]').addEventListener('click', guarded(turnOff, reg));
  const subscription = await reg.pushManager.getSubscription().catch(() => null);
  showButtons(Boolean(subscription));
  if (!subscription) {
    say(gettext('Notifications are off for this device.'));
    return;
  }
  say(gettext('Notifications are on for this device.'));
  try {
    // Re-send the subscription: the server refreshes its keys and tells us the saved events.
    const data = await post(section.dataset.saveUrl, { subscription: subscription.toJSON() });
    showEvents(data.subscription.events);
  } catch (error) {
    say(error.message);
  }
}

if (section) start();
