// Voice notes: a record button over each form's voice file input ([data-voice]). Hold it to
// record and let go to stop, or tap once to start and again to stop (keyboard: Enter/Space).
// At most MAX_SECONDS; speech quality (Opus at 24 kbit/s, mono where the browser has it: a
// minute is about 180 KB). The microphone is asked for only when record is pressed. The
// recording goes into the file input, so the form (and the outbox, which keeps it as a Blob)
// sends it like a chosen file; without this script the file input itself takes a recording.
import { gettext, loadCatalog, ngettext } from './i18n.js';

const MAX_SECONDS = 60;
const HOLD_MS = 500; // pressed longer than this: letting go stops the recording
const BITRATE = 24000;
const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4;codecs=mp4a.40.2', 'audio/mp4'];
const EXTENSIONS = { 'audio/webm': 'webm', 'audio/ogg': 'ogg', 'audio/mp4': 'm4a' };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(seconds) {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function enhance(field) {
  const input = field.querySelector('input[type=file][name=voice]');
  if (!input || field.dataset.voiceReady) return;
  field.dataset.voiceReady = '1';
  const button = el('button', 'btn voice-record');
  button.type = 'button';
  button.setAttribute('aria-pressed', 'false');
  const label = el('span', '', gettext('Hold to record'));
  button.append(el('span', 'voice-dot'), label);
  const status = el('span', 'voice-status small muted');
  status.setAttribute('aria-live', 'polite');
  const preview = el('div', 'voice-preview');
  preview.hidden = true;
  const remove = el('button', 'btn small', gettext('Delete recording'));
  remove.type = 'button';
  const row = el('div', 'voice-row');
  row.append(button, status);
  input.hidden = true;
  const pick = field.querySelector('.voice-pick'); // the no-script way in: the button replaces it
  if (pick) pick.hidden = true;
  input.after(row, preview);

  let recorder = null;
  let stream = null;
  let chunks = [];
  let started = 0;
  let tick = null;
  let pointerStart = 0;
  let fromPointer = false;
  let stopWanted = false;
  let url = null;

  function clear() {
    if (url) URL.revokeObjectURL(url);
    url = null;
    preview.replaceChildren();
    preview.hidden = true;
    status.textContent = '';
  }

  function show(file, seconds) {
    clear();
    url = URL.createObjectURL(file);
    const audio = el('audio');
    audio.controls = true;
    audio.src = url;
    audio.setAttribute('aria-label', gettext('Your voice note'));
    preview.append(audio, remove);
    preview.hidden = false;
    status.textContent = ngettext('Voice note: %(n)s second', 'Voice note: %(n)s seconds', seconds);
  }

  function idle() {
    button.classList.remove('recording');
    button.setAttribute('aria-pressed', 'false');
    label.textContent = gettext('Hold to record');
    clearInterval(tick);
  }

  async function start() {
    if (recorder) return;
    stopWanted = false;
    recorder = 'asking';
    status.textContent = '';
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
      });
    } catch (err) {
      recorder = null;
      status.textContent = gettext('The microphone is not available. You can still type a note.');
      return;
    }
    const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || '';
    recorder = new MediaRecorder(stream, { ...(mimeType && { mimeType }), audioBitsPerSecond: BITRATE });
    chunks = [];
    recorder.addEventListener('dataavailable', (e) => { if (e.data.size) chunks.push(e.data); });
    recorder.addEventListener('stop', finish);
    recorder.start(1000);
    started = Date.now();
    button.classList.add('recording');
    button.setAttribute('aria-pressed', 'true');
    label.textContent = gettext('Stop recording');
    const update = () => {
      const seconds = (Date.now() - started) / 1000;
      status.textContent = `${clock(seconds)} / ${clock(MAX_SECONDS)}`;
      if (seconds >= MAX_SECONDS) stop();
    };
    update();
    tick = setInterval(update, 250);
    if (stopWanted) stop(); // let go while the browser was still asking for the microphone
  }

  function stop() {
    if (recorder === 'asking') {
      stopWanted = true;
      return;
    }
    if (recorder && recorder.state !== 'inactive') recorder.stop();
  }

  function finish() {
    const seconds = Math.min(MAX_SECONDS, Math.max(1, Math.round((Date.now() - started) / 1000)));
    const type = (recorder.mimeType || chunks[0]?.type || 'audio/webm').split(';')[0];
    stream.getTracks().forEach((t) => t.stop());
    recorder = null;
    idle();
    const file = new File(chunks, `voice.${EXTENSIONS[type] || 'webm'}`, { type });
    chunks = [];
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    show(file, seconds);
  }

  button.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || recorder) return;
    fromPointer = true;
    pointerStart = Date.now();
    start();
  });
  button.addEventListener('pointerup', () => {
    if (fromPointer && Date.now() - pointerStart > HOLD_MS) stop();
  });
  button.addEventListener('click', () => {
    if (fromPointer) { // this press started it: a tap leaves it recording until the next tap
      fromPointer = false;
      return;
    }
    if (recorder) stop();
    else start();
  });
  button.addEventListener('contextmenu', (event) => event.preventDefault()); // a long press
  remove.addEventListener('click', () => {
    input.value = '';
    clear();
  });
  input.form?.addEventListener('reset', () => setTimeout(clear)); // the outbox took it
}

export async function initVoice() {
  if (!window.MediaRecorder || !navigator.mediaDevices?.getUserMedia || !window.DataTransfer) return;
  await loadCatalog(); // the button speaks the page's language from its first paint
  document.querySelectorAll('[data-voice]').forEach(enhance);
}
