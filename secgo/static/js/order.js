// Order page (and the list awaiting confirmation): "Add my location"; confirming in place;
// the warning that a delivery will open an issue.
import { gettext, ngettext } from './i18n.js';

for (const button of document.querySelectorAll('[data-geo-button]')) {
  if (!('geolocation' in navigator)) continue;
  const form = button.closest('form');
  const status = form.querySelector('[data-geo-status]');
  button.hidden = false;
  button.addEventListener('click', () => {
    status.textContent = gettext('Finding your location…');
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        form.querySelector('[data-geo="lat"]').value = pos.coords.latitude.toFixed(6);
        form.querySelector('[data-geo="lon"]').value = pos.coords.longitude.toFixed(6);
        status.textContent = gettext('Location added.');
      },
      () => { status.textContent = gettext('Location not available.'); },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
    );
  });
}

// --- confirming in place: the outbox sends the form; its answer is shown where it was tapped ---

function note(text, className) {
  const p = document.createElement('p');
  p.className = `chip ${className} confirm-done`;
  p.setAttribute('role', 'status');
  p.textContent = text;
  return p;
}

function pendingIds(form) {
  return (form.dataset.confirmAll || '').split(',').filter(Boolean);
}

// The "Confirm all" button counts only what is still waiting; with one left it goes.
function forget(ids) {
  for (const form of document.querySelectorAll('form[data-confirm-all]')) {
    const left = pendingIds(form).filter((id) => !ids.includes(id));
    form.dataset.confirmAll = left.join(',');
    form.querySelector('input[name=update_ids]').value = left.join(',');
    const label = form.querySelector('button');
    if (left.length < 2) form.remove();
    else label.textContent = '✓ ' + ngettext('Confirm all %(num)s update', 'Confirm all %(num)s updates', left.length, { num: left.length });
  }
}

function showDone(ids, text, className) {
  for (const id of ids) {
    const form = document.querySelector(`form[data-confirm="${CSS.escape(id)}"]`);
    if (form) form.replaceWith(note(text, className));
  }
}

function onAnswer(event) {
  const form = event.target;
  const ids = form.dataset.confirm ? [form.dataset.confirm] : pendingIds(form);
  if (!ids.length) return;
  const { result, gone } = event.detail;
  if (gone) {
    event.preventDefault(); // no reload: the page stays where it is
    if (form.dataset.confirmAll) form.replaceWith(note('✓ ' + gettext('All confirmed'), 'chip-ok'));
    showDone(ids, '✓ ' + gettext('Confirmed'), 'chip-ok');
    forget(ids);
  } else if (result.outcome !== 'failed') {
    // Kept on the phone: it is confirmed when the signal is back (the outbox sends it).
    const waiting = gettext('Waiting to send: confirmed when you are back online');
    if (form.dataset.confirmAll) form.replaceWith(note(waiting, 'chip-waiting'));
    showDone(ids, waiting, 'chip-waiting');
    forget(ids);
  }
}

document.addEventListener('outbox-answer', onAnswer);
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!form.matches?.('form[data-confirm], form[data-confirm-all]')) return;
  form.classList.add('is-sending');
}, true);

// --- delivery: less than ordered is short; say before sending that an issue will open ---

for (const input of document.querySelectorAll('input[data-ordered]')) {
  const form = input.form;
  const warning = form.querySelector('[data-issue-warning]');
  const ordered = Number(input.dataset.ordered);
  const received = () => Number(input.value.replace(/,/g, '').trim());
  const condition = () => form.querySelector('input[name=condition]:checked')?.value;
  const check = () => {
    const short = input.value.trim() !== '' && received() < ordered;
    if (warning) warning.hidden = !(short || (condition() && condition() !== 'good'));
  };
  input.addEventListener('input', () => {
    const good = form.querySelector('input[name=condition][value=good]');
    if (received() < ordered && good?.checked) form.querySelector('input[name=condition][value=short]').checked = true;
    check();
  });
  form.addEventListener('change', check);
  check();
}
