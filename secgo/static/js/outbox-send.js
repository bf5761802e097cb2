// The outbox's store and send rules, once for the page (outbox.js imports this file) and the
// service worker (importScripts). A classic script with no module syntax, so both can load it;
// it exposes one object, self.SecgoOutbox.
//
// An item goes out as a POST of its fields and photos (Blobs) with its Idempotency-Key, so a
// replay lands once. What the answer does to it:
//   2xx            sent: removed (kept without photos as a question when the server asks
//                  "did you mean ...?", state 'asked')
//   401, a redirect to /login, an expired CSRF token that a fresh one cannot fix
//                  login: kept, with everything after it, until the user logs in again
//   408, 425, 429, 5xx, network error or timeout, 3xx
//                  retry: kept, with everything after it; not before its Retry-After
//   other 4xx      failed: kept with the server's message for the user to fix or discard
// A held full photo (the data saver) is not sent until mayGo() says so.
/* eslint-env browser, serviceworker */
(function (scope) {
  'use strict';

  const DB_NAME = 'secgo-outbox';
  const SYNC_TAG = 'secgo-outbox'; // the Background Sync tag the page registers
  const LOCK = 'secgo-outbox'; // one replay at a time across tabs and the service worker
  const RETRY_STATUSES = [408, 425, 429];

  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('items')) {
          db.createObjectStore('items', { keyPath: 'seq', autoIncrement: true })
            .createIndex('key', 'key', { unique: true });
        }
        if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta');
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  // One transaction on one store ('items' or 'meta'): fn(store) -> its request's result.
  async function idb(storeName, mode, fn) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(storeName, mode);
        const req = fn(tx.objectStore(storeName));
        tx.oncomplete = () => resolve(req && req.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  // A tracking link's report (queued on its page, owner "t<link id>"): its URL carries its
  // credential (the link's secret) and needs no session, so any page or the worker sends it.
  const isLinkItem = (item) => /^t\d+$/.test(item.user || '');

  const allItems = () => idb('items', 'readonly', (s) => s.getAll());
  const putItem = (item) => idb('items', 'readwrite', (s) => s.put(item));
  const deleteItem = (seq) => idb('items', 'readwrite', (s) => s.delete(seq));

  // What an answer that is not a success means: 'login', 'retry' or 'failed'. A 429 that
  // names a field to change (a locked handover code: sign instead) is for the user to fix now.
  function outcomeOf(status, toLogin, code, fields) {
    if (status === 401 || toLogin || code === 'csrf') return 'login';
    if (status === 429 && fields && Object.keys(fields).length) return 'failed';
    if (status >= 500 || status < 400 || RETRY_STATUSES.includes(status)) return 'retry';
    return 'failed';
  }

  // Milliseconds a Retry-After header (seconds or an HTTP date) asks to wait, or 0.
  function retryAfterMs(response) {
    const value = (response.headers.get('Retry-After') || '').trim();
    if (!value) return 0;
    const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  }

  async function errorOf(response) {
    try {
      const { error } = await response.json();
      return { code: error.code || '', message: error.message || '', fields: error.fields || {} };
    } catch (err) {
      return { code: '', message: `${response.status} ${response.statusText}`.trim(), fields: {} };
    }
  }

  async function answerOf(response) {
    try {
      return (await response.json()) || {};
    } catch (err) {
      return { location: response.redirected ? response.url : null };
    }
  }

  // A hung connection must not hold the queue for ever: give up after a time that allows a
  // slow 2G upload (a minute, plus a second for every 4 KB), then retry with the same key.
  function deadline(item) {
    const bytes = item.files.reduce((sum, f) => sum + f.blob.size, 0);
    return AbortSignal.timeout ? AbortSignal.timeout(60000 + bytes / 4) : undefined;
  }

  // After a browser restart the session (and its CSRF token) is new while the long-lived login
  // still holds: ask the server who is logged in and for a token of this session.
  async function renewSession() {
    try {
      const response = await fetch('/offline', { credentials: 'same-origin', cache: 'no-store' });
      if (!response.ok) return { user: null, token: '' };
      const html = await response.text();
      const user = (/<body[^>]*\sdata-user="(\d*)"/.exec(html) || [])[1] || '';
      const token = (/name="csrf_token" value="([^"]+)"/.exec(html) || [])[1] || '';
      return { user, token };
    } catch (err) {
      return { user: null, token: '' };
    }
  }

  let freshToken = ''; // a token of this session, once renewSession found one
  let tokenWorked = false; // a post with the page's token was accepted: the token is current

  // One item -> { outcome: 'sent' | 'failed' | 'login' | 'retry', location, error, retryAfter }.
  // The store follows the outcome: sent items leave it, failed ones are marked.
  async function send(item, pageToken, renewed) {
    // Every byte goes up once: a report with photos or a voice note, sent with a token of an
    // earlier session (a page kept offline across a browser restart), would be refused and sent
    // again whole. Unless a token is known to be current, ask for one first (a small page).
    if (item.files.length && !isLinkItem(item) && !freshToken && !(tokenWorked && pageToken)
        && !renewed) { // (a tracking link's report needs no session, nor its token)
      const session = await renewSession();
      if (session.user !== null) { // (not known: send as before, and renew if refused)
        if (session.user !== item.user) return { outcome: 'login', error: { code: 'login' } };
        if (session.token) freshToken = session.token;
        renewed = true;
      }
    }
    // A report without files goes as a plain form: multipart's boundaries and headers would
    // double a text update's bytes on 2G. Its client id is the Idempotency-Key header's.
    const body = item.files.length ? new FormData() : new URLSearchParams();
    for (const [name, value] of item.fields) if (name !== 'client_id') body.append(name, value);
    for (const file of item.files) body.append(file.name, file.blob, file.filename);
    let response;
    try {
      response = await fetch(item.url, {
        method: 'POST',
        body,
        credentials: 'same-origin',
        signal: deadline(item),
        headers: {
          Accept: 'application/json',
          'Idempotency-Key': item.key,
          'X-CSRFToken': freshToken || pageToken || item.csrf || '',
        },
      });
    } catch (err) {
      return { outcome: 'retry', retryAfter: 0 };
    }
    const toLogin = response.redirected && new URL(response.url).pathname === '/login';
    if (response.ok && !toLogin) {
      if (!freshToken && pageToken) tokenWorked = true;
      const answer = await answerOf(response);
      if (answer.zawgyi_suggestion) await putItem({ ...item, state: 'asked', files: [], answer });
      else await deleteItem(item.seq);
      return { outcome: 'sent', location: answer.location || null };
    }
    const error = await errorOf(response);
    if (error.code === 'csrf' && !renewed) {
      const session = await renewSession();
      if (session.user === null) return { outcome: 'retry', retryAfter: 0 };
      if (session.user === item.user && session.token) {
        freshToken = session.token;
        return send(item, pageToken, true);
      }
    }
    const outcome = outcomeOf(response.status, toLogin, error.code, error.fields);
    if (outcome === 'failed') {
      await putItem({ ...item, state: 'failed', error: { status: response.status, ...error } });
    }
    return { outcome, error, retryAfter: retryAfterMs(response) };
  }

  // The data saver: a full photo whose preview went first waits (item.hold) until the link is
  // Wi-Fi or a cable, the saver is off, its sender taps "Send full photo now" or someone asked
  // for it (item.now). The service worker's Background Sync follows the same rule.
  function fastLink() {
    const link = scope.navigator && scope.navigator.connection;
    return !!link && (link.type === 'wifi' || link.type === 'ethernet');
  }

  async function saverOff() {
    const link = scope.navigator && scope.navigator.connection;
    if (link && link.saveData) return false;
    return (await idb('meta', 'readonly', (s) => s.get('saver'))) === false;
  }

  async function mayGo(item) {
    return !item.hold || !!item.now || fastLink() || saverOff();
  }

  // While the user's outbox holds full photos, ask which of them someone asked for.
  async function markWanted(user) {
    const held = (await allItems()).filter((i) => i.hold && !i.now && i.state === 'pending' && i.user === user);
    if (!held.length) return;
    try {
      const keys = held.map((i) => i.photoKey).slice(0, 50).join(',');
      const response = await fetch(`/photos/wanted?keys=${keys}`,
        { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!response.ok || response.redirected) return;
      const wanted = new Set((await response.json()).wanted || []);
      for (const item of held) if (wanted.has(item.photoKey)) await putItem({ ...item, now: true });
    } catch (err) {
      // Offline or signed out: the held photos wait, and are asked about next time.
    }
  }

  // Send the user's pending items (and any tracking link's) in order, one at a time across tabs and the worker, until
  // the queue is empty ({outcome: 'done'}) or an item must wait (its 'login' or 'retry'
  // result). onResult(item, result) hears each try.
  async function drain(user, pageToken, onResult) {
    const run = async () => {
      let after = 0;
      if (user) await markWanted(user);
      for (;;) {
        const items = await allItems(); // read again: items may come and go meanwhile
        let item = null;
        for (const i of items) {
          if (i.seq > after && i.state === 'pending' && ((user && i.user === user) || isLinkItem(i))) {
            if (await mayGo(i)) { item = i; break; }
          }
        }
        if (!item) return { outcome: 'done' };
        after = item.seq;
        const result = await send(item, pageToken, false);
        await onResult(item, result);
        if (result.outcome === 'login' || result.outcome === 'retry') return result;
      }
    };
    const locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request(LOCK, run) : run();
  }

  scope.SecgoOutbox = Object.freeze({
    SYNC_TAG,
    isLinkItem,
    idb,
    allItems,
    putItem,
    deleteItem,
    outcomeOf,
    send,
    drain,
    mayGo,
    freshToken: () => freshToken,
  });
}(self));
