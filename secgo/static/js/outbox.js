// The outbox: every write form (form[data-outbox]) is kept in IndexedDB with a fresh
// Idempotency-Key, shown at once as "waiting to send", and sent in order: right away, on
// `online`, on page load, on a timer with back-off, and by the service worker's Background
// Sync. The server answers a replayed key with its first answer, so each report lands once.
// What each answer does to an item is outbox-send.js's, which the service worker uses too.
// A sent item whose answer carries `zawgyi_suggestion` stays, without its photos, as the
// question "did you mean ...?" (state 'asked', shown and answered by zawgyi.js).
// With the data saver on, photos go as small previews and each full photo waits as its own
// item (hold: true) until Wi-Fi, a tap on "Send full photo now", or someone asks for it.
import { formatMoment, gettext, ngettext, loadCatalog } from './i18n.js';
import './outbox-send.js'; // a classic script (the worker's importScripts): sets self.SecgoOutbox

const FIRST_RETRY_MS = 5000;
const MAX_RETRY_MS = 5 * 60 * 1000;
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000; // a server's Retry-After is honoured up to an hour
const WAIT_FOR_ANSWER_MS = 10000; // a quicker answer is shown in the form; later, in the entry
const DOUBLE_TAP_MS = 1500;
const MAX_LABEL = 140;

// --- storage (outbox-send.js: the store and the send rules, shared with the service worker) ---

const { idb, allItems, putItem, deleteItem, isLinkItem } = self.SecgoOutbox;
export { allItems };

// The logged-in user: the page's data-user, except on the saved /offline page, which belongs
// to nobody: then the last user the service worker or a fresh page saw.
export async function currentUser() {
  if (!document.body.dataset.fallback) return document.body.dataset.user || '';
  return (await idb('meta', 'readonly', (s) => s.get('user'))) || '';
}

// Whose reports a page queues and shows: a tracking link's page says its link
// (data-outbox-owner="t<id>"), whoever is logged in; any other page, the logged-in user.
async function owner() {
  return document.body.dataset.outboxOwner || currentUser();
}

// --- queueing -------------------------------------------------------------------------------

// The data saver: chosen in Settings or asked by the browser (the page's data-saver says both
// the setting and a Save-Data header; saveData is the browser's own word).
export function saverOn() {
  return 'saver' in document.body.dataset || !!(navigator.connection && navigator.connection.saveData);
}

function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function formData(form, submitter) {
  try {
    return new FormData(form, submitter || undefined);
  } catch (err) {
    const data = new FormData(form); // browsers without the submitter argument
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    return data;
  }
}

function describe(form, submitter) {
  const label = form.dataset.outboxLabel
    || (submitter && submitter.textContent.trim())
    || form.getAttribute('aria-label') || document.title;
  const text = form.querySelector('textarea, input[type=text], input:not([type])');
  const summary = text && text.value.trim() ? text.value.trim().slice(0, MAX_LABEL) : '';
  return { label: label.slice(0, MAX_LABEL), summary };
}

// Photos are made smaller as soon as they are chosen, while the person writes the note, and
// the result is used when the report is queued: made after the tap, a page busy queueing gave
// the browser no idle moment, and each of its JPEG encodings waited about a second (Chromium:
// four seconds a photo before anything was sent). Kept per file and per data-saver choice.
const prepared = new WeakMap();
const OWN_FILES = new Set(['voice', 'document', 'signature']); // sent as they are

function prepare(file, saver) {
  let byChoice = prepared.get(file);
  if (!byChoice) {
    byChoice = new Map();
    prepared.set(file, byChoice);
  }
  if (!byChoice.has(saver)) {
    // Loaded only when a photo is chosen: it stays off the first load of every page.
    const made = import('./photos.js').then(({ preparePhoto }) => preparePhoto(file, { saver }));
    byChoice.set(saver, made);
    made.catch(() => byChoice.delete(saver)); // a failure is not kept: queueing tries again
  }
  return byChoice.get(saver);
}

