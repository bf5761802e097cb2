// The signature pad of a delivery form ([data-signature-pad]): the receiver draws with a finger,
// a pen or a mouse (pointer events); each stroke puts the drawing, as a PNG, into the form's
// file field "signature", so the outbox queues it with the report (and a plain post sends it).
// Shows only the chosen proof (signature or handover code). Loaded only on pages with the pad.
const MAX_SCALE = 2; // a sharp line on a dense screen, a small PNG all the same

function setup(pad) {
  const form = pad.closest('form');
  const canvas = pad.querySelector('canvas');
  const input = pad.querySelector('input[type=file][name=signature]');
  const clear = pad.querySelector('[data-signature-clear]');
  const ctx = canvas.getContext('2d');
  let drawn = false;
  let last = null;

  function blank() {
    const rect = canvas.getBoundingClientRect();
    const scale = Math.min(MAX_SCALE, window.devicePixelRatio || 1);
    canvas.width = Math.max(1, Math.round(rect.width * scale));
    canvas.height = Math.max(1, Math.round(rect.height * scale));
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, rect.width, rect.height);
    ctx.lineWidth = 2.5;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#111';
    drawn = false;
    pad.classList.remove('is-signed');
    if (input && window.DataTransfer) input.files = new DataTransfer().files;
  }

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  function save() {
    if (!drawn || !input || !window.DataTransfer) return;
    canvas.toBlob((blob) => {
      if (!blob || !drawn) return;
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], 'signature.png', { type: 'image/png' }));
      input.files = transfer.files;
    }, 'image/png');
  }

  canvas.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    ctx.beginPath();
    ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fillStyle = '#111';
    ctx.fill();
    drawn = true;
    pad.classList.add('is-signed');
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    for (const e of events.length ? events : [event]) {
      last = point(e);
      ctx.lineTo(last.x, last.y);
    }
    ctx.stroke();
  });
  const end = () => {
    if (!last) return;
    last = null;
    save();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  clear?.addEventListener('click', blank);
  // A refused report put back into the form (outbox.js): show the signature it carried.
  input?.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file || drawn) return;
    try {
      const image = await createImageBitmap(file);
      const rect = canvas.getBoundingClientRect();
      ctx.drawImage(image, 0, 0, rect.width, rect.height);
      drawn = true;
      pad.classList.add('is-signed');
    } catch (err) {
      // Not a picture this browser reads: the field keeps it, the server says what is wrong.
    }
  });
  form?.addEventListener('reset', () => setTimeout(blank)); // the outbox took the report
  // Sized when it shows (a closed <details>, the code chosen first) and when the phone turns;
  // a signature already drawn is kept (its PNG is in the form).
  let width = 0;
  new ResizeObserver(() => {
    const now = Math.round(canvas.getBoundingClientRect().width);
    if (now && now !== width && !drawn) blank();
    width = now;
  }).observe(canvas);
  pad.querySelectorAll('[data-signature-live]').forEach((n) => { n.hidden = false; });
  pad.querySelectorAll('[data-signature-nojs]').forEach((n) => { n.hidden = true; });
}

// Show the chosen proof's part of the form only.
function proofs(form) {
  const radios = form.querySelectorAll('input[name=proof]');
  const show = () => {
    const chosen = form.querySelector('input[name=proof]:checked')?.value;
    form.querySelectorAll('[data-proof-for]').forEach((part) => {
      part.hidden = part.dataset.proofFor !== chosen;
    });
  };
  radios.forEach((r) => r.addEventListener('change', show));
  form.addEventListener('reset', () => setTimeout(show));
  show();
}

export function initSignature() {
  document.querySelectorAll('[data-signature-pad]').forEach(setup);
  new Set([...document.querySelectorAll('[data-proof-for]')].map((p) => p.closest('form')))
    .forEach((form) => form && proofs(form));
}
