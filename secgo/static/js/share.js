// Share boxes (orders/_share.html) and the new tracking link's page (orders/link.html). The
// words come from the page, built by the server in the sharer's language, so sharing works
// offline too. Share opens the phone's share sheet (Web Share API) where there is one; else
// the box opens to Copy and the chat apps' links. Copy uses the clipboard, else selects.
function init(root) {
  const status = root.querySelector('[data-share-status]');
  const input = root.querySelector('input.copy');
  const url = root.dataset.url || (input ? input.value : '');
  const message = `${root.dataset.text}\n${url}`;
  const say = (text) => { if (status) status.textContent = text; };

  function select(node) {
    if (node.select) { node.focus(); node.select(); return; }
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copy(value, node) {
    try {
      await navigator.clipboard.writeText(value);
      say(root.dataset.copied);
      return;
    } catch { /* no clipboard (plain HTTP, old browser, refused): the old way */ }
    if (node) select(node);
    let copied = false;
    try { copied = document.execCommand('copy'); } catch { copied = false; }
    say(copied ? root.dataset.copied : root.dataset.failed);
  }

  async function share(event) {
    if (!navigator.share) return; // a <summary> opens its box; a button copies instead
    if (event) event.preventDefault();
    try {
      await navigator.share({ title: root.dataset.title, text: root.dataset.text, url });
    } catch (err) {
      if (err && err.name !== 'AbortError') root.open = true; // refused: offer the other ways
    }
  }

  for (const button of root.querySelectorAll('[data-copy]')) {
    button.hidden = false;
    const link = button.dataset.copy === 'link';
    const node = link ? input : root.querySelector('[data-share-message]');
    button.addEventListener('click', () => copy(link ? url : message, node));
  }
  for (const button of root.querySelectorAll('[data-share]')) {
    if (button.tagName === 'SUMMARY') {
      button.addEventListener('click', share);
    } else {
      button.hidden = false;
      button.addEventListener('click', (event) => (navigator.share ? share(event) : copy(message, input)));
    }
  }
}

for (const root of document.querySelectorAll('[data-share-link]')) init(root);