// Whether a file of this field goes as a data-saver preview: a tracking link's report has no
// sender to send the full photo later, so its photos always go whole.
function previewFirst(who, name) {
  return name === 'photos' && saverOn() && !isLinkItem({ user: who });
}

async function onFileChosen(event) {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== 'file' || OWN_FILES.has(input.name)) return;
  if (!input.closest('form[data-outbox]') || !input.files) return;
  const files = [...input.files].filter((file) => file.type.startsWith('image/'));
  if (!files.length) return;
  const saver = previewFirst(await owner(), input.name);
  for (const file of files) prepare(file, saver).catch(() => {});
}

export async function enqueue(form, submitter) {
  const key = uuid();
  const fields = [];
  const files = [];
  const fulls = []; // the data saver: full photos that follow their previews
  const previewKeys = [];
  const who = await owner();
  let csrf = '';
  for (const [name, value] of formData(form, submitter).entries()) {
    if (name === 'csrf_token') csrf = value; // sent as a header: a fresher one may replace it
    else if (name === 'client_id') fields.push([name, key]);
    else if (name === 'occurred_at' && !value) fields.push([name, new Date().toISOString()]);
    else if (typeof value === 'string') fields.push([name, value]);
    else if (name === 'voice' && (value.size > 0 || value.name)) {
      files.push({ name, blob: value, filename: value.name || 'voice.webm' }); // kept as recorded
    } else if (name === 'document' && (value.size > 0 || value.name)) {
      files.push({ name, blob: value, filename: value.name || 'document' }); // a PDF: as chosen
    } else if (name === 'signature' && value.size > 0) {
      files.push({ name, blob: value, filename: 'signature.png' }); // a drawing: PNG, as drawn
    } else if (value.size > 0 || value.name) {
      const photo = await prepare(value, previewFirst(who, name));
      if (photo.preview) {
        const photoKey = uuid();
        files.push({ name, blob: photo.preview.blob, filename: photo.preview.filename, photoKey });
        fulls.push({ photoKey, blob: photo.blob, filename: photo.filename });
        previewKeys.push(photoKey);
      } else {
        files.push({ name, blob: photo.blob, filename: photo.filename });
        if (name === 'photos') previewKeys.push('');
      }
    }
  }
  if (fulls.length) previewKeys.forEach((k) => fields.push(['preview_keys', k]));
  const action = new URL(form.getAttribute('action') || location.href, location.href);
  const item = {
    key,
    url: action.pathname + action.search,
    fields,
    files,
    csrf,
    created: Date.now(),
    state: 'pending',
    error: null,
    user: who,
    page: location.pathname + location.search,
    ...describe(form, submitter),
  };
  item.seq = await putItem(item);
  for (const full of fulls) { // after the report: its preview is on the server first
    await putItem({
      key: uuid(),
      url: `/photos/${full.photoKey}/full`,
      fields: [],
      files: [{ name: 'photo', blob: full.blob, filename: full.filename }],
      csrf,
      created: item.created,
      state: 'pending',
      error: null,
      hold: true,
      photoKey: full.photoKey,
      parent: key,
      user: item.user,
      page: item.page,
      label: gettext('Full photo'),
      summary: item.label,
    });
  }
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  return item;
}

async function requestSync() {
  try {
    const reg = await navigator.serviceWorker?.ready;
    if (reg && reg.sync) await reg.sync.register(self.SecgoOutbox.SYNC_TAG);
  } catch (err) {
    // No Background Sync (Safari, Firefox, in-app browsers): online, load and the timer do it.
  }
}

// --- sending --------------------------------------------------------------------------------

function pageToken() {
  if (self.SecgoOutbox.freshToken()) return self.SecgoOutbox.freshToken();
  if (document.body.dataset.fallback) return '';
  const input = document.querySelector('input[name=csrf_token]');
  return input ? input.value : '';
}

let running = null;
let again = false;
let failures = 0;
let timer = null;
let needsLogin = false;
let pendingSubmit = null; // the key a form on this page is waiting for

