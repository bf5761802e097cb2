// SEC GO! service worker: app shell precache, network-first pages kept per user, the outbox's
// Background Sync replay. The server fills in BUILD and SHELL when it serves this file, so
// any change to the app shell changes these bytes and the browser installs the new version.
const BUILD = 'dev'; // replaced when served: a hash of the app shell
const SHELL = ['/offline']; // replaced when served: the shell's fingerprinted URLs
const SHELL_CACHE = `secgo-shell-${BUILD}`;
const PAGES_PREFIX = 'secgo-pages-u'; // one cache per user: secgo-pages-u<id>
// Tracking-link pages (/t/<secret>), for a clerk who opened the link with a signal and needs
// it again in the warehouse without one. Kept apart from any user's pages, each under its own
// URL, which holds the link's secret: another link holder never matches it. A copy is kept
// for LINK_PAGE_DAYS at most and dropped when the link answers 404 or 410 (revoked, expired).
const LINK_PAGES = 'secgo-link-pages';
const LINK_PAGE_DAYS = 7;
const NAV_TIMEOUT_MS = 3000;

importScripts('/static/js/sw-push.js');
importScripts('/static/js/outbox-send.js'); // the outbox's store and send rules, as the page's
const outbox = self.SecgoOutbox;

// --- install: precache the shell; the new version then waits for the page's "reload" ------
self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // Fetched without cookies: the saved /offline page then holds nobody's data.
    await cache.addAll(SHELL.map((url) => new Request(url, { credentials: 'omit', cache: 'reload' })));
  })());
});

// --- activate: remove other versions' shell caches, take control ----------------------------
self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith('secgo-shell-') && name !== SHELL_CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'skip-waiting') self.skipWaiting();
  else if (data.type === 'logout') event.waitUntil(forgetPages(null));
  else if (data.type === 'user') event.waitUntil(setUser(String(data.user || '')));
  else if (data.type === 'replay') event.waitUntil(replay().catch(() => {}));
});

// --- fetch ------------------------------------------------------------------------------------
self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(page(event));
  } else if ((url.pathname.startsWith('/static/') && url.searchParams.has('v'))
             || url.pathname.startsWith('/i18n/')) {
    event.respondWith(immutable(request)); // the URL names the content: cache-first is safe
  } else if (url.pathname.startsWith('/static/')) {
    event.respondWith(networkFirst(request, SHELL_CACHE));
  } else if (request.destination === 'image') {
    event.respondWith(userImage(event)); // photos of the user's orders, kept with their pages
  }
});

