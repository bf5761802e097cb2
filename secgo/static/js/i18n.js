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

// A moment as the pages write it (secgo/i18n/formatting.py: format_when 'short'): the page's
// language, the viewer's time zone (<html data-tz>), the full year unless it is this year.
// The patterns and names come with the catalog ("%dates", from Babel's CLDR data), so they do
// not depend on the browser's own locale data, which often lacks km, lo and my. Until the
// catalog has loaded: the browser's data for the page's language if it has it.
function zoneParts(date, timeZone) {
  const parts = {};
  new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
  }).formatToParts(date).forEach(({ type, value }) => { parts[type] = Number(value); });
  return parts;
}

const pad = (n) => String(n).padStart(2, '0');

function field(name, p, dates) {
  const h12 = p.hour % 12 || 12;
  const values = {
    y: p.year, yyyy: p.year, M: p.month, MM: pad(p.month), MMM: dates.months[p.month - 1],
    d: p.day, dd: pad(p.day), H: p.hour, HH: pad(p.hour), h: h12, hh: pad(h12), mm: pad(p.minute),
    a: p.hour < 12 ? dates.am : dates.pm,
  };
  return name in values ? String(values[name]) : '';
}

export function formatMoment(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const html = document.documentElement;
  let timeZone = html.dataset.tz || undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    timeZone = undefined; // an unknown zone: the device's
  }
  const dates = catalog['%dates'];
  if (dates) {
    const p = zoneParts(date, timeZone);
    const pattern = p.year === zoneParts(new Date(), timeZone).year ? dates.noyear : dates.year;
    return pattern.replace(/%\((\w+)\)s|%%/g, (m, name) => (name ? field(name, p, dates) : '%'));
  }
  const lang = Intl.DateTimeFormat.supportedLocalesOf([html.lang]).length ? html.lang : undefined;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(date);
}
