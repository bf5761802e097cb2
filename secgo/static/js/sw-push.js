// Push handlers of the service worker, loaded by service-worker.js with importScripts().
// The server sends {title, body, url, tag, lang, renotify, timestamp} already in the
// recipient's language; this only shows it and opens the right page on a tap.
/* eslint-env serviceworker */

function samePageUrl(url) {
  try {
    const target = new URL(url || '/', self.location.origin);
    return target.origin === self.location.origin ? target.href : self.location.origin + '/';
  } catch (e) {
    return self.location.origin + '/';
  }
}

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { body: event.data ? event.data.text() : '' };
  }
  const options = {
    body: data.body || '',
    tag: data.tag || 'secgo',
    renotify: Boolean(data.renotify && data.tag),
    lang: data.lang || '',
    icon: '/static/icons/icon-192.png',
    data: { url: samePageUrl(data.url), id: data.id || null },
  };
  if (data.timestamp) options.timestamp = data.timestamp;
  event.waitUntil(self.registration.showNotification(data.title || 'SEC GO!', options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = samePageUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const exact = windows.find((client) => client.url === target);
    if (exact) return exact.focus();
    const ours = windows.find((client) => new URL(client.url).origin === self.location.origin);
    if (ours) {
      // navigate() gives null (or fails) for a window this worker does not control.
      const navigated = await ours.navigate(target).catch(() => null);
      if (navigated) return navigated.focus().catch(() => navigated);
    }
    return self.clients.openWindow(target);
  })());
});

// Logging out (offline.js tells the worker) ends this device's notifications: the push
// service then answers 410 and the server forgets the subscription.
self.addEventListener('message', (event) => {
  if (!event.data || event.data.type !== 'logout') return;
  event.waitUntil(self.registration.pushManager.getSubscription()
    .then((subscription) => subscription && subscription.unsubscribe())
    .catch(() => {}));
});
