import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DoppelError } from '../../src/shared/api.js';
import {
  analyzeImage,
  exifDateToIso,
  findTrimBox,
  imageToModelInput,
  rgbToPng,
  sideBySidePng,
} from '../../src/core/imaging/analyze.js';
import { resizeRgb } from '../../src/core/imaging/resize.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data');
const read = (p: string) => fs.readFileSync(path.join(DATA, p));
const JPG = 'photos/CSun_Hays80/abbey_sun_asztnlqhlrvirneh.jpg';
const PNG = 'photos/CBSD68/101085.png';
const ORIENT = 'exif-samples/jpg/orientation';
const S = 32;

async function decodeFails(input: Buffer, opts: { maxPixels?: number } = {}): Promise<string> {
  try {
    await analyzeImage(input, { inputSize: S, ...opts });
  } catch (err) {
    expect(err).toBeInstanceOf(DoppelError);
    expect((err as DoppelError).kind).toBe('decode-failed');
    return (err as DoppelError).message;
  }
  throw new Error('expected decoding to fail');
}

/** Mean of each RGB channel of packed RGB. */
function meanRgb(rgb: Uint8Array): [number, number, number] {
  const sum = [0, 0, 0];
  for (let i = 0; i < rgb.length; i++) sum[i % 3]! += rgb[i]!;
  const n = rgb.length / 3;
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

async function expectThumbnail(thumb: Buffer, width: number, height: number, thumbSize: number) {
  const m = await sharp(thumb).metadata();
  expect(m.format).toBe('jpeg');
  expect(Math.max(m.width, m.height)).toBe(Math.min(thumbSize, Math.max(width, height)));
  // Same aspect ratio, within rounding.
  expect(Math.abs(m.width / m.height - width / height)).toBeLessThan(0.02);
}

describe('analyzeImage on real photos', () => {
  it('reads a JPEG', async () => {
    const input = read(JPG);
    const raw = await sharp(input).metadata();
    const a = await analyzeImage(input, { inputSize: S });
    expect(a).toMatchObject({ width: raw.width, height: raw.height, format: 'jpeg' });
    expect(a.modelInput).toBeInstanceOf(Uint8Array);
    expect(a.modelInput.length).toBe(S * S * 3);
    expect(new Set(a.modelInput).size).toBeGreaterThan(50);
    await expectThumbnail(a.thumbnail, a.width, a.height, 256);
  });

  it('reads a PNG, with a custom thumbnail size', async () => {
    const a = await analyzeImage(read(PNG), { inputSize: 64, thumbSize: 100 });
    expect([a.width, a.height].sort()).toEqual([321, 481]);
    expect(a).toMatchObject({ format: 'png', orientation: null, takenAt: null });
    expect(a.modelInput.length).toBe(64 * 64 * 3);
    expect(new Set(a.modelInput).size).toBeGreaterThan(50);
    await expectThumbnail(a.thumbnail, a.width, a.height, 100);
  });

  it('does not enlarge thumbnails of small images', async () => {
    const a = await analyzeImage(read('exif-samples/jpg/Canon_40D.jpg'), { inputSize: S });
    expect([a.width, a.height]).toEqual([100, 68]);
    await expectThumbnail(a.thumbnail, 100, 68, 256);
  });

  it('applies EXIF orientations 1-8: same picture, width and height swapped for 5-8', async () => {
    for (const shape of ['landscape', 'portrait']) {
      const upright = await analyzeImage(read(`${ORIENT}/${shape}_1.jpg`), { inputSize: S });
      for (let o = 1; o <= 8; o++) {
        const input = read(`${ORIENT}/${shape}_${o}.jpg`);
        const raw = await sharp(input).metadata();
        const a = await analyzeImage(input, { inputSize: S });
        expect(a.orientation).toBe(o);
        expect([a.width, a.height]).toEqual(o >= 5 ? [raw.height, raw.width] : [raw.width, raw.height]);
        expect([a.width, a.height]).toEqual([upright.width, upright.height]);
        // The pixels agree with the upright file (up to JPEG noise), so the rotation direction is right.
        expect(meanAbsDiff(a.modelInput, upright.modelInput)).toBeLessThan(6);
        await expectThumbnail(a.thumbnail, a.width, a.height, 256);
      }
    }
  });

  it('reads the EXIF capture date', async () => {
    expect((await analyzeImage(read('exif-samples/jpg/Canon_40D.jpg'), { inputSize: S })).takenAt).toBe(
      '2008-05-30T15:56:01',
    );
    // With an OffsetTimeOriginal tag the offset is kept.
    expect((await analyzeImage(read('exif-samples/jpg/mobile/HMD_Nokia_8.3_5G.jpg'), { inputSize: S })).takenAt).toBe(
      '2022-08-14T14:12:31+03:00',
    );
    expect((await analyzeImage(read('exif-samples/jpg/PaintTool_sample.jpg'), { inputSize: S })).takenAt).toBeNull();
  });

  it('parses EXIF dates strictly', () => {
    expect(exifDateToIso('2008:05:30 15:56:01')).toBe('2008-05-30T15:56:01');
    expect(exifDateToIso('2008:05:30 15:56:01', '-05:00')).toBe('2008-05-30T15:56:01-05:00');
    expect(exifDateToIso('2008:05:30 15:56:01', 'junk')).toBe('2008-05-30T15:56:01');
    expect(exifDateToIso('0000:00:00 00:00:00')).toBeNull();
    expect(exifDateToIso('    :  :     :  :  ')).toBeNull();
    expect(exifDateToIso('2008:13:30 15:56:01')).toBeNull();
    expect(exifDateToIso(undefined)).toBeNull();
  });

  it('makes the same model input for an outside query image', async () => {
    const input = read(JPG);
    const a = await analyzeImage(input, { inputSize: S });
    expect(await imageToModelInput(input, S)).toEqual(a.modelInput);
    // A Uint8Array that is not a Buffer works too.
    expect(await imageToModelInput(new Uint8Array(input), S)).toEqual(a.modelInput);
  });

  it('decodes HEIC, through the wasm libheif fallback where libvips has no HEVC decoder', async () => {
    const a = await analyzeImage(read('exif-samples/heic/IMG_5195.HEIC'), { inputSize: S });
    expect(a.format).toBe('heif');
    expect([a.width, a.height]).toEqual([2566, 3313]);
  });
});

describe('analyzeImage failures', () => {
  it('explains an empty file', async () => {
    expect(await decodeFails(Buffer.alloc(0))).toBe('Empty file (0 bytes)');
  });

  it('explains a file that is not an image', async () => {
    expect(await decodeFails(Buffer.from('Just some text, not a photo.\n'))).toBe(
      'Not a supported image (Input buffer contains unsupported image format)',
    );
  });

  it('explains a truncated JPEG', async () => {
    const jpg = read(JPG);
    expect(await decodeFails(jpg.subarray(0, jpg.length >> 1))).toMatch(/^Corrupt or truncated image \(.+\)$/);
  });

  it('explains a corrupt JPEG', async () => {
    expect(await decodeFails(read('exif-samples/jpg/corrupted.jpg'))).toMatch(
      /^Corrupt or truncated image \(.*Corrupt JPEG data/,
    );
  });

  it('refuses images over the pixel limit', async () => {
    const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    expect(await decodeFails(png, { maxPixels: 19_999 })).toBe(
      'Image too large (200 x 100 pixels exceeds the limit of 19999)',
    );
    await expect(analyzeImage(png, { inputSize: S, maxPixels: 20_000 })).resolves.toMatchObject({ width: 200 });
  });
});

describe('analyzeImage on unusual encodings', () => {
  it('takes the first frame of an animated GIF', async () => {
    const w = 40;
    const h = 30;
    const frames = Buffer.alloc(w * h * 2 * 3);
    for (let i = 0; i < w * h; i++) frames.set([255, 0, 0], i * 3); // frame 1: red
    for (let i = w * h; i < 2 * w * h; i++) frames.set([0, 0, 255], i * 3); // frame 2: blue
    const gif = await sharp(frames, { raw: { width: w, height: h * 2, channels: 3, pageHeight: h } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const a = await analyzeImage(gif, { inputSize: S });
    expect(a).toMatchObject({ width: w, height: h, format: 'gif' });
    const [r, g, b] = meanRgb(a.modelInput);
    expect(r).toBeGreaterThan(240);
    expect(g).toBeLessThan(15);
    expect(b).toBeLessThan(15);
  });

  it('decodes a 16-bit PNG with alpha, flattened onto white', async () => {
    const png16 = await sharp({
      create: { width: 50, height: 40, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } },
    })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const a = await analyzeImage(png16, { inputSize: S });
    expect(a).toMatchObject({ width: 50, height: 40, format: 'png' });
    const [r, g, b] = meanRgb(a.modelInput);
    // 50% over white: (10+255)/2, (200+255)/2, (30+255)/2.
    expect(r).toBeCloseTo(132.5, -0.5);
    expect(g).toBeCloseTo(227.5, -0.5);
    expect(b).toBeCloseTo(142.5, -0.5);
  });

  it('decodes a CMYK JPEG to sRGB', async () => {
    const cmyk = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#3070c0' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const a = await analyzeImage(cmyk, { inputSize: S });
    expect(a).toMatchObject({ width: 60, height: 40, format: 'jpeg' });
    const [r, g, b] = meanRgb(a.modelInput);
    expect(Math.abs(r - 0x30)).toBeLessThan(25);
    expect(Math.abs(g - 0x70)).toBeLessThan(25);
    expect(Math.abs(b - 0xc0)).toBeLessThan(25);
  });

  it('decodes a one-channel greyscale PNG to three channels', async () => {
    const grey = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#777777' } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const a = await analyzeImage(grey, { inputSize: S });
    expect(a.modelInput.length).toBe(S * S * 3);
    expect(new Set(a.modelInput)).toEqual(new Set([0x77]));
  });

  it('decodes a TIFF', async () => {
    const a = await analyzeImage(read('exif-samples/tiff/Arbitro.tiff'), { inputSize: S });
    expect(a.format).toBe('tiff');
    expect(a.modelInput.length).toBe(S * S * 3);
  });
});

describe('border trimming', () => {
  it('finds the same box as libvips (sharp trim) on real photos, bordered, letterboxed and plain', async () => {
    const files = fs
      .readdirSync(path.join(DATA, 'photos'), { recursive: true })
      .map(String)
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort()
      .filter((_, i) => i % 4 === 0);
    expect(files.length).toBeGreaterThan(30);
    let trimmedSome = 0;
    for (const [i, f] of files.entries()) {
      const photo = sharp(path.join(DATA, 'photos', f));
      const { width = 0, height = 0 } = await photo.metadata();
      const b = Math.round(Math.max(width, height) * 0.1);
      // Plain, a white frame, a black letterbox (and on some, off-white noise-free bars on one side only).
      const variants = [
        photo.clone(),
        photo.clone().extend({ top: b, bottom: b, left: b, right: b, background: '#ffffff' }),
        photo.clone().extend({ top: 2 * b, bottom: 2 * b, background: '#000000' }),
        photo.clone().extend({ left: i % 2 ? b : 0, right: i % 2 ? 0 : b, background: '#f0f0e8' }),
      ];
      for (const v of variants) {
        const { data, info } = await sharp(await v.jpeg({ quality: 90 }).toBuffer())
          .resize({ width: 256, height: 256, fit: 'inside' })
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        const mine = findTrimBox(data, info.width, info.height, 16);
        const { info: t } = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
          .trim({ threshold: 16 })
          .raw()
          .toBuffer({ resolveWithObject: true });
        expect(mine).toEqual({
          left: 0 - t.trimOffsetLeft!,
          top: 0 - t.trimOffsetTop!,
          width: t.width,
          height: t.height,
        });
        if (t.width < info.width || t.height < info.height) trimmedSome++;
      }
    }
    expect(trimmedSome).toBeGreaterThan(files.length * 2); // the framed variants were trimmed
  }, 120_000);

  it('finds nothing to keep in a picture of one colour', () => {
    expect(findTrimBox(new Uint8Array(10 * 8 * 3).fill(200), 10, 8, 16)).toBeNull();
  });
});

describe('model input resampling (resizeRgb)', () => {
  it("stays close to sharp's Lanczos3 resize when shrinking real photos", async () => {
    const files = fs.readdirSync(path.join(DATA, 'photos/CSet14')).slice(0, 8);
    expect(files.length).toBe(8);
    const meanDiff = (a: Uint8Array, b: Uint8Array) => {
      expect(a.length).toBe(b.length);
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
      return sum / a.length;
    };
    for (const f of files) {
      for (const [side, w, h] of [
        [256, 32, 32],
        [256, 64, 64],
        [250, 32, 32],
        [200, 32, 32],
        [100, 32, 32],
      ] as const) {
        const { data, info } = await sharp(path.join(DATA, 'photos/CSet14', f))
          .resize({ width: side, height: side, fit: 'inside' })
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        const raw = { raw: { width: info.width, height: info.height, channels: 3 as const } };
        const lanczos = await sharp(data, raw).resize(w, h, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
        const nearest = await sharp(data, raw).resize(w, h, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer();
        const mine = meanDiff(resizeRgb(data, info.width, info.height, w, h), lanczos);
        // Measured: mean differences of 0.15-2.3 of 255 (libvips splits the shrink differently); sampling
        // without a filter (nearest neighbour: 5.6-27) or a shifted or swapped-channel result is further off.
        const label = `${f} ${info.width}x${info.height} -> ${w}x${h}`;
        expect(mine, label).toBeLessThan(6);
        if (side > w * 2) expect(mine, label).toBeLessThan(meanDiff(nearest, lanczos) / 2);
      }
    }
  });

  it('keeps a uniform colour exactly, shrinking or enlarging to the asked size', () => {
    for (const [w, h] of [
      [77, 50],
      [10, 7],
      [1, 300], // a one-pixel-wide strip
      [2000, 1],
    ]) {
      const src = new Uint8Array(w! * h! * 3);
      for (let i = 0; i < src.length; i += 3) src.set([12, 200, 255], i);
      const out = resizeRgb(src, w!, h!, 32, 32);
      expect(out.length).toBe(32 * 32 * 3);
      for (let i = 0; i < out.length; i += 3) expect([out[i], out[i + 1], out[i + 2]]).toEqual([12, 200, 255]);
    }
  });
});

describe('PNG helpers', () => {
  const pixels = (w: number, h: number) => Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
  const decodeRaw = async (png: Buffer) => {
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
  };

  it('rgbToPng round-trips exactly and upscales by nearest neighbour', async () => {
    const rgb = pixels(3, 2);
    expect(await decodeRaw(await rgbToPng(rgb, 3, 2))).toEqual({ data: rgb, width: 3, height: 2, channels: 3 });

    const big = await decodeRaw(await rgbToPng(rgb, 3, 2, { scale: 4 }));
    expect([big.width, big.height]).toEqual([12, 8]);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 12; x++) {
        const src = ((y >> 2) * 3 + (x >> 2)) * 3;
        expect(Array.from(big.data.subarray((y * 12 + x) * 3, (y * 12 + x) * 3 + 3))).toEqual(
          Array.from(rgb.subarray(src, src + 3)),
        );
      }
    }
    await expect(rgbToPng(rgb, 4, 2)).rejects.toThrow(DoppelError);
  });

  it('sideBySidePng puts two upscaled images 4 px apart on white', async () => {
    const left = pixels(2, 2);
    const right = pixels(2, 2).map((v) => 255 - v);
    const { data, width, height } = await decodeRaw(await sideBySidePng(left, right, 2, 3));
    expect([width, height]).toEqual([6 + 4 + 6, 6]);
    const at = (x: number, y: number) => Array.from(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
    const src = (img: Uint8Array, x: number, y: number) =>
      Array.from(img.subarray((y * 2 + x) * 3, (y * 2 + x) * 3 + 3));
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 6; x++) {
        expect(at(x, y)).toEqual(src(left, Math.floor(x / 3), Math.floor(y / 3)));
        expect(at(x + 10, y)).toEqual(src(right, Math.floor(x / 3), Math.floor(y / 3)));
      }
      for (let x = 6; x < 10; x++) expect(at(x, y)).toEqual([255, 255, 255]);
    }
  });
});
