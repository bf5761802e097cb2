// gettext for scripts, from the page's catalog (<html data-i18n>): only the messages the
// scripts use. English until it has loaded (or when offline and not cached).
// gettext('Sent %(count)s', { count }); ngettext('%(n)s photo', '%(n)s photos', n)
let catalog = {};
let loading = null;

export function loadCatalog() {
  if (!loading) loading = fetchCatalog();
  return loading;
}

async function fetchCatalog() {
  const url = document.documentElement.dataset.i18n;
  if (!url) return;
  try {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (response.ok) catalog = await response.json();
  } catch { /* offline: English stays */ }
}

function fill(text, params) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => (name in params ? String(params[name]) : ''));
}

export function gettext(msgid, params = {}) {
  const entry = catalog[msgid];
  return fill(typeof entry === 'string' && entry ? entry : msgid, params);
}

// One plural form (km lo my th vi) or two (en).
export function ngettext(singular, plural, n, params = {}) {
  const forms = catalog[singular];
  let text;
  if (Array.isArray(forms) && forms.length) {
    text = forms.length === 1 ? forms[0] : forms[n === 1 ? 0 : 1];
  } else {
    text = n === 1 ? singular : plural;
  }
  return fill(text, { n, ...params });
}
