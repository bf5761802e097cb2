// SEC GO! service worker. Minimal for now: the offline issue adds caching and the outbox.
const VERSION = 'v1';
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
