// Camera RAW files are indexed through the JPEG preview the camera embeds, turned by the RAW's own orientation.
// The RAW containers are written by code (tests/fixtures/raw-files.ts) around a real photo's preview.
import fs from 'node:fs';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { DoppelError } from '../../src/shared/api.js';
import { analyzeImage, type Analysis } from '../../src/core/imaging/analyze.js';
import { isRawImage, rawPreviews } from '../../src/core/imaging/raw.js';
import {
  bayer,
  makeCr2,
  makeCr3,
  makeDng,
  makeNef,
  makeRaf,
  makeSignedTiff,
  previewJpeg,
  type RawOptions,
} from '../fixtures/raw-files.js';
import { PHOTOS, tempDir } from '../helpers.js';

const PHOTO = path.join(PHOTOS, 'CSun_Hays80/abbey_sun_asztnlqhlrvirneh.jpg'); // 1024 x 800 (landscape)
const S = 32;

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};
const analyze = (bytes: Buffer, raw?: boolean) => analyzeImage(bytes, { inputSize: S, ...(raw ? { raw } : {}) });

let preview: Buffer;
let cfa: RawOptions['cfa'];
/** The photo as the preview shows it, upright, and turned as orientation 6 and 8 display it. */
let upright: Analysis;

beforeAll(async () => {
  preview = await previewJpeg(PHOTO, 640);
  cfa = { data: await bayer(PHOTO, 256, 200), width: 256, height: 200 };
  upright = await analyze(preview);
});

async function decodeFails(bytes: Buffer, raw?: boolean): Promise<string> {
  const err = await analyze(bytes, raw).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DoppelError);
  expect((err as DoppelError).kind).toBe('decode-failed');
  return (err as DoppelError).message;
}

