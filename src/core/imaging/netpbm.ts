// Netpbm images (PBM, PGM, PPM in their plain and raw forms, P1-P6, and PAM, P7) to packed 8-bit pixels for
// sharp's raw input. No maintained npm package parses them (the `netpbm` package converts through the Netpbm
// programs); the format is a text header and rows of samples, so it is parsed here.
import { DoppelError } from '../../shared/api.js';
import { checkPixelLimit, type RawPixels } from './bitmap.js';

const fail = (reason: string, cause?: unknown) => new DoppelError('decode-failed', reason, { cause });
const corrupt = (detail: string) => fail(`Corrupt or truncated Netpbm image (${detail})`);

/** Whether the bytes start like a Netpbm file: 'P1'..'P7' and whitespace. */
export function isNetpbm(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0x50 && b[1]! >= 0x31 && b[1]! <= 0x37 && isSpace(b[2]!);
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;

/** Reads whitespace-separated tokens of a header, skipping '#' comments. */
class Tokens {
  pos: number;
  constructor(
    private readonly b: Buffer,
    start: number,
  ) {
    this.pos = start;
  }
  /** The next token, or null at the end of the bytes. */
  next(): string | null {
    const b = this.b;
    for (;;) {
      while (this.pos < b.length && isSpace(b[this.pos]!)) this.pos++;
      if (this.pos < b.length && b[this.pos] === 0x23) {
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
        continue;
      }
      break;
    }
    const start = this.pos;
    while (this.pos < b.length && !isSpace(b[this.pos]!) && b[this.pos] !== 0x23) this.pos++;
    return this.pos > start ? b.toString('latin1', start, this.pos) : null;
  }
  int(what: string, min: number, max: number): number {
    const t = this.next();
    if (t === null) throw corrupt(`no ${what}`);
    if (!/^\d+$/.test(t)) throw corrupt(`${what} '${t.slice(0, 20)}' is not a number`);
    const v = Number(t);
    if (v < min || v > max) throw corrupt(`${what} ${v} out of range`);
    return v;
  }
}

interface Header {
  kind: number;
  width: number;
  height: number;
  depth: number;
  maxval: number;
  /** Where the samples begin. */
  data: number;
}

function readHeader(b: Buffer): Header {
  const kind = b[1]! - 0x30;
  const t = new Tokens(b, 2);
  if (kind === 7) {
    const fields: Record<string, number> = {};
    for (;;) {
      const key = t.next();
      if (key === null) throw corrupt('no ENDHDR');
      if (key === 'ENDHDR') break;
      if (key === 'TUPLTYPE') {
        t.next();
        continue;
      }
      if (!['WIDTH', 'HEIGHT', 'DEPTH', 'MAXVAL'].includes(key))
        throw corrupt(`unknown header field '${key.slice(0, 20)}'`);
      fields[key] = t.int(key.toLowerCase(), 1, key === 'MAXVAL' ? 65535 : 2 ** 31 - 1);
    }
    const { WIDTH: width, HEIGHT: height, DEPTH: depth, MAXVAL: maxval } = fields;
    if (!width || !height || !depth || !maxval) throw corrupt('header lacks WIDTH, HEIGHT, DEPTH or MAXVAL');
    if (depth > 4) throw fail(`Unsupported PAM image (${depth} channels)`);
    // ENDHDR ends its line.
    while (t.pos < b.length && b[t.pos] !== 0x0a) t.pos++;
    return { kind, width, height, depth, maxval, data: t.pos + 1 };
  }
  const width = t.int('width', 1, 2 ** 31 - 1);
  const height = t.int('height', 1, 2 ** 31 - 1);
  const bitmap = kind === 1 || kind === 4;
  const maxval = bitmap ? 1 : t.int('maxval', 1, 65535);
  // One whitespace byte ends the header of the raw forms.
  if (t.pos >= b.length && kind >= 4) throw corrupt('no pixel data');
  return { kind, width, height, depth: kind === 3 || kind === 6 ? 3 : 1, maxval, data: t.pos + 1 };
}

/** The first image of a Netpbm file as 8-bit grey, grey + alpha, RGB or RGBA; samples scaled from maxval to 255. */
export function decodeNetpbm(input: Buffer, maxPixels: number): RawPixels {
  const h = readHeader(input);
  checkPixelLimit(h.width, h.height, maxPixels);
  const { width, height, depth, maxval } = h;
  const samples = width * height * depth;
  const out = Buffer.allocUnsafe(samples);
  const scale = (v: number) => (v >= maxval ? 255 : Math.round((v * 255) / maxval));
  if (h.kind === 4) {
    // Rows of bits, each row padded to a byte, 1 black.
    const rowBytes = Math.ceil(width / 8);
    if (input.length < h.data + rowBytes * height)
      throw corrupt(`${input.length} bytes, short of ${width} x ${height}`);
    for (let y = 0; y < height; y++) {
      const row = h.data + y * rowBytes;
      for (let x = 0; x < width; x++) out[y * width + x] = (input[row + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 0 : 255;
    }
  } else if (h.kind <= 3) {
    // Plain (ASCII) forms; in P1 the digits need no separators.
    const t = new Tokens(input, h.data - 1);
    let i = 0;
    if (h.kind === 1) {
      for (let p = h.data - 1; p < input.length && i < samples; p++) {
        const c = input[p]!;
        if (c === 0x30 || c === 0x31) out[i++] = c === 0x31 ? 0 : 255;
        else if (c === 0x23) while (p < input.length && input[p] !== 0x0a) p++;
        else if (!isSpace(c)) throw corrupt(`'${String.fromCharCode(c)}' in a plain PBM`);
      }
    } else {
      for (; i < samples; i++) {
        const v = t.next();
        if (v === null) break;
        if (!/^\d+$/.test(v) || Number(v) > maxval) throw corrupt(`sample '${v.slice(0, 20)}'`);
        out[i] = scale(Number(v));
      }
    }
    if (i < samples) throw corrupt(`${i} of ${samples} samples`);
  } else {
    const wide = maxval > 255;
    const need = samples * (wide ? 2 : 1);
    if (input.length < h.data + need) throw corrupt(`${input.length - h.data} bytes of pixels, short of ${need}`);
    if (wide) for (let i = 0, p = h.data; i < samples; i++, p += 2) out[i] = scale(input.readUInt16BE(p));
    else if (maxval === 255) input.copy(out, 0, h.data, h.data + samples);
    else for (let i = 0; i < samples; i++) out[i] = scale(input[h.data + i]!);
    // A PAM bitmap (BLACKANDWHITE, maxval 1) has 1 for white, as the scaling gives.
  }
  return { data: out, width, height, channels: depth as RawPixels['channels'] };
}
