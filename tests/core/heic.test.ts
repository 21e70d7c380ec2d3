// HEIC/HEIF photos (HEVC-coded, what phones take) decode through the wasm libheif fallback, upright.
import fs from 'node:fs';
import path from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../../src/core/imaging/analyze.js';
import { DATA, std } from '../helpers.js';

const HEIC = path.join(DATA, 'exif-samples/heic');
const FILES = [
  'IMG_5195.HEIC',
  'samplefilehub.heif',
  'mobile/HMD_Nokia_8.3_5G.heif',
  'mobile/HMD_Nokia_8.3_5G_hdr.heif',
  'mobile/iphone_13_pro_max.HEIC',
];

describe('HEIC/HEIF decoding', () => {
  it.each(FILES)(
    '%s decodes to a real picture of the right size',
    async (name) => {
      const bytes = fs.readFileSync(path.join(HEIC, name));
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe('heif');
      const a = await analyzeImage(bytes, { inputSize: 32 });
      expect(a.format).toBe('heif');
      // The size of the displayed (transformed) picture, as the container declares it.
      expect([a.width, a.height]).toEqual([meta.autoOrient.width, meta.autoOrient.height]);
      // Real content, not a blank or single-colour frame: each channel varies across the picture.
      expect(std(a.modelInput)).toBeGreaterThan(10);
      const thumb = await sharp(a.thumbnail).metadata();
      expect(Math.max(thumb.width, thumb.height)).toBe(256);
      // The thumbnail has the picture's aspect ratio, so it is upright the same way.
      expect(thumb.width > thumb.height).toBe(a.width > a.height);
    },
    60_000,
  );

  it('applies the orientation: a portrait iPhone photo stored as a rotated landscape comes out portrait', async () => {
    const bytes = fs.readFileSync(path.join(HEIC, 'mobile/iphone_13_pro_max.HEIC'));
    const exif = (await exifr.parse(bytes, { translateValues: false })) as Record<string, number>;
    // The sensor wrote 4032 x 3024 and recorded a 90 degree rotation (EXIF 6, irot in the container).
    expect(exif.Orientation).toBe(6);
    expect([exif.ExifImageWidth, exif.ExifImageHeight]).toEqual([4032, 3024]);
    const a = await analyzeImage(bytes, { inputSize: 32 });
    expect([a.width, a.height]).toEqual([3024, 4032]);
    const thumb = await sharp(a.thumbnail).metadata();
    expect([thumb.width, thumb.height]).toEqual([192, 256]);
    expect(a.takenAt).toBe('2022-02-16T12:55:41+01:00'); // EXIF of a HEIC is read too
  }, 60_000);
});
