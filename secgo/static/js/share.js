// Copy and Share on a new tracking link's page (orders/link.html). Share uses the phone's
// share sheet (Web Share API) where there is one, else copies; Copy uses the clipboard, else
// selects the link for the person to copy. The words come from the page, in its language.
function init(root) {
  const input = root.querySelector('input.copy');
  const status = root.querySelector('[data-share-status]');
  const say = (text) => { status.textContent = text; };

  async function copy() {
    try {
      await navigator.clipboard.writeText(input.value);
      say(root.dataset.copied);
      return;
    } catch { /* no clipboard (plain HTTP, old browser, refused): the old way */ }
    input.focus();
    input.select();
    let copied = false;
    try { copied = document.execCommand('copy'); } catch { copied = false; }
    say(copied ? root.dataset.copied : root.dataset.failed);
  }

  async function share() {
    if (!navigator.share) return copy();
    try {
      await navigator.share({ title: root.dataset.title, text: root.dataset.text, url: input.value });
    } catch (err) {
      if (err && err.name !== 'AbortError') await copy(); // the person closed the sheet: nothing to do
    }
  }

  for (const [selector, action] of [['[data-copy]', copy], ['[data-share]', share]]) {
    const button = root.querySelector(selector);
    button.hidden = false;
    button.addEventListener('click', action);
  }
}

const root = document.querySelector('[data-share-link]');
if (root) init(root);