async function pass(outcomes) {
  const user = await currentUser();
  if (!user) { // a tracking link's reports go all the same: their URL is their credential
    needsLogin = (await allItems()).some((i) => i.state === 'pending' && !isLinkItem(i));
  }
  const last = await self.SecgoOutbox.drain(user, pageToken(), (item, result) => {
    if (!outcomes.has(item.key)) outcomes.set(item.key, result); // the first try decides
    if (result.outcome === 'sent') onSent(item.page, item.label);
  });
  if (user) needsLogin = last.outcome === 'login';
  if (last.outcome === 'retry') {
    requestSync(); // the worker may send it when the signal is back, even with no page open
    schedule(true, last.retryAfter);
  } else if (last.outcome === 'done') {
    failures = 0;
  }
}

// Replay everything that waits, in order, once at a time across tabs and the service worker.
export function replay() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    const outcomes = new Map();
    try {
      do {
        again = false;
        await pass(outcomes);
      } while (again);
    } catch (err) {
      schedule(true);
    } finally {
      running = null;
      await refresh();
    }
    return outcomes;
  })();
  return running;
}

// The next try: back-off with jitter, never sooner than a Retry-After the server asked for.
function schedule(failed, retryAfter = 0) {
  if (failed) failures += 1;
  clearTimeout(timer);
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
  const delay = Math.max(base * (0.75 + Math.random() / 2), Math.min(retryAfter, MAX_RETRY_AFTER_MS));
  timer = setTimeout(replay, delay);
}

// --- what the page shows ------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function stateChip(item) {
  if (item.state === 'failed') return el('span', 'chip chip-failed', gettext('not sent'));
  if (item.hold && !item.now) return el('span', 'chip chip-waiting', gettext('waiting for Wi-Fi'));
  return el('span', 'chip chip-waiting', gettext('waiting to send'));
}

function entry(item, tag) {
  const node = el(tag, `outbox-entry outbox-${item.state}`);
  node.dataset.outboxKey = item.key;
  const head = el('div', 'outbox-head');
  head.append(stateChip(item), el('strong', '', item.label));
  node.append(head);
  if (item.summary) node.append(el('p', 'outbox-summary', item.summary));
  const meta = el('p', 'muted small');
  const time = el('time', '', formatMoment(item.created));
  time.dateTime = new Date(item.created).toISOString();
  meta.append(time);
  const photos = item.files.filter((f) => f.name !== 'voice' && f.name !== 'document').length;
  if (photos) meta.append(' · ', ngettext('%(n)s photo', '%(n)s photos', photos));
  if (item.files.some((f) => f.name === 'voice')) meta.append(' · ', gettext('voice note'));
  if (item.files.some((f) => f.name === 'document')) meta.append(' · ', gettext('document'));
  node.append(meta);
  if (item.state === 'failed' && item.error) {
    const main = item.error.message || gettext('The server refused this report.');
    node.append(el('p', 'error', main));
    const details = new Set(Object.values(item.error.fields || {}).filter((m) => m && m !== main));
    details.forEach((message) => node.append(el('p', 'error small', message)));
  }
  return node;
}

// Pending reports of this page, at the top of its timeline (or a notice when it has none).
function showOnPage(items) {
  const target = document.querySelector('[data-outbox-target]');
  document.querySelectorAll('[data-outbox-key]:not(.outbox-view *)').forEach((n) => n.remove());
  const here = items.filter((i) => i.page === location.pathname + location.search);
  if (!here.length) return;
  if (target) {
    const tag = ['OL', 'UL'].includes(target.tagName) ? 'li' : 'div';
    here.slice().reverse().forEach((item) => target.prepend(entry(item, tag)));
  } else {
    const box = el('div', 'outbox-notice');
    box.dataset.outboxKey = 'notice';
    box.setAttribute('role', 'status');
    here.forEach((item) => box.append(entry(item, 'div')));
    document.querySelector('main')?.prepend(box);
  }
}

