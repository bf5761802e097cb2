// Translations for scripts, from the same gettext catalogs as the pages.
// Usage: import { gettext } from './i18n.js'; gettext('Sent %(count)s updates', { count: 3 })
// The page's catalog is read from <html data-i18n="url">; until loaded, English is used.
let catalog = {};

export async function loadCatalog() {
  const url = document.documentElement.dataset.i18n;
  if (!url) return;
  try {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (response.ok) catalog = await response.json();
  } catch (e) {
    // Offline and not cached: English stays.
  }
}

export function gettext(msgid, params = {}) {
  const text = catalog[msgid] || msgid;
  return text.replace(/%\((\w+)\)s/g, (_, name) => (name in params ? String(params[name]) : ''));
}
