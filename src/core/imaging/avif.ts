// AVIF with 10 or 12-bit samples (HDR photos, some phones' AVIFs) through libavif with dav1d compiled to wasm
// (@jsquash/avif): the prebuilt libvips' libheif decodes 8-bit AV1 only. The decoder gives 8-bit RGBA as stored,
// so the container's rotation and mirroring (irot, imir) are applied here, as libheif applies them.
import fs from 'node:fs';
import nodeModule from 'node:module';
import sharp from 'sharp';
import { DoppelError } from '../../shared/api.js';

const fail = (reason: string, cause?: unknown) => new DoppelError('decode-failed', reason, { cause });

/** The wasm file the decoder runs, loaded by path (the package's own loader fetches a URL, which Node cannot). */
export const AVIF_WASM = '@jsquash/avif/codec/dec/avif_dec.wasm';

interface AvifDecodeModule {
  init(module: WebAssembly.Module): Promise<void>;
  default(data: ArrayBuffer): Promise<{ width: number; height: number; data: Uint8ClampedArray } | null>;
}

let decoder: Promise<AvifDecodeModule['default']> | null = null;

function loadDecoder(): Promise<AvifDecodeModule['default']> {
  decoder ??= (async () => {
    const mod = (await import('@jsquash/avif/decode.js')) as unknown as AvifDecodeModule;
    const file = nodeModule.createRequire(import.meta.url).resolve(AVIF_WASM);
    await mod.init(await WebAssembly.compile(fs.readFileSync(file)));
    return mod.default;
  })().catch((err: unknown) => {
    decoder = null;
    throw fail(`AVIF decoding is not available (${(err as Error).message})`, err);
  });
  return decoder;
}

/** The first irot (anticlockwise quarter turns) and imir (axis 0: top-bottom, 1: left-right) properties of the file. */
function transforms(b: Buffer): { turns: number; mirror: 0 | 1 | null } {
  const meta = b.indexOf('ipco', 0, 'latin1');
  const at = (box: string) => (meta < 0 ? -1 : b.indexOf(box, meta, 'latin1'));
  const irot = at('irot');
  const imir = at('imir');
  return {
    turns: irot >= 4 && irot + 4 < b.length && b.readUInt32BE(irot - 4) === 9 ? b[irot + 4]! & 3 : 0,
    mirror: imir >= 4 && imir + 4 < b.length && b.readUInt32BE(imir - 4) === 9 ? ((b[imir + 4]! & 1) as 0 | 1) : null,
  };
}

/** A high-bit-depth AVIF as a pipeline of its upright 8-bit RGBA pixels. */
export async function avifPipeline(input: Buffer): Promise<sharp.Sharp> {
  const decode = await loadDecoder();
  let img: Awaited<ReturnType<typeof decode>>;
  try {
    img = await decode(input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) as ArrayBuffer);
  } catch (err) {
    throw fail(`Corrupt or truncated AVIF image (${(err as Error).message})`, err);
  }
  if (!img) throw fail('Corrupt or truncated AVIF image (the decoder gave no picture)');
  const raw = { width: img.width, height: img.height, channels: 4 as const };
  let pixels = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw });
  const { turns, mirror } = transforms(input);
  // HEIF applies the rotation first, then the mirroring; sharp mirrors before it rotates, so two passes for both.
  if (turns) {
    pixels = pixels.rotate(360 - turns * 90);
    if (mirror !== null) {
      const { data, info } = await pixels.raw().toBuffer({ resolveWithObject: true });
      pixels = sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } });
    }
  }
  if (mirror === 0) pixels = pixels.flip();
  if (mirror === 1) pixels = pixels.flop();
  return pixels;
}
