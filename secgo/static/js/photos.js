// Photos are made small on the phone before they are queued: longest side at most 1600 px,
// JPEG, and at most 230 KB, so an update with a photo costs under 250 KB on the wire (bench/wire.py).
export const MAX_SIDE = 1600;
export const TARGET_BYTES = 230 * 1024;
const QUALITIES = [0.82, 0.72, 0.62, 0.5, 0.4];

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

// Returns { blob, filename }; a file that is not a picture the browser can read is kept as it is
// (the server then says what is wrong with it).
export async function preparePhoto(file) {
  if (!file.type.startsWith('image/')) return { blob: file, filename: file.name };
  let image;
  try {
    image = await decode(file);
  } catch (err) {
    return { blob: file, filename: file.name };
  }
  let scale = Math.min(1, MAX_SIDE / Math.max(image.width, image.height));
  for (;;) {
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(image.width * scale));
    canvas.height = Math.max(1, Math.round(image.height * scale));
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff'; // transparent PNGs get a white background, not black
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    for (const quality of QUALITIES) {
      const blob = await toBlob(canvas, quality);
      if (blob && blob.size <= TARGET_BYTES) {
        if (image.close) image.close();
        return { blob, filename: jpegName(file.name) };
      }
    }
    scale *= 0.75; // still too heavy (a very busy picture): make it smaller
    if (Math.max(image.width, image.height) * scale < 64) return { blob: file, filename: file.name };
  }
}
