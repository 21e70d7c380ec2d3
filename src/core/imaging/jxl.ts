// JPEG XL through libjxl compiled to wasm (@jsquash/jxl), which the prebuilt libvips lacks. The decoder gives 8-bit
// sRGB RGBA with the file's orientation applied (libjxl's default), whatever the bit depth coded (8, 10, 16 bits,
// float). The picture's size is read from the codestream's SizeHeader first, so the pixel limit refuses a huge
// image before the decoder allocates it.
import fs from 'node:fs';
import nodeModule from 'node:module';
import { DoppelError } from '../../shared/api.js';
import { checkPixelLimit, type RawPixels } from './bitmap.js';

const fail = (reason: string, cause?: unknown) => new DoppelError('decode-failed', reason, { cause });

const CONTAINER = Buffer.from([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]);

/** Whether the bytes are a JPEG XL codestream (FF 0A) or its ISO BMFF container. */
export function isJxl(b: Uint8Array): boolean {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0x0a) return true;
  return b.length >= 12 && Buffer.from(b.buffer, b.byteOffset, 12).equals(CONTAINER);
}

/** The start of the codestream: the file itself, or the first jxlc/jxlp box of the container. */
function codestream(b: Buffer): Buffer | null {
  if (b[0] === 0xff) return b;
  for (let pos = 0; pos + 8 <= b.length;) {
    let size = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > b.length) return null;
      size = Number(b.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) size = b.length - pos;
    if (size < header) return null;
    if (type === 'jxlc') return b.subarray(pos + header, pos + size);
    if (type === 'jxlp') return b.subarray(pos + header + 4, pos + size);
    pos += size;
  }
  return null;
}

/** Reads bits least significant first, as JPEG XL headers are written. */
class Bits {
  private pos = 0;
  constructor(private readonly b: Buffer) {}
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++, this.pos++) {
      const byte = this.b[this.pos >> 3];
      if (byte === undefined) throw new Error('header cut short');
      v += ((byte >> (this.pos & 7)) & 1) * 2 ** i;
    }
    return v;
  }
  /** U32(1 + u(9), 1 + u(13), 1 + u(18), 1 + u(30)): the SizeHeader's dimension. */
  dimension(): number {
    return 1 + this.u([9, 13, 18, 30][this.u(2)]!);
  }
}

const RATIOS: readonly (readonly [number, number])[] = [
  [1, 1],
  [12, 10],
  [4, 3],
  [3, 2],
  [16, 9],
  [5, 4],
  [2, 1],
];

/** The picture's size from the SizeHeader (ISO/IEC 18181-1 A.2); null when the header cannot be read. */
export function jxlSize(input: Buffer): { width: number; height: number } | null {
  const cs = codestream(input);
  if (!cs || cs.length < 3 || cs[0] !== 0xff || cs[1] !== 0x0a) return null;
  try {
    const r = new Bits(cs.subarray(2, 16));
    const small = r.u(1) === 1;
    const height = small ? (r.u(5) + 1) * 8 : r.dimension();
    const ratio = r.u(3);
    let width: number;
    if (ratio === 0) width = small ? (r.u(5) + 1) * 8 : r.dimension();
    else {
      const [num, den] = RATIOS[ratio - 1]!;
      width = Math.floor((height * num) / den);
    }
    return { width, height };
  } catch {
    return null;
  }
}

interface JxlDecoder {
  decode(data: ArrayBuffer): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}

/** What @jsquash/jxl/decode.js exports (its own types name the DOM's ImageData, which Node's types lack). */
interface JxlDecodeModule {
  init(module: WebAssembly.Module): Promise<unknown>;
  default: JxlDecoder['decode'];
}

let decoder: Promise<JxlDecoder> | null = null;

/**
 * The wasm file the decoder runs, loaded by path (the package's own loader fetches a URL, which Node cannot for a
 * file): node_modules/@jsquash/jxl/codec/dec/jxl_dec.wasm, so packaged apps must ship it as a real file.
 */
export const JXL_WASM = '@jsquash/jxl/codec/dec/jxl_dec.wasm';

function loadDecoder(): Promise<JxlDecoder> {
  decoder ??= (async () => {
    const mod = (await import('@jsquash/jxl/decode.js')) as unknown as JxlDecodeModule;
    const wasm = await WebAssembly.compile(
      fs.readFileSync(nodeModule.createRequire(import.meta.url).resolve(JXL_WASM)),
    );
    await mod.init(wasm);
    return { decode: mod.default };
  })().catch((err: unknown) => {
    decoder = null;
    throw fail(`JPEG XL decoding is not available (${(err as Error).message})`, err);
  });
  return decoder;
}

/** A JPEG XL image as 8-bit RGBA, upright. */
export async function decodeJxl(input: Buffer, maxPixels: number): Promise<RawPixels> {
  const size = jxlSize(input);
  if (!size) throw fail('Corrupt or truncated JPEG XL image (no size header)');
  checkPixelLimit(size.width, size.height, maxPixels);
  const { decode } = await loadDecoder();
  let img: Awaited<ReturnType<JxlDecoder['decode']>>;
  try {
    // The decoder takes an ArrayBuffer of its own.
    img = await decode(input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) as ArrayBuffer);
  } catch (err) {
    throw fail(`Corrupt or truncated JPEG XL image (${(err as Error).message})`, err);
  }
  const data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return { data, width: img.width, height: img.height, channels: 4 };
}
