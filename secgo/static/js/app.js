// Page entry: registers the service worker. Other modules add offline, push and photos.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/service-worker.js', { scope: '/' }).catch(() => {});
}
