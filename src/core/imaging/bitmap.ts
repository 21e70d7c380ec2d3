// Decoders for the formats the prebuilt libvips has no loader for, each to packed 8-bit pixels that sharp takes as
// raw input: BMP (here) and Netpbm (./netpbm.ts). Each reads the picture's size from the header first, so the
// pixel limit refuses a huge image before any pixel memory is allocated.
import { DoppelError } from '../../shared/api.js';

/** Packed 8-bit pixels: 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels. */
export interface RawPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

const fail = (reason: string, cause?: unknown) => new DoppelError('decode-failed', reason, { cause });

/** Throws the pixel limit's error when a header's size exceeds it (0: no limit). */
export function checkPixelLimit(width: number, height: number, maxPixels: number): void {
  if (maxPixels > 0 && width * height > maxPixels) {
    throw fail(`Image too large (${width} x ${height} pixels exceeds the limit of ${maxPixels})`);
  }
}

const bmpCorrupt = (detail: string) => fail(`Corrupt or truncated BMP image (${detail})`);

type Field = (px: number) => number;

/** A bit field's value scaled to 8 bits. */
function field(mask: number): Field {
  if (!mask) return () => 255;
  let shift = 0;
  while (!((mask >>> shift) & 1)) shift++;
  let bits = 0;
  while ((mask >>> (shift + bits)) & 1 && bits < 32) bits++;
  const max = 2 ** bits - 1;
  return (px) => Math.round((((px & mask) >>> shift) * 255) / max);
}

/**
 * A BMP (1, 4, 8, 16, 24 or 32 bits a pixel; uncompressed, RLE4, RLE8 or bit fields; bottom-up or top-down rows;
 * the OS/2 core header and Windows' info headers up to V5) as RGB, or RGBA when an alpha mask is used.
 * Hand-written: of the npm packages, bmp-ts writes palette and RLE pixels in the wrong byte order and decode-bmp
 * reads neither RLE nor 16-bit files (each measured on ImageMagick's files).
 */