function showBadge(count, anyFailed) {
  const badge = document.getElementById('sync-badge');
  const number = document.getElementById('sync-count');
  if (!badge || !number) return;
  number.textContent = String(count);
  badge.hidden = count === 0;
  badge.classList.toggle('has-failed', anyFailed);
  badge.setAttribute('aria-label', ngettext('%(n)s report waiting to send', '%(n)s reports waiting to send', count));
}

function showLoginPrompt(count) {
  let box = document.getElementById('outbox-login');
  if (!needsLogin || !count || location.pathname === '/login') {
    box?.remove();
    return;
  }
  if (!box) {
    box = el('p', 'flash flash-error');
    box.id = 'outbox-login';
    box.setAttribute('role', 'alert');
    document.querySelector('main')?.prepend(box);
  }
  box.textContent = ngettext(
    '%(n)s report is kept on this phone until you log in again.',
    '%(n)s reports are kept on this phone until you log in again.', count,
  ) + ' ';
  const link = el('a', '', gettext('Log in'));
  link.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  box.append(link);
}

// The outbox view on /offline: every item with retry and discard.
function showOutboxView(mine, others) {
  const list = document.getElementById('outbox-list');
  if (!list) return;
  list.classList.add('outbox-view');
  list.replaceChildren();
  if (!mine.length && !others.length) {
    list.append(el('li', 'muted', gettext('Nothing is waiting.')));
    return;
  }
  for (const item of mine) {
    const node = entry(item, 'li');
    const urls = item.files.filter((f) => f.blob.type.startsWith('image/'));
    if (urls.length) {
      const row = el('div', 'outbox-photos');
      urls.forEach((f) => {
        const img = el('img');
        img.alt = '';
        img.addEventListener('error', () => img.remove()); // not a picture after all
        img.src = URL.createObjectURL(f.blob);
        row.append(img);
      });
      node.append(row);
    }
    const actions = el('div', 'outbox-actions');
    const held = item.hold && !item.now && item.state === 'pending';
    const retry = el('button', 'btn small', item.state === 'failed' ? gettext('Try again')
      : held ? gettext('Send full photo now') : gettext('Send now'));
    retry.type = 'button';
    retry.dataset.outboxRetry = String(item.seq);
    const discard = el('button', 'btn small danger', gettext('Discard'));
    discard.type = 'button';
    discard.dataset.outboxDiscard = String(item.seq);
    actions.append(retry, discard);
    if (item.page) {
      const open = el('a', 'btn small', gettext('Open page'));
      open.href = item.page;
      actions.append(open);
    }
    node.append(actions);
    list.append(node);
  }
  if (others.length) {
    list.append(el('li', 'muted', ngettext(
      '%(n)s report of another account waits until that account logs in again.',
      '%(n)s reports of another account wait until that account logs in again.', others.length,
    )));
  }
}

// A report of this page went out in the background: say so, and offer the fresh page.
function showSent(label) {
  let box = document.getElementById('outbox-sent');
  if (!box) {
    box = el('p', 'flash flash-success');
    box.id = 'outbox-sent';
    box.setAttribute('role', 'status');
    document.querySelector('main')?.prepend(box);
  }
  box.replaceChildren(gettext('Sent: %(label)s', { label }), ' ');
  const reload = el('button', 'link', gettext('Show it'));
  reload.type = 'button';
  reload.addEventListener('click', () => location.reload());
  box.append(reload);
}

function onSent(page, label) {
  if (page === location.pathname + location.search && !pendingSubmit) showSent(label);
}

export async function refresh() {
  let items;
  try {
    items = await allItems();
  } catch (err) {
    return;
  }
  const user = await owner();
  const asked = items.filter((i) => i.state === 'asked' && (!user || i.user === user));
  items = items.filter((i) => i.state !== 'asked');
  const mine = user ? items.filter((i) => i.user === user) : items;
  const others = user ? items.filter((i) => i.user !== user) : [];
  showBadge(mine.length, mine.some((i) => i.state === 'failed'));
  showLoginPrompt(mine.filter((i) => i.state === 'pending').length);
  showOnPage(mine);
  showOutboxView(mine, others);
  showSendFull(mine);
  await showAsked(asked);
}

