// Photos are made small on the phone before they are queued: longest side at most 1600 px,
// JPEG, and at most 230 KB, so an update with a photo costs under 250 KB on the wire (bench/wire.py).
// With the data saver on, a preview of at most 60 KB goes first (1280 px: the small print of a
// packing list in a 12-megapixel photo stays readable at 100%); the full photo follows.
export const MAX_SIDE = 1600;
export const TARGET_BYTES = 230 * 1024;
const QUALITIES = [0.82, 0.72, 0.62, 0.5, 0.4];
export const PREVIEW_SIDE = 1280;
export const PREVIEW_BYTES = 58 * 1024; // under the server's 60 KB, headers and all
const PREVIEW_QUALITIES = [0.36, 0.26];

async function decode(file) {
  if (self.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch (err) {
      // Fall back to an <img> below (older Safari).
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function toBlob(canvas, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

function jpegName(name) {
  const base = (name || 'photo').replace(/\.[^.]*$/, '') || 'photo';
  return `${base}.jpg`;
}

// The decoded picture (or a canvas) as a JPEG of at most maxSide and target bytes:
// { blob, canvas }, or null when even a tiny one is too heavy.
async function shrink(image, maxSide, target, qualities) {
  let scale = Math.min(1, maxSide / Math.max(image.width, image.height));
  for (;;) {
    let smallest = Infinity;
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(image.width * scale));
    canvas.height = Math.max(1, Math.round(image.height * scale));
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff'; // transparent PNGs get a white background, not black
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    for (const quality of qualities) {
      const blob = await toBlob(canvas, quality);
      if (blob && blob.size <= target) return { blob, canvas };
      if (blob) smallest = Math.min(smallest, blob.size);
    }
    // Still too heavy (a very busy picture): smaller, by about what the bytes say (each try
    // costs a phone a second).
    scale *= Math.max(0.5, Math.min(0.9, Math.sqrt(target / smallest) * 0.95));
    if (Math.max(image.width, image.height) * scale < 64) return null;
  }
}

// Returns { blob, filename, preview }: preview (with the saver, for a photo bigger than one)
// is { blob, filename } or null. A file that is not a picture the browser can read is kept as
// it is (the server then says what is wrong with it).
export async function preparePhoto(file, { saver = false } = {}) {
  const asIs = { blob: file, filename: file.name, preview: null };
  if (!file.type.startsWith('image/')) return asIs;
  let image;
  try {
    image = await decode(file);
  } catch (err) {
    return asIs;
  }
  try {
    const full = await shrink(image, MAX_SIDE, TARGET_BYTES, QUALITIES);
    if (!full) return asIs;
    const filename = jpegName(file.name);
    let preview = null;
    if (saver && full.blob.size > PREVIEW_BYTES) { // drawn from the full one: quicker
      const small = await shrink(full.canvas, PREVIEW_SIDE, PREVIEW_BYTES, PREVIEW_QUALITIES);
      if (small) preview = { blob: small.blob, filename };
    }
    return { blob: full.blob, filename, preview };
  } finally {
    if (image.close) image.close();
  }
}
