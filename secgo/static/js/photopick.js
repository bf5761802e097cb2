// Photo pickers (templates/_macros.html photo_input): the browser's own English is hidden; the
// count of chosen photos is said here in the page's language, and again after a form is reset.
import { gettext, ngettext, loadCatalog } from './i18n.js';

function say(input) {
  const out = document.getElementById(`${input.id}-count`);
  if (!out) return;
  const n = input.files ? input.files.length : 0;
  out.textContent = n
    ? ngettext('%(n)s photo chosen', '%(n)s photos chosen', n)
    : gettext('No photo chosen');
}

// A document picker (templates/documents/_order.html): the chosen file's name.
function sayFile(input) {
  const out = document.getElementById(`${input.id}-name`);
  if (out) out.textContent = input.files && input.files.length ? input.files[0].name : gettext('No file chosen');
}

export function initPhotoPickers() {
  for (const input of document.querySelectorAll('input.doc-input')) {
    input.addEventListener('change', () => sayFile(input));
    input.form?.addEventListener('reset', () => setTimeout(() => sayFile(input)));
    sayFile(input);
    loadCatalog().then(() => sayFile(input), () => {});
  }
  const inputs = [...document.querySelectorAll('input.photo-input')];
  if (!inputs.length) return;
  const all = () => inputs.forEach(say);
  for (const input of inputs) {
    input.addEventListener('change', () => say(input));
    input.form?.addEventListener('reset', () => setTimeout(all));
  }
  all();
  loadCatalog().then(all, () => {});
}