export function decodeBmp(input: Buffer, maxPixels: number): RawPixels {
  const b = input;
  if (b.length < 26) throw bmpCorrupt(`${b.length} bytes, less than its header`);
  const headerSize = b.readUInt32LE(14);
  const core = headerSize === 12;
  if (!core && headerSize < 40) throw fail(`Unsupported BMP header (${headerSize} bytes)`);
  if (b.length < 14 + headerSize) throw bmpCorrupt(`${b.length} bytes, less than its header`);
  const width = core ? b.readUInt16LE(18) : b.readInt32LE(18);
  const signedHeight = core ? b.readInt16LE(20) : b.readInt32LE(22);
  const bits = b.readUInt16LE(core ? 24 : 28);
  const compression = core ? 0 : b.readUInt32LE(30);
  const height = Math.abs(signedHeight);
  const topDown = signedHeight < 0;
  if (width <= 0 || height <= 0) throw bmpCorrupt(`size ${width} x ${signedHeight}`);
  if (![1, 4, 8, 16, 24, 32].includes(bits)) throw fail(`Unsupported BMP image (${bits} bits a pixel)`);
  if (compression === 4 || compression === 5) throw fail('Unsupported BMP image (JPEG or PNG inside a BMP)');
  const rle = compression === 1 || compression === 2;
  if (![0, 1, 2, 3, 6].includes(compression) || (rle && bits !== (compression === 1 ? 8 : 4))) {
    throw fail(`Unsupported BMP image (compression ${compression} with ${bits} bits a pixel)`);
  }
  checkPixelLimit(width, height, maxPixels);
  const offset = b.readUInt32LE(10);
  if (offset >= b.length) throw bmpCorrupt('no pixel data');

  // Palette: after the header (and the masks of BI_BITFIELDS with a 40-byte header).
  let palette: Buffer | null = null;
  const masksAfterHeader =
    headerSize === 40 && (compression === 3 || compression === 6) ? (compression === 6 ? 16 : 12) : 0;
  if (bits <= 8) {
    const entry = core ? 3 : 4;
    const used = core ? 0 : b.readUInt32LE(46);
    const count = used > 0 && used <= 256 ? used : 1 << bits;
    const at = 14 + headerSize + masksAfterHeader;
    palette = Buffer.alloc(256 * 3);
    for (let i = 0; i < count && at + i * entry + 3 <= b.length; i++) {
      palette[i * 3] = b[at + i * entry + 2]!;
      palette[i * 3 + 1] = b[at + i * entry + 1]!;
      palette[i * 3 + 2] = b[at + i * entry]!;
    }
  }

  // Bit fields: the masks in the header (V2 and later) or after it; else the defaults.
  let masks = bits === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0xff00, 0xff, 0];
  if ((bits === 16 || bits === 32) && (compression === 3 || compression === 6)) {
    const at = 54;
    masks = [0, 1, 2, 3].map((i) =>
      i === 3 && headerSize < 56 && compression !== 6 ? 0 : at + i * 4 + 4 <= b.length ? b.readUInt32LE(at + i * 4) : 0,
    );
  } else if (bits === 32 && headerSize >= 56) {
    masks = [...masks.slice(0, 3), b.readUInt32LE(66)];
  }
  const [red, green, blue, alphaOf] = masks.map(field) as [Field, Field, Field, Field];
  const alphaMask = bits >= 16 ? masks[3]! : 0;

  const out = Buffer.alloc(width * height * 4);
  const put = (x: number, y: number, r: number, g: number, bl: number, a: number) => {
    const o = ((topDown ? y : height - 1 - y) * width + x) * 4;
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = bl;
    out[o + 3] = a;
  };
  const fromPalette = (x: number, y: number, i: number) =>
    put(x, y, palette![i * 3]!, palette![i * 3 + 1]!, palette![i * 3 + 2]!, 255);

  if (rle) {
    // Rows in file order (y counts from the first row stored); skipped pixels stay index 0.
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) fromPalette(x, y, 0);
    let p = offset;
    let x = 0;
    let y = 0;
    const byte = () => {
      if (p >= b.length) throw bmpCorrupt('RLE data ends early');
      return b[p++]!;
    };
    const pixel = (i: number) => {
      if (x < width && y < height) fromPalette(x, y, i);
      x++;
    };
    for (let done = false; !done && y < height;) {
      const n = byte();
      const v = byte();
      if (n > 0) {
        for (let i = 0; i < n; i++) pixel(compression === 1 ? v : i & 1 ? v & 15 : v >> 4);
      } else if (v === 0) {
        x = 0;
        y++;
      } else if (v === 1) {
        done = true;
      } else if (v === 2) {
        x += byte();
        y += byte();
      } else {
        const bytes = compression === 1 ? v : Math.ceil(v / 2);
        for (let i = 0; i < v; i++) {
          const c = compression === 1 ? byte() : i & 1 ? b[p - 1]! & 15 : byte() >> 4;
          pixel(c);
        }
        if (bytes & 1) p++;
      }
    }
  } else {
    const stride = Math.ceil((width * bits) / 32) * 4;
    if (offset + stride * (height - 1) + Math.ceil((width * bits) / 8) > b.length) {
      throw bmpCorrupt(`${b.length - offset} bytes of pixels, short of ${stride * height}`);
    }
    for (let y = 0; y < height; y++) {
      const row = offset + y * stride;
      for (let x = 0; x < width; x++) {
        if (bits <= 8) {
          const bitAt = x * bits;
          const i = (b[row + (bitAt >> 3)]! >> (8 - bits - (bitAt & 7))) & ((1 << bits) - 1);
          fromPalette(x, y, i);
        } else if (bits === 24) {
          const o = row + x * 3;
          put(x, y, b[o + 2]!, b[o + 1]!, b[o]!, 255);
        } else {
          const px = bits === 16 ? b.readUInt16LE(row + x * 2) : b.readUInt32LE(row + x * 4);
          put(x, y, red(px), green(px), blue(px), alphaOf(px));
        }
      }
    }
  }
  // Many 32-bit files carry an alpha mask and leave it 0 everywhere: opaque, then.
  let alpha = false;
  if (alphaMask) for (let i = 3; i < out.length && !alpha; i += 4) alpha = out[i] !== 0;
  if (alpha) return { data: out, width, height, channels: 4 };
  const rgb = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0, o = 0; o < rgb.length; i += 4, o += 3) {
    rgb[o] = out[i]!;
    rgb[o + 1] = out[i + 1]!;
    rgb[o + 2] = out[i + 2]!;
  }
  return { data: rgb, width, height, channels: 3 };
}
