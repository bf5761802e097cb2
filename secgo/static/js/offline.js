// Offline reading: registers the service worker, shows "offline — saved copy from <time>" on a
// saved page, offers "new version — reload" when an update waits, forgets the saved pages of
// a user on logout or when another user logs in, and offers installing the app.
import { formatMoment, gettext, loadCatalog } from './i18n.js';

const PAGES_PREFIX = 'secgo-pages-u';
let acceptedUpdate = false;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function bar(id, className) {
  let node = document.getElementById(id);
  if (!node) {
    node = el('div', className);
    node.id = id;
    node.setAttribute('role', 'status');
    const header = document.querySelector('.appbar');
    if (header) header.after(node);
    else document.body.prepend(node);
  }
  return node;
}

// The banner: a saved copy says so and from when; a live page says when the signal is gone.
function showConnection() {
  const savedAt = document.body.dataset.savedAt;
  const node = bar('offline-banner', 'offline-banner');
  node.replaceChildren();
  if (savedAt) {
    node.append(gettext('Offline — saved copy from %(time)s', { time: formatMoment(savedAt) }));
    if (navigator.onLine) {
      const reload = el('button', 'link', gettext('Reload'));
      reload.type = 'button';
      reload.addEventListener('click', () => location.reload());
      node.append(' ', reload);
    }
  } else if (!navigator.onLine) {
    node.append(gettext('Offline — what you send is kept on this phone and sent when the signal returns.'));
  }
  node.hidden = !node.childNodes.length;
  const note = document.querySelector('.offline-note');
  if (note) note.hidden = !(document.body.dataset.fallback || !navigator.onLine);
}

function showUpdate(worker) {
  const node = bar('update-prompt', 'update-prompt');
  node.replaceChildren(gettext('New version available.'), ' ');
  const button = el('button', 'btn small', gettext('Reload'));
  button.type = 'button';
  button.addEventListener('click', () => {
    acceptedUpdate = true;
    button.disabled = true;
    worker.postMessage({ type: 'skip-waiting' });
  });
  node.append(button);
}

async function forgetPages(keepUser) {
  if (!window.caches) return;
  const names = await caches.keys();
  await Promise.all(names
    .filter((name) => name.startsWith(PAGES_PREFIX) && name !== PAGES_PREFIX + keepUser)
    .map((name) => caches.delete(name)));
}

// A fresh page says who is logged in: other users' saved pages go, and the worker is told.
function rememberUser() {
  const body = document.body.dataset;
  if (body.savedAt || body.fallback) return;
  const user = body.user || '';
  forgetPages(user || null).catch(() => {});
  navigator.serviceWorker?.controller?.postMessage({ type: 'user', user });
}

// Logout: forget the saved pages first (the server's Clear-Site-Data also clears them).
function onLogout(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches('form[data-logout]')) return;
  event.preventDefault();
  navigator.serviceWorker?.controller?.postMessage({ type: 'logout' });
  const wait = new Promise((resolve) => { setTimeout(resolve, 1500); });
  Promise.race([forgetPages(null), wait]).catch(() => {}).then(() => form.submit());
}

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  let reg;
  try {
    reg = await navigator.serviceWorker.register('/service-worker.js', { scope: '/', updateViaCache: 'none' });
  } catch (err) {
    return; // no service worker (http, private mode): the page and the outbox work without it
  }
  if (reg.waiting && navigator.serviceWorker.controller) showUpdate(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const worker = reg.installing;
    if (!worker) return;
    worker.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) showUpdate(worker);
    });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (acceptedUpdate) location.reload();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && navigator.onLine) reg.update().catch(() => {});
  });
}

function offerInstall() {
  let deferred = null;
  const button = el('button', 'btn small install-app', gettext('Install app'));
  button.type = 'button';
  button.hidden = true;
  const footer = document.querySelector('.foot');
  if (!footer) return; // offered to people who are logged in, at the foot of the page
  footer.prepend(button);
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault();
    deferred = event;
    button.hidden = false;
  });
  button.addEventListener('click', async () => {
    if (!deferred) return;
    button.hidden = true;
    deferred.prompt();
    await deferred.userChoice.catch(() => {});
    deferred = null;
  });
  window.addEventListener('appinstalled', () => { button.hidden = true; });
}

export function initOffline() {
  document.addEventListener('submit', onLogout);
  rememberUser();
  offerInstall();
  registerWorker();
  showConnection();
  loadCatalog().then(showConnection, () => {});
  window.addEventListener('online', showConnection);
  window.addEventListener('offline', showConnection);
}
