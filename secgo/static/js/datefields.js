// Date fields: an empty one shows nothing instead of the browser's own pattern ("mm/dd/yyyy",
// in English where the browser has no data for the page's language); the calendar button and
// the phone's own date picker stay. A filled field shows the date as the browser writes it.
export function initDateFields() {
  for (const input of document.querySelectorAll('input[type=date]')) {
    const mark = () => input.classList.toggle('is-empty', !input.value);
    input.addEventListener('input', mark);
    input.addEventListener('change', mark);
    input.form?.addEventListener('reset', () => setTimeout(mark));
    mark();
  }
}