// Under a preview on its order's page (templates/_preview.html): "Send full photo now", when
// this phone holds that full photo.
function showSendFull(mine) {
  const held = new Set(mine.filter((i) => i.hold && i.state === 'pending').map((i) => i.photoKey));
  document.querySelectorAll('[data-send-full]').forEach((button) => {
    button.hidden = !held.has(button.dataset.sendFull);
  });
}

async function sendFullNow(photoKey) {
  const item = (await allItems()).find((i) => i.hold && i.photoKey === photoKey);
  if (item) await putItem({ ...item, now: true, state: 'pending', error: null });
  failures = 0;
  await replay();
}

async function showAsked(asked) {
  if (!asked.length) {
    document.querySelectorAll('[data-zawgyi-for]').forEach((n) => n.remove());
    return;
  }
  try {
    (await import('./zawgyi.js')).showQuestions(asked, tools);
  } catch (err) {
    // Offline before the module was ever cached: the question waits for a later page.
  }
}

// What zawgyi.js (loaded only when a question waits) uses from here.
const tools = { idb, el, uuid, pageToken, refresh, sendFirst, openAnswer };

async function onOutboxClick(event) {
  const retry = event.target.closest('[data-outbox-retry]');
  const discard = event.target.closest('[data-outbox-discard]');
  const choice = event.target.closest('[data-zawgyi-choice]');
  const full = event.target.closest('[data-send-full]');
  if (full) {
    await sendFullNow(full.dataset.sendFull);
  } else if (choice) {
    await (await import('./zawgyi.js')).choose(choice, tools);
  } else if (retry) {
    const seq = Number(retry.dataset.outboxRetry);
    const item = (await allItems()).find((i) => i.seq === seq);
    if (item) await putItem({ ...item, state: 'pending', error: null, now: true });
    failures = 0;
    await replay();
  } else if (discard) {
    // The one way an item leaves without being sent: the user says so.
    if (!window.confirm(gettext('Discard this report? It will not be sent.'))) return;
    const seq = Number(discard.dataset.outboxDiscard);
    const items = await allItems();
    const item = items.find((i) => i.seq === seq);
    await deleteItem(seq);
    for (const child of items) { // a report's full photos go with it
      if (item && child.parent === item.key) await deleteItem(child.seq);
    }
    await refresh();
  }
}

// --- forms ----------------------------------------------------------------------------------

function showFormErrors(form, error) {
  form.querySelectorAll('.outbox-error').forEach((n) => n.remove());
  const top = el('p', 'flash flash-error outbox-error', error.message || gettext('The server refused this report.'));
  top.setAttribute('role', 'alert');
  form.prepend(top);
  for (const [name, message] of Object.entries(error.fields || {})) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) continue;
    input.setAttribute('aria-invalid', 'true');
    input.closest('.field')?.classList.add('has-error');
    input.after(el('small', 'error outbox-error', message));
  }
}

// Put a refused report back into its form, photos included, so it can be fixed and sent.
function restoreForm(form, item) {
  for (const [name, value] of item.fields) {
    for (const input of form.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
      if (['hidden', 'submit', 'file'].includes(input.type) || input.tagName === 'BUTTON') continue;
      if (input.type === 'checkbox' || input.type === 'radio') {
        if (input.value === value && !input.checked) {
          input.checked = true;
          input.dispatchEvent(new Event('change', { bubbles: true })); // the page follows the choice
        }
      } else {
        input.value = value;
      }
    }
  }
  if (!window.DataTransfer) return;
  const byName = new Map();
  for (const f of item.files) {
    if (!byName.has(f.name)) byName.set(f.name, new DataTransfer());
    byName.get(f.name).items.add(new File([f.blob], f.filename, { type: f.blob.type }));
  }
  for (const [name, transfer] of byName) {
    const input = form.querySelector(`input[type=file][name="${CSS.escape(name)}"]`);
    if (input) {
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true })); // pickers and the pad show it
    }
  }
}

