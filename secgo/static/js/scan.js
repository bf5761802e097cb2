// The label scanner (orders/scan.html): a SEC GO! label's QR code (this site's /l/<reference>)
// opens its order. The browser's BarcodeDetector reads it where there is one; elsewhere a small
// vendored reader (vendor/qrdecode.js) is loaded, only then. The camera is asked for only when
// the person taps the button; a photo of the label (the file input) works without a camera.
import { gettext, loadCatalog } from './i18n.js';

const MAX_SIDE = 1280; // pixels read per frame or photo: enough for a label, quick on a cheap phone
const EVERY_MS = 250;

const root = document.querySelector('[data-scanner]');
// The QR reader is fetched on first use (never precached): offline before that, it is missing.
const NOT_LOADED = () => gettext('The scanner could not load. Check the connection and try again.');

// A SEC GO! label: this site's /l/<code>. Anything else is only reported, never opened.
export function labelPath(text) {
  let url;
  try {
    url = new URL(String(text).trim());
  } catch {
    return null;
  }
  if (url.origin !== window.location.origin) return null;
  return /^\/l\/[A-Za-z0-9-]{1,40}$/.test(url.pathname) ? url.pathname : null;
}

let detector;
async function reader() {
  if (detector === undefined) {
    detector = null;
    if ('BarcodeDetector' in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes('qr_code')) detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      } catch { /* not usable here: the vendored reader */ }
    }
  }
  if (detector) {
    return async (source) => {
      const codes = await detector.detect(source);
      return codes.length ? codes[0].rawValue : null;
    };
  }
  const { decodeQR } = await import('./vendor/qrdecode.js');
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  return async (source) => {
    const width = source.videoWidth || source.width;
    const height = source.videoHeight || source.height;
    if (!width || !height) return null;
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    try {
      return decodeQR(context.getImageData(0, 0, canvas.width, canvas.height));
    } catch {
      return null; // no QR code in this picture
    }
  };
}

function init() {
  const status = root.querySelector('[data-scan-status]');
  const start = root.querySelector('[data-scan-start]');
  const stop = root.querySelector('[data-scan-stop]');
  const video = root.querySelector('video');
  const photo = root.querySelector('input[type=file]');
  let stream = null;
  let timer = null;

  const say = (text, bad = false) => {
    status.textContent = text;
    status.classList.toggle('error', bad);
  };

  function stopCamera() {
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  // What was read: open a SEC GO! label, or say plainly that this code is not one.
  function found(text) {
    const path = labelPath(text);
    if (!path) {
      say(gettext('This QR code is not a SEC GO! label.'), true);
      return false;
    }
    stopCamera();
    say(gettext('Label found. Opening the order…'));
    window.location.assign(path);
    return true;
  }

  async function startCamera() {
    say(gettext('Starting the camera…'));
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch {
      say(gettext('The camera could not be started. Take a photo of the label instead.'), true);
      return;
    }
    let read;
    try {
      read = await reader();
    } catch {
      stopCamera();
      say(NOT_LOADED(), true);
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    start.hidden = true;
    stop.hidden = false;
    await video.play().catch(() => {});
    say(gettext('Point the camera at the QR code on the label.'));
    let last = '';
    const tick = async () => {
      if (!stream) return;
      const text = video.readyState >= 2 ? await read(video).catch(() => null) : null;
      if (text && text !== last) {
        last = text;
        if (found(text)) return;
      }
      timer = setTimeout(tick, EVERY_MS);
    };
    tick();
  }

  async function readPhoto() {
    const file = photo.files && photo.files[0];
    if (!file) return;
    say(gettext('Reading the photo…'));
    let text = null;
    let read;
    try {
      read = await reader();
    } catch {
      photo.value = '';
      say(NOT_LOADED(), true);
      return;
    }
    try {
      const image = await createImageBitmap(file);
      text = await read(image);
      image.close();
    } catch { /* not a picture the browser can open */ }
    photo.value = '';
    if (text) found(text);
    else say(gettext('No QR code found in this photo. Try again closer, with the whole code in the picture.'), true);
  }

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    start.hidden = false;
    start.addEventListener('click', startCamera);
    stop.addEventListener('click', () => { stopCamera(); say(''); });
  }
  photo.addEventListener('change', readPhoto);
  window.addEventListener('pagehide', stopCamera);
  root.dataset.ready = '1';
}

if (root) loadCatalog().then(init, init);
