// Packed RGB as PNG files for people to look at: upscaled by nearest neighbour, or two pictures side by side.
import sharp from 'sharp';
import { DoppelError } from '../../shared/api.js';

/** Packed RGB (a Buffer or any Uint8Array) encoded as PNG. */
function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  const input = Buffer.isBuffer(rgb) ? rgb : Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return sharp(input, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Nearest-neighbour upscaling of packed RGB by an integer factor. */
function upscale(rgb: Uint8Array, width: number, height: number, scale: number): Uint8Array {
  if (scale === 1) return rgb;
  const out = new Uint8Array(width * scale * height * scale * 3);
  const rowLen = width * scale * 3;
  for (let y = 0; y < height; y++) {
    const row = out.subarray(y * scale * rowLen, (y * scale + 1) * rowLen);
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      for (let k = 0; k < scale; k++) row.set(rgb.subarray(src, src + 3), (x * scale + k) * 3);
    }
    for (let k = 1; k < scale; k++)
      out.copyWithin((y * scale + k) * rowLen, y * scale * rowLen, (y * scale + 1) * rowLen);
  }
  return out;
}

function checkRgb(rgb: Uint8Array, width: number, height: number, scale: number): void {
  if (!Number.isInteger(scale) || scale < 1) throw new DoppelError('invalid-argument', `Bad scale: ${scale}`);
  if (rgb.length !== width * height * 3) {
    throw new DoppelError(
      'invalid-argument',
      `RGB buffer has ${rgb.length} bytes; ${width}x${height} needs ${width * height * 3}`,
    );
  }
}

/** Encodes packed RGB as PNG, optionally upscaled (nearest neighbour) by an integer factor. */
export async function rgbToPng(
  rgb: Uint8Array,
  width: number,
  height: number,
  opts: { scale?: number } = {},
): Promise<Buffer> {
  const scale = opts.scale ?? 1;
  checkRgb(rgb, width, height, scale);
  return encodePng(upscale(rgb, width, height, scale), width * scale, height * scale);
}

const GAP = 4;

/** Two size x size RGB images side by side, each upscaled by `scale`, with a 4 px white gap. */
export async function sideBySidePng(left: Uint8Array, right: Uint8Array, size: number, scale: number): Promise<Buffer> {
  checkRgb(left, size, size, scale);
  checkRgb(right, size, size, scale);
  const side = size * scale;
  const width = side * 2 + GAP;
  const canvas = new Uint8Array(width * side * 3).fill(255);
  const a = upscale(left, size, size, scale);
  const b = upscale(right, size, size, scale);
  for (let y = 0; y < side; y++) {
    canvas.set(a.subarray(y * side * 3, (y + 1) * side * 3), y * width * 3);
    canvas.set(b.subarray(y * side * 3, (y + 1) * side * 3), (y * width + side + GAP) * 3);
  }
  return encodePng(canvas, width, side);
}
