// BMP, Netpbm and JPEG XL, decoded beside libvips (Doppel's BMP and Netpbm readers, libjxl in
// wasm) and compared with the decode of the same picture as PNG; AVIF at 8, 10 and 12 bits. The files are made here, from a real photo: by
// ImageMagick, cjxl and avifenc where they are installed (.ci/run installs them), and by code.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoppelError } from '../../src/shared/api.js';
import { analyzeImage, type Analysis } from '../../src/core/imaging/analyze.js';
import { jxlSize } from '../../src/core/imaging/jxl.js';
import { PHOTOS, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-formats-');
const PHOTO = path.join(PHOTOS, 'CBSD68/101085.png'); // 321 x 481 (portrait)
const S = 32;

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
/** ImageMagick 7's `magick`, else 6's `convert`. */
const MAGICK = has('magick') ? 'magick' : has('convert') ? 'convert' : null;
const magick = (...args: string[]) => execFileSync(MAGICK!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
const file = (name: string) => path.join(tmp, name);
for (const [tool, found, pkg] of [
  ['ImageMagick', MAGICK !== null, 'imagemagick'],
  ['cjxl', has('cjxl'), 'libjxl-tools'],
  ['avifenc', has('avifenc'), 'libavif-bin'],
] as const) {
  if (!found) console.warn(`skipping the files made by ${tool}: it is missing (Debian: ${pkg})`);
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

const analyze = (bytes: Buffer) => analyzeImage(bytes, { inputSize: S });
const pixels = async (jpeg: Buffer) => (await sharp(jpeg).raw().toBuffer({ resolveWithObject: true })).data;

/** The decoded picture matches the reference's: size, model input and thumbnail pixels. */
async function expectSamePicture(a: Analysis, ref: Analysis, tolerance: number): Promise<void> {
  expect([a.width, a.height]).toEqual([ref.width, ref.height]);
  expect(meanAbsDiff(a.modelInput, ref.modelInput)).toBeLessThan(tolerance);
  const [t, r] = [await sharp(a.thumbnail).metadata(), await sharp(ref.thumbnail).metadata()];
  expect([t.width, t.height]).toEqual([r.width, r.height]);
  expect(meanAbsDiff(await pixels(a.thumbnail), await pixels(ref.thumbnail))).toBeLessThan(tolerance + 1);
}

async function decodeFails(bytes: Buffer, maxPixels?: number): Promise<string> {
  const err = await analyzeImage(bytes, { inputSize: S, ...(maxPixels ? { maxPixels } : {}) }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DoppelError);
  expect((err as DoppelError).kind).toBe('decode-failed');
  return (err as DoppelError).message;
}

let rgb: { data: Buffer; width: number; height: number };
let original: Analysis;

beforeAll(async () => {
  const { data, info } = await sharp(PHOTO).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  rgb = { data, width: info.width, height: info.height };
  original = await analyze(fs.readFileSync(PHOTO));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A 24-bit BMP written here: BITMAPINFOHEADER, BGR rows padded to 4 bytes, bottom-up or top-down. */
function bmp24(topDown: boolean): Buffer {
  const { data, width, height } = rgb;
  const row = Math.ceil((width * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * height);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(topDown ? -height : height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    const at = 54 + (topDown ? y : height - 1 - y) * row;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      b[at + x * 3] = data[s + 2]!;
      b[at + x * 3 + 1] = data[s + 1]!;
      b[at + x * 3 + 2] = data[s]!;
    }
  }
  return b;
}

describe('BMP', () => {
  it.each([false, true])(
    'a 24-bit BMP (top-down rows: %s) decodes to the PNG original, pixel for pixel',
    async (td) => {
      const a = await analyze(bmp24(td));
      expect(a.format).toBe('bmp');
      await expectSamePicture(a, original, 0.01);
    },
  );

  // ImageMagick writes each kind, and the same picture as PNG from its own reading of the BMP: the reference.
  it.skipIf(!MAGICK).each([
    ['1-bit', ['-monochrome', '-type', 'bilevel'], 'bmp3'],
    ['4-bit palette, RLE4', ['-colors', '16', '-type', 'palette', '-compress', 'RLE'], 'bmp3'],
    ['8-bit palette', ['-colors', '200', '-type', 'palette'], 'bmp3'],
    ['8-bit palette, RLE8', ['-colors', '200', '-type', 'palette', '-compress', 'RLE'], 'bmp3'],
    ['16-bit bit fields', ['-define', 'bmp:subtype=RGB565'], 'bmp'],
    ['32-bit with alpha (V5 header)', ['-alpha', 'set', '-channel', 'A', '-evaluate', 'set', '60%', '+channel'], 'bmp'],
    ['24-bit grey', ['-colorspace', 'gray', '-type', 'truecolor'], 'bmp3'],
  ] as const)('%s, as ImageMagick writes it, decodes to its PNG copy', async (name, opts, coder) => {
    const out = file(`${name.replace(/\W+/g, '-')}.bmp`);
    magick(PHOTO, ...opts, `${coder}:${out}`);
    magick(out, `png:${out}.png`);
    const a = await analyze(fs.readFileSync(out));
    expect(a.format).toBe('bmp');
    await expectSamePicture(a, await analyze(fs.readFileSync(`${out}.png`)), 0.6);
    // ... and it is the photo: close to the original (palettes and 1 bit lose detail, not the picture; the
    // translucent one is flattened onto white).
    if (!name.includes('alpha'))
      expect(meanAbsDiff(a.modelInput, original.modelInput)).toBeLessThan(name === '1-bit' ? 60 : 12);
  });

  it('refuses empty, truncated and corrupt BMPs, and huge ones from the header alone', async () => {
    const good = bmp24(false);
    expect(await decodeFails(Buffer.alloc(0))).toBe('Empty file (0 bytes)');
    expect(await decodeFails(good.subarray(0, 40))).toMatch(/^Corrupt or truncated BMP image/);
    expect(await decodeFails(good.subarray(0, good.length / 2))).toMatch(/^Corrupt or truncated BMP image \(/);
    const noPixels = Buffer.from(good.subarray(0, 54));
    expect(await decodeFails(noPixels)).toMatch(/^Corrupt or truncated BMP image \(no pixel data\)/);
    const bits = Buffer.from(good);
    bits.writeUInt16LE(7, 28);
    expect(await decodeFails(bits)).toBe('Unsupported BMP image (7 bits a pixel)');
    // A header claiming 100,000 x 100,000 pixels, refused before anything that size is allocated.
    const huge = Buffer.from(good);
    huge.writeInt32LE(100_000, 18);
    huge.writeInt32LE(100_000, 22);
    expect(await decodeFails(huge)).toBe('Image too large (100000 x 100000 pixels exceeds the limit of 268402689)');
  });
});

describe('Netpbm', () => {
  const { max } = Math;
  /** The photo as each Netpbm kind, written here. */
  function netpbm(kind: string): Buffer {
    const { data, width, height } = rgb;
    const grey = (i: number) => Math.round(0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!);
    const n = width * height;
    const head = (magic: string, maxval?: number) =>
      Buffer.from(`${magic}\n# made by a test\n${width} ${height}\n${maxval ? `${maxval}\n` : ''}`, 'latin1');
    switch (kind) {
      case 'P6':
        return Buffer.concat([head('P6', 255), data]);
      case 'P6 16-bit': {
        const b = Buffer.alloc(n * 6);
        for (let i = 0; i < n * 3; i++) b.writeUInt16BE(data[i]! * 257, i * 2);
        return Buffer.concat([head('P6', 65535), b]);
      }
      case 'P3':
        return Buffer.concat([head('P3', 255), Buffer.from([...data].join(' '), 'latin1')]);
      case 'P5':
        return Buffer.concat([head('P5', 255), Buffer.from(Array.from({ length: n }, (_, i) => grey(i)))]);
      case 'P2 maxval 15':
        return Buffer.concat([
          head('P2', 15),
          Buffer.from(Array.from({ length: n }, (_, i) => Math.round((grey(i) * 15) / 255)).join('\n'), 'latin1'),
        ]);
      case 'P7 RGB_ALPHA': {
        const b = Buffer.alloc(n * 4);
        for (let i = 0; i < n; i++) {
          data.copy(b, i * 4, i * 3, i * 3 + 3);
          b[i * 4 + 3] = 255;
        }
        const h = `P7\nWIDTH ${width}\nHEIGHT ${height}\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n`;
        return Buffer.concat([Buffer.from(h, 'latin1'), b]);
      }
      default:
        throw new Error(kind);
    }
  }
  /** The same picture as PNG, by sharp from the same samples: grey kinds compared as grey. */
  async function reference(kind: string): Promise<Analysis> {
    if (!kind.startsWith('P5') && !kind.startsWith('P2')) return original;
    const { data, width, height } = rgb;
    const grey = Buffer.from(
      Array.from({ length: width * height }, (_, i) =>
        Math.round(0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!),
      ),
    );
    return analyze(
      await sharp(grey, { raw: { width, height, channels: 1 } })
        .png()
        .toBuffer(),
    );
  }

  it.each(['P6', 'P6 16-bit', 'P3', 'P5', 'P2 maxval 15', 'P7 RGB_ALPHA'])(
    '%s decodes to the same picture as the PNG',
    async (kind) => {
      const a = await analyze(netpbm(kind));
      expect(a.format).toBe('pnm');
      // maxval 15 keeps 16 grey levels: within 255 / 15 / 2 of the 8-bit picture.
      await expectSamePicture(a, await reference(kind), kind.includes('15') ? 9 : 0.01);
    },
  );

  it.skipIf(!MAGICK).each([
    ['pbm', 'P4 bitmap', ['-monochrome']],
    ['pbm', 'P1 plain bitmap', ['-monochrome', '-compress', 'none']],
    ['pgm', 'P5 16-bit', ['-colorspace', 'gray', '-depth', '16']],
    ['ppm', 'P6 from ImageMagick', []],
    ['pam', 'P7 GRAYSCALE_ALPHA', ['-colorspace', 'gray', '-alpha', 'set']],
  ] as const)('.%s (%s), as ImageMagick writes it, decodes to its PNG copy', async (ext, name, opts) => {
    const out = file(`${name.replace(/\W+/g, '-')}.${ext}`);
    magick(PHOTO, ...opts, out);
    magick(out, `png:${out}.png`);
    const a = await analyze(fs.readFileSync(out));
    expect(a.format).toBe('pnm');
    await expectSamePicture(a, await analyze(fs.readFileSync(`${out}.png`)), 0.6);
    expect(max(a.width, a.height)).toBe(481);
  });

  it('refuses truncated and corrupt Netpbm files with the reason, and huge ones from the header', async () => {
    const p6 = netpbm('P6');
    expect(await decodeFails(p6.subarray(0, p6.length - 100))).toMatch(
      /^Corrupt or truncated Netpbm image \(\d+ bytes of pixels, short of 463203\)$/,
    );
    expect(await decodeFails(Buffer.from('P6\n481 x\n255\n'))).toBe(
      "Corrupt or truncated Netpbm image (height 'x' is not a number)",
    );
    expect(await decodeFails(Buffer.from('P3\n2 1\n255\n1 2 3 4 5'))).toBe(
      'Corrupt or truncated Netpbm image (5 of 6 samples)',
    );
    expect(await decodeFails(Buffer.from('P6\n100000 100000\n255\n\0\0\0'))).toBe(
      'Image too large (100000 x 100000 pixels exceeds the limit of 268402689)',
    );
  });
});

describe('JPEG XL', () => {
  async function encodeJxl(opts: Record<string, unknown>): Promise<Buffer> {
    const { default: encode, init } = await import('@jsquash/jxl/encode.js');
    const { createRequire } = await import('node:module');
    const wasm = createRequire(import.meta.url).resolve('@jsquash/jxl/codec/enc/jxl_enc.wasm');
    await init(await WebAssembly.compile(fs.readFileSync(wasm)));
    const { data, info } = await sharp(PHOTO).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const image = { data: new Uint8ClampedArray(data), width: info.width, height: info.height, colorSpace: 'srgb' };
    return Buffer.from(await encode(image as unknown as ImageData, opts));
  }

  it('a lossless JPEG XL (encoded here by libjxl in wasm) decodes to the PNG original', async () => {
    const jxl = await encodeJxl({ lossless: true });
    expect(jxlSize(jxl)).toEqual({ width: 321, height: 481 });
    const a = await analyze(jxl);
    expect(a.format).toBe('jxl');
    await expectSamePicture(a, original, 0.01);
  }, 60_000);

  it('a lossy JPEG XL decodes close to the original; truncated and corrupt ones fail with the reason', async () => {
    const jxl = await encodeJxl({ quality: 80 });
    await expectSamePicture(await analyze(jxl), original, 3);
    expect(await decodeFails(jxl.subarray(0, jxl.length >> 1))).toMatch(/^Corrupt or truncated JPEG XL image/);
    expect(await decodeFails(Buffer.from([0xff, 0x0a]))).toBe('Corrupt or truncated JPEG XL image (no size header)');
  }, 60_000);

  it.skipIf(!has('cjxl'))(
    '16-bit JPEG XL files from cjxl, bare and in the ISO container, decode to the original',
    async () => {
      const png16 = file('p16.png');
      await sharp(PHOTO).toColourspace('rgb16').png().toFile(png16);
      expect((await sharp(png16).metadata()).depth).toBe('ushort');
      const cases = [
        ['16-bit lossless', ['-d', '0']],
        ['16-bit, container', ['-d', '1', '--container=1']],
      ] as const;
      for (const [name, args] of cases) {
        const out = file(`${name.replace(/\W+/g, '-')}.jxl`);
        execFileSync('cjxl', [png16, out, ...args], { stdio: 'ignore' });
        const a = await analyze(fs.readFileSync(out));
        expect(a.format).toBe('jxl');
        await expectSamePicture(a, original, name.includes('lossless') ? 1 : 3);
      }
    },
    60_000,
  );

  it('checks the pixel limit against the size header before decoding', async () => {
    const jxl = await encodeJxl({ quality: 50 });
    expect(await decodeFails(jxl, 100_000)).toBe('Image too large (321 x 481 pixels exceeds the limit of 100000)');
  }, 60_000);
});

describe('AVIF', () => {
  async function avif(depth: number): Promise<Buffer> {
    const png16 = file('a16.png');
    await sharp(PHOTO).toColourspace('rgb16').png().toFile(png16);
    const out = file(`a${depth}.avif`);
    execFileSync('avifenc', ['-d', String(depth), '-s', '10', '--min', '0', '--max', '10', png16, out], {
      stdio: 'ignore',
    });
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.compression, meta.bitsPerSample]).toEqual(['heif', 'av1', depth]);
    return fs.readFileSync(out);
  }

  it.skipIf(!has('avifenc'))(
    'an 8-bit AVIF (avifenc) decodes close to the original',
    async () => {
      const a = await analyze(await avif(8));
      expect(a.format).toBe('heif');
      await expectSamePicture(a, original, 3);
    },
    60_000,
  );

  // The prebuilt libvips' libheif decodes AV1 with 8-bit samples only: 10 and 12-bit AVIF (HDR) go through libavif
  // in wasm.
  it.skipIf(!has('avifenc')).each([10, 12])(
    'a %i-bit AVIF decodes close to the original',
    async (depth) => {
      await expect(
        sharp(await avif(depth))
          .raw()
          .toBuffer(),
      ).rejects.toThrow(/Bitstream not supported/);
      const a = await analyze(await avif(depth));
      expect(a.format).toBe('heif');
      await expectSamePicture(a, original, 3);
    },
    60_000,
  );

  it.skipIf(!has('avifenc'))(
    'a 10-bit AVIF turned by its container (irot, imir) comes out as libheif shows the 8-bit one',
    async () => {
      for (const turn of [
        ['--irot', '1'],
        ['--irot', '3'],
        ['--imir', '0'],
        ['--irot', '1', '--imir', '1'],
      ]) {
        const shown: Analysis[] = [];
        for (const depth of [8, 10]) {
          const out = file(`t${depth}.avif`);
          execFileSync('avifenc', ['-d', String(depth), '-s', '10', '--min', '0', '--max', '10', ...turn, PHOTO, out], {
            stdio: 'ignore',
          });
          shown.push(await analyze(fs.readFileSync(out)));
        }
        await expectSamePicture(shown[1]!, shown[0]!, 3);
      }
    },
    60_000,
  );

  it.skipIf(!has('avifenc'))(
    'a truncated 10-bit AVIF fails with the reason',
    async () => {
      const bytes = await avif(10);
      expect(await decodeFails(bytes.subarray(0, bytes.length >> 1))).toMatch(/^Corrupt or truncated AVIF image/);
    },
    60_000,
  );
});