describe('camera RAW through its preview', () => {
  it('a DNG (preview in IFD0, CFA sensor data in a SubIFD) is indexed from its preview, as a RAW', async () => {
    const dng = makeDng({ preview, cfa });
    expect(isRawImage(dng)).toBe(true);
    const a = await analyze(dng);
    expect(a.format).toBe('raw');
    expect([a.width, a.height]).toEqual([640, 500]);
    expect(a.orientation).toBe(1);
    expect(meanAbsDiff(a.modelInput, upright.modelInput)).toBeLessThan(0.5);
    const thumb = await sharp(a.thumbnail).metadata();
    expect([thumb.width, thumb.height]).toEqual([256, 200]);
  });

  it.each([
    [6, 90],
    [8, 270],
    [3, 180],
  ])('a DNG with orientation %i comes out upright (the preview turned %i degrees)', async (orientation, angle) => {
    // The camera stores the picture as the sensor saw it and records how to turn it.
    const sideways = await sharp(preview)
      .rotate(360 - angle)
      .jpeg({ quality: 90 })
      .toBuffer();
    const dng = makeDng({ preview: sideways, cfa, orientation });
    expect(((await exifr.parse(dng, { translateValues: false })) as { Orientation: number }).Orientation).toBe(
      orientation,
    );
    const a = await analyze(dng);
    expect(a.orientation).toBe(orientation);
    expect([a.width, a.height]).toEqual([640, 500]);
    expect(meanAbsDiff(a.modelInput, upright.modelInput)).toBeLessThan(3);
  });

  it('the largest preview wins: of a NEF-like TIFF with a 160 px RGB thumbnail and a JPEG preview in a SubIFD', async () => {
    const nef = await makeNef({ preview, cfa, orientation: 1 }, PHOTO);
    expect(isRawImage(nef)).toBe(true);
    const found = await rawPreviews(nef);
    expect(found.map((p) => [p.width, p.height])).toEqual([[640, 500]]);
    const a = await analyze(nef);
    expect([a.format, a.width, a.height]).toEqual(['raw', 640, 500]);
    expect(meanAbsDiff(a.modelInput, upright.modelInput)).toBeLessThan(0.5);
  });

  it('a CR2-like TIFF and a RAF are RAW by their content, and read from their previews', async () => {
    const small = await previewJpeg(PHOTO, 160);
    for (const raw of [makeCr2({ preview, cfa }), makeRaf({ preview, cfa })]) {
      expect(isRawImage(raw)).toBe(true);
      const a = await analyze(raw);
      expect([a.format, a.width, a.height]).toEqual(['raw', 640, 500]);
      expect(meanAbsDiff(a.modelInput, upright.modelInput)).toBeLessThan(0.5);
    }
    // Two previews (as a RAF's header and its EXIF thumbnail): the larger is used.
    const two = makeRaf({ preview: Buffer.concat([small, preview]), cfa });
    expect((await rawPreviews(two)).map((p) => p.width)).toEqual([640, 160]);
  });

  it("ORF and RW2 (TIFFs with their makers' signatures) and a CR3 (ISO BMFF) are read upright from their previews", async () => {
    const sideways = await sharp(preview).rotate(90).jpeg({ quality: 90 }).toBuffer();
    for (const raw of [
      makeSignedTiff('IIRO', { preview: sideways, cfa, orientation: 8 }),
      makeSignedTiff('IIU\0', { preview: sideways, cfa, orientation: 8 }),
      makeCr3({ preview: sideways, cfa, orientation: 8 }),
    ]) {
      expect(isRawImage(raw)).toBe(true);
      const a = await analyze(raw);
      expect([a.format, a.orientation, a.width, a.height]).toEqual(['raw', 8, 640, 500]);
      expect(meanAbsDiff(a.modelInput, upright.modelInput)).toBeLessThan(3);
    }
  });

  it('a RAW without a preview, or whose preview is cut short, is not indexed and says why', async () => {
    const bare = makeDng({ preview: null, cfa });
    expect(isRawImage(bare)).toBe(true);
    expect(await decodeFails(bare)).toBe(
      "Camera RAW without a preview Doppel can read (it indexes RAW files through the camera's JPEG preview)",
    );
    // By its name alone (a format whose content Doppel does not recognise, e.g. CRW): the same.
    expect(await decodeFails(Buffer.from('II\x1a\0\0\0HEAPCCDR'.padEnd(4096, '\0'), 'latin1'), true)).toMatch(
      /^Camera RAW without a preview/,
    );
    // A DNG cut short in its preview (the first thing in the file here): named .dng, so read as a RAW.
    const dng = makeDng({ preview, cfa });
    const cut = dng.subarray(0, dng.indexOf(preview.subarray(0, 64)) + (preview.length >> 1));
    expect(await decodeFails(cut, true)).toMatch(/^Corrupt or truncated camera RAW preview \(.*premature end/i);
  });

  it("a RAW above the indexer's 64 MiB read limit, given by path, is read whole for its preview", async () => {
    const dir = tempDir('doppel-raw-large-');
    try {
      // 6000 x 6000 16-bit sensor samples: 72 MB, as a 36 MP camera writes uncompressed.
      const big = makeDng({ preview, cfa: { data: Buffer.alloc(6000 * 6000 * 2, 0x11), width: 6000, height: 6000 } });
      expect(big.length).toBeGreaterThan(64 * 1024 * 1024);
      const file = path.join(dir, 'big.dng');
      fs.writeFileSync(file, big);
      const a = await analyzeImage({ file }, { inputSize: S, raw: true });
      expect([a.format, a.width, a.height]).toEqual(['raw', 640, 500]);
      expect(meanAbsDiff(a.modelInput, upright.modelInput)).toBeLessThan(0.5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ordinary TIFF photos stay TIFF', async () => {
    const tiff = fs.readFileSync(path.join(PHOTOS, '../exif-samples/tiff/Arbitro.tiff'));
    expect(isRawImage(tiff)).toBe(false);
    expect((await analyze(tiff)).format).toBe('tiff');
  });
});