async function immutable(request) {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(request, cacheName) {
  try {
    const response = await fetch(request);
    if (response.ok) await (await caches.open(cacheName)).put(request, response.clone());
    return response;
  } catch (err) {
    const hit = await caches.match(request, { cacheName, ignoreSearch: true });
    if (hit) return hit;
    throw err;
  }
}

const isLinkPath = (url) => new URL(url).pathname.startsWith('/t/');

async function userImage(event) {
  if (isLinkPath(event.request.url)) return networkFirst(event.request, LINK_PAGES);
  const user = await getUser();
  try {
    const response = await fetch(event.request);
    if (user && response.ok && response.type === 'basic') {
      const copy = response.clone();
      event.waitUntil(caches.open(PAGES_PREFIX + user).then((c) => c.put(event.request, copy)));
    }
    return response;
  } catch (err) {
    const hit = user && await (await caches.open(PAGES_PREFIX + user)).match(event.request);
    if (hit) return hit;
    throw err;
  }
}

// Pages: network first with a short timeout; the user's saved copy when the network fails or
// is slow; never cache-first. The saved copy is marked so the page shows its banner.
async function page(event) {
  const request = event.request;
  const network = fetch(request);
  // Registered first, so the copy is taken before the page reads the body; the worker stays
  // alive until it is saved, even when the saved copy answered first.
  event.waitUntil(network.then((response) => remember(request, response.clone())).catch(() => {}));
  let timer;
  const slow = new Promise((resolve) => { timer = setTimeout(resolve, NAV_TIMEOUT_MS, 'slow'); });
  try {
    const first = await Promise.race([network, slow]);
    if (first !== 'slow') {
      if (first.status < 500) return first;
      return (await savedCopy(request)) || first;
    }
    const saved = await savedCopy(request);
    if (saved) {
      network.catch(() => {});
      return saved; // the network answer still refreshes the cache when it comes
    }
    return await network;
  } catch (err) {
    return (await savedCopy(request)) || offlinePage();
  } finally {
    clearTimeout(timer);
  }
}

// Keep a fresh page in its user's cache; a page of another user (or of nobody) first clears
// every other user's pages, so after logout nobody is shown the previous user's pages.
async function remember(request, response) {
  if (isLinkPath(request.url)) {
    await rememberLinkPage(request, response);
    return;
  }
  const type = response.headers.get('Content-Type') || '';
  if (response.status !== 200 || response.type !== 'basic' || response.redirected
      || !type.startsWith('text/html')) return;
  const html = await response.clone().text();
  const match = /<body[^>]*\sdata-user="(\d*)"/.exec(html);
  if (!match) return;
  const user = match[1];
  await setUser(user);
  if (!user || /no-store/.test(response.headers.get('Cache-Control') || '')) return;
  const headers = new Headers(response.headers);
  headers.set('X-Secgo-Saved-At', new Date().toISOString());
  const cache = await caches.open(PAGES_PREFIX + user);
  await cache.put(request, new Response(html, { status: 200, headers }));
  // The offline page in this user's language, for pages never opened.
  const lang = (/<html[^>]*\slang="([\w-]*)"/.exec(html) || [])[1] || '';
  const offline = await cache.match('/offline');
  if (!offline || offline.headers.get('X-Secgo-Lang') !== lang) {
    const fresh = await fetch('/offline', { credentials: 'same-origin' });
    if (fresh.ok && !fresh.redirected) {
      const h = new Headers(fresh.headers);
      h.set('X-Secgo-Lang', lang);
      await cache.put('/offline', new Response(await fresh.text(), { status: 200, headers: h }));
    }
  }
}

// A tracking link's page: kept under its own URL; its end (404, 410) removes it.
async function rememberLinkPage(request, response) {
  const cache = await caches.open(LINK_PAGES);
  if (response.status === 404 || response.status === 410) {
    await cache.delete(request, { ignoreSearch: true });
    return;
  }
  const type = response.headers.get('Content-Type') || '';
  if (response.status !== 200 || response.type !== 'basic' || response.redirected
      || !type.startsWith('text/html')) return;
  const headers = new Headers(response.headers);
  headers.set('X-Secgo-Saved-At', new Date().toISOString());
  await cache.put(request, new Response(await response.text(), { status: 200, headers }));
}

async function savedLinkPage(request) {
  const cache = await caches.open(LINK_PAGES);
  const hit = await cache.match(request, { ignoreVary: true, ignoreSearch: true });
  if (!hit) return null;
  const savedAt = hit.headers.get('X-Secgo-Saved-At') || '';
  if (!(Date.now() - Date.parse(savedAt) < LINK_PAGE_DAYS * 86400000)) {
    await cache.delete(request, { ignoreSearch: true });
    return null;
  }
  return markBody(hit, `data-saved-at="${savedAt.replace(/[^\w:.+-]/g, '')}"`);
}

async function savedCopy(request) {
  if (isLinkPath(request.url)) return savedLinkPage(request);
  const user = await getUser();
  if (!user) return null;
  const cache = await caches.open(PAGES_PREFIX + user);
  const hit = await cache.match(request, { ignoreVary: true });
  if (!hit) return null;
  const savedAt = hit.headers.get('X-Secgo-Saved-At') || '';
  return markBody(hit, `data-saved-at="${savedAt.replace(/[^\w:.+-]/g, '')}"`);
}

async function offlinePage() {
  const user = await getUser();
  const own = user && await (await caches.open(PAGES_PREFIX + user)).match('/offline');
  const hit = own || await caches.match('/offline', { cacheName: SHELL_CACHE, ignoreSearch: true });
  if (hit) return markBody(hit, 'data-fallback="1"');
  // No copy of /offline at all (the shell's install failed): the worker does not know the
  // reader's language, so the word is said in all six (translations/GLOSSARY.md, "offline").
  const words = 'Offline · គ្មានអ៊ីនធឺណិត · ບໍ່ມີອິນເຕີເນັດ · အင်တာနက် မရှိ · ออฟไลน์ · Mất mạng';
  return new Response(`<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>SEC GO!</title><p>${words}</p>`,
    { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}

async function markBody(response, attribute) {
  const html = (await response.text()).replace('<body ', `<body ${attribute} `);
  const headers = new Headers(response.headers);
  headers.delete('Content-Length');
  headers.delete('Content-Encoding');
  return new Response(html, { status: 200, headers });
}

// --- who is logged in (last fresh page seen), kept in IndexedDB so it survives restarts ------
let currentUser;

async function getUser() {
  if (currentUser === undefined) {
    currentUser = (await outbox.idb('meta', 'readonly', (store) => store.get('user'))) || '';
  }
  return currentUser;
}

async function setUser(user) {
  const before = await getUser();
  if (user !== before) {
    await forgetPages(user || null);
    currentUser = user;
    await outbox.idb('meta', 'readwrite', (store) => store.put(user, 'user'));
  }
}

async function forgetPages(keepUser) {
  const names = await caches.keys();
  await Promise.all(names
    .filter((name) => name.startsWith(PAGES_PREFIX) && name !== PAGES_PREFIX + keepUser)
    .map((name) => caches.delete(name)));
}

// --- outbox replay on Background Sync (the page replays too, without a service worker) -------
// outbox-send.js decides what each answer does; a 'retry' fails the sync event, so the browser
// fires it again later; a 'login' waits for a page, where the user logs in.
self.addEventListener('sync', (event) => {
  if (event.tag === outbox.SYNC_TAG) event.waitUntil(replay());
});

async function replay() {
  const user = await getUser(); // none: only tracking links' reports (outbox-send.js)
  const last = await outbox.drain(user, '', async (item, result) => {
    if (result.outcome !== 'sent') return;
    await tellPages({
      type: 'outbox-sent', key: item.key, page: item.page, label: item.label,
      location: result.location,
    });
  });
  await tellPages({ type: 'outbox-changed' });
  if (last.outcome === 'retry') throw new Error('outbox: will retry');
}

async function tellPages(message) {
  const windows = await self.clients.matchAll({ type: 'window' });
  windows.forEach((client) => client.postMessage(message));
}
