// "Did you mean ...?" after the outbox sent Burmese text that the server kept as typed (maybe
// Zawgyi, the detector unsure). "Yes, use this" queues, with a fresh key, the fix that kind of
// write has: a correction of the update; else the text as a new message or note. The server
// converts the typed text (<field>_encoding=unicode) and keeps it beside. Loaded on demand.
import { gettext } from './i18n.js';

const MAX_LABEL = 140;

// A sent item's fix: its URL, text field, other fields, and the id of the sent entry's element.
function fixOf(item) {
  const { id } = item.answer;
  const added = () => gettext('Saved as typed. Using this adds it as a new message.');
  let m = /^\/orders\/([^/?]+)\/(updates|delivery)$/.exec(item.url);
  if (m && m[2] === 'updates') {
    return {
      url: m[0], field: 'note', anchor: `u${id}`,
      extra: [['status', 'note'], ['corrects_id', String(id)]],
      help: gettext('Updates are never changed: your correction is shown next to the update it corrects.'),
    };
  }
  if (m) {
    return {
      url: `/orders/${m[1]}/updates`, field: 'note', anchor: 'delivery', extra: [['status', 'note']],
      help: gettext('Saved as typed. Using this adds it as a note on the order.'),
    };
  }
  m = /^\/issues\/\d+\/comments$/.exec(item.url);
  if (m) return { url: m[0], field: 'body', anchor: `c${id}`, extra: [], help: added() };
  if (/^\/orders\/[^/?]+\/issues\/new(\?|$)/.test(item.url) && id) {
    return { url: `/issues/${id}/comments`, field: 'body', anchor: null, extra: [], help: added() };
  }
  return null;
}

function where(item) {
  const url = new URL(item.answer.location || item.page, location.href);
  return url.pathname + url.search;
}

function button(t, text, className, item, name, choice) {
  const node = t.el('button', className, text);
  node.type = 'button';
  Object.assign(node.dataset, { zawgyiChoice: choice, zawgyiSeq: String(item.seq), zawgyiField: name });
  return node;
}

// Which item, and which of its fields are still asked about.
const sig = (item) => `${item.key} ${Object.keys(item.answer.zawgyi_suggestion)}`;

// place: 'entry' (inside the sent entry), 'page' (on top of the page) or 'list' (/offline).
function question(t, item, fix, tag, place) {
  const node = t.el(tag, 'did-you-mean outbox-asked');
  node.dataset.zawgyiFor = sig(item);
  if (place !== 'list') node.setAttribute('role', 'status');
  if (place !== 'entry') {
    node.append(t.el('strong', '', item.label));
    if (item.summary) node.append(t.el('p', 'outbox-summary', item.summary));
  }
  for (const [name, s] of Object.entries(item.answer.zawgyi_suggestion)) {
    node.append(t.el('p', '', gettext('This text may be in Zawgyi. Did you mean:')));
    const text = t.el('p', 'did-you-mean-text', s.unicode); // typed text: never as HTML
    text.lang = 'my';
    text.dir = 'auto';
    const actions = t.el('div', 'outbox-actions');
    if (fix) actions.append(button(t, gettext('Yes, use this'), 'btn primary', item, name, 'unicode'));
    actions.append(button(t, gettext('No, keep what I typed'), 'btn', item, name, 'typed'));
    node.append(text, actions);
    if (fix) node.append(t.el('p', 'small muted', fix.help));
  }
  return node;
}

// Each question on its answer's page (in the sent entry when shown) and in /offline's list.
// One already shown stays as it is: a status region is announced once, a tap is not lost.
export function showQuestions(items, t) {
  const wanted = new Set(items.map(sig));
  const shown = new Set();
  document.querySelectorAll('[data-zawgyi-for]').forEach((n) => {
    if (wanted.has(n.dataset.zawgyiFor) && !n.closest('#outbox-list')) shown.add(n.dataset.zawgyiFor);
    else n.remove();
  });
  const list = document.getElementById('outbox-list');
  const here = location.pathname + location.search;
  for (const item of items) {
    const fix = fixOf(item);
    if (list) {
      const node = question(t, item, fix, 'li', 'list');
      const open = t.el('a', 'btn small', gettext('Open page'));
      open.href = where(item);
      node.append(open);
      list.append(node);
    }
    if (where(item) !== here || shown.has(sig(item))) continue;
    const anchor = fix && fix.anchor && document.getElementById(fix.anchor);
    const target = document.querySelector('[data-outbox-target]');
    if (anchor) anchor.append(question(t, item, fix, 'div', 'entry'));
    else if (target) target.prepend(question(t, item, fix, ['OL', 'UL'].includes(target.tagName) ? 'li' : 'div', 'page'));
    else document.querySelector('main')?.prepend(question(t, item, fix, 'div', 'page'));
  }
}

// Once, however often tapped and in however many tabs: one IndexedDB transaction answers the
// question and queues its fix.
export async function choose(node, t) {
  const seq = Number(node.dataset.zawgyiSeq);
  const name = node.dataset.zawgyiField;
  const use = node.dataset.zawgyiChoice === 'unicode';
  node.disabled = true;
  const key = t.uuid();
  const done = { result: null };
  await t.idb('items', 'readwrite', (store) => {
    const get = store.get(seq);
    get.onsuccess = () => {
      const item = get.result;
      const open = item && item.state === 'asked' ? { ...item.answer.zawgyi_suggestion } : {};
      const s = open[name];
      if (!s) return; // answered already
      delete open[name];
      if (Object.keys(open).length) store.put({ ...item, answer: { ...item.answer, zawgyi_suggestion: open } });
      else store.delete(seq);
      const fix = use && fixOf(item);
      if (!fix) return;
      const fields = [['client_id', key], ...fix.extra, [fix.field, s.typed],
        [`${fix.field}_encoding`, 'unicode'], [`${fix.field}_typed`, s.typed]];
      if (fix.field === 'note') fields.push(['occurred_at', new Date().toISOString()]);
      const queued = {
        key, url: fix.url, fields, files: [], csrf: t.pageToken() || item.csrf, created: Date.now(),
        state: 'pending', error: null, user: item.user, page: where(item),
        label: gettext('Correction'), summary: s.unicode.slice(0, MAX_LABEL),
      };
      store.add(queued).onsuccess = (event) => { done.result = { ...queued, seq: event.target.result }; };
    };
    return done;
  });
  await t.refresh();
  if (!done.result) return;
  const { result, gone } = await t.sendFirst(done.result);
  if (gone) t.openAnswer(result.location);
}