// The first try of an item just queued on this page: its outcome, and whether it went out.
async function sendFirst(item) {
  pendingSubmit = item.key;
  try {
    const outcomes = await replay();
    const result = outcomes.get(item.key) || { outcome: 'retry' };
    const gone = !(await allItems()).some((i) => i.key === item.key && i.state !== 'asked');
    return { result, gone };
  } finally {
    pendingSubmit = null;
  }
}

// Show where a report landed: this page again (at the new entry), or the page it created.
function openAnswer(where) {
  const target = new URL(where || location.href, location.href);
  if (target.pathname + target.search === location.pathname + location.search) {
    history.replaceState(null, '', target.href);
    location.reload();
  } else {
    location.assign(target.href);
  }
}

async function onSubmit(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches('form[data-outbox]')) return;
  if (!window.indexedDB || form.dataset.outboxPlain) return; // plain POST
  event.preventDefault();
  if (form.dataset.outboxBusy) return; // a double tap sends once
  form.dataset.outboxBusy = '1';
  let item;
  try {
    item = await enqueue(form, event.submitter);
  } catch (err) {
    // No IndexedDB space or access (private mode): the form goes the plain way.
    delete form.dataset.outboxBusy;
    form.dataset.outboxPlain = '1';
    if (form.requestSubmit) form.requestSubmit(event.submitter || undefined);
    else form.submit();
    return;
  }
  // Kept on the phone now: the form is free for the next report (after a double tap's time).
  form.reset();
  setTimeout(() => { delete form.dataset.outboxBusy; }, DOUBLE_TAP_MS);
  let touched = false; // typing a next report: then nothing may move the page or the form
  form.addEventListener('input', () => { touched = true; }, { once: true });
  await refresh();
  const started = Date.now();
  form.setAttribute('aria-busy', 'true'); // its first try is under way
  const { result, gone } = await sendFirst(item);
  form.removeAttribute('aria-busy');
  // A page may show the answer in place (order.js: confirming): it cancels this event.
  const answer = new CustomEvent('outbox-answer', { bubbles: true, cancelable: true, detail: { result, gone } });
  if (!form.dispatchEvent(answer)) return;
  const prompt = !touched && Date.now() - started <= WAIT_FOR_ANSWER_MS;
  if (gone && prompt) {
    openAnswer(result.location);
  } else if (gone) {
    showSent(item.label);
  } else if (result.outcome === 'failed' && prompt && form.isConnected) {
    // Refused at once: what to fix is shown in the form, with what was typed put back (the
    // full photos, not their previews).
    await deleteItem(item.seq);
    const children = (await allItems()).filter((i) => i.parent === item.key);
    for (const child of children) await deleteItem(child.seq);
    const full = new Map(children.map((c) => [c.photoKey, c.files[0]]));
    await refresh();
    restoreForm(form, {
      ...item,
      fields: item.fields.filter(([name]) => name !== 'preview_keys'),
      files: item.files.map((f) => (f.photoKey && full.has(f.photoKey) ? { ...full.get(f.photoKey), name: f.name } : f)),
    });
    showFormErrors(form, result.error);
    delete form.dataset.outboxBusy; // fixed at once and sent again: not a double tap
  }
}

export function initOutbox() {
  if (!window.indexedDB) return;
  document.addEventListener('submit', onSubmit);
  document.addEventListener('change', (event) => { onFileChosen(event).catch(() => {}); });
  document.addEventListener('click', onOutboxClick);
  window.addEventListener('online', () => {
    failures = 0;
    replay();
  });
  // The data saver: the worker and later pages know whether it is on; Wi-Fi sends held photos.
  idb('meta', 'readwrite', (s) => s.put(saverOn(), 'saver')).catch(() => {});
  navigator.connection?.addEventListener?.('change', () => replay());
  navigator.serviceWorker?.addEventListener('message', (event) => {
    const type = event.data && event.data.type;
    if (type === 'outbox-sent') onSent(event.data.page, event.data.label);
    if (type === 'outbox-sent' || type === 'outbox-changed') refresh();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') replay();
  });
  loadCatalog().then(refresh, refresh).then(replay);
}
