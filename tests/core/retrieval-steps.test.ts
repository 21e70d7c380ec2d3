import fs from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageToModelInput, imageToModelInputViews } from '../../src/core/imaging/analyze.js';
import { attack, halve } from '../../src/core/training/augment.js';
import { Autoencoder } from '../../src/core/model/autoencoder.js';
import { rng } from '../../src/core/random.js';
import { initBackend, tf } from '../../src/core/model/runtime.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { cosine, photos } from '../helpers.js';

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

async function framed(file: string, fraction: number, colour = '#ffffff'): Promise<Buffer> {
  const meta = await sharp(file).metadata();
  const dx = Math.round(meta.width! * fraction);
  const dy = Math.round(meta.height! * fraction);
  return sharp(file)
    .extend({ top: dy, bottom: dy, left: dx, right: dx, background: colour })
    .jpeg({ quality: 90 })
    .toBuffer();
}

describe('border trimming', () => {
  it('makes a framed copy give (nearly) the model input of the original', async () => {
    for (const file of [...photos('CSun_Hays80', 3), ...photos('CBSD68', 2)]) {
      const original = await imageToModelInput(fs.readFileSync(file), { size: 32, trimBorders: true });
      for (const colour of ['#ffffff', '#000000']) {
        const copy = await framed(file, 0.1, colour);
        const trimmed = await imageToModelInput(copy, { size: 32, trimBorders: true });
        const untrimmed = await imageToModelInput(copy, { size: 32, trimBorders: false });
        expect(meanAbsDiff(trimmed, original)).toBeLessThan(8);
        expect(meanAbsDiff(untrimmed, original)).toBeGreaterThan(meanAbsDiff(trimmed, original) * 2);
      }
    }
  });

  it('keeps a uniform picture whole instead of failing', async () => {
    const grey = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const input = await imageToModelInput(grey, { size: 8, trimBorders: true });
    expect(input).toHaveLength(8 * 8 * 3);
    expect(new Set(input)).toEqual(new Set([128]));
  });
});

describe('mirror-invariant vectors', () => {
  let seed: Autoencoder;
  beforeAll(async () => {
    seed = await Autoencoder.load(defaultModelsDir(), 'seed-ae32');
  });

  it('give a photo and its mirror image the same vector, and different photos different vectors', async () => {
    const model = seed.withPreprocess({ trimBorders: true, mirrorInvariant: true }, 'seed+steps');
    const [a, b] = photos('CSun_Hays80', 2) as [string, string];
    const inputs = await Promise.all([
      imageToModelInput(fs.readFileSync(a), model.inputSpec),
      imageToModelInput(await sharp(a).flop().png().toBuffer(), model.inputSpec),
      imageToModelInput(fs.readFileSync(b), model.inputSpec),
    ]);
    const [va, vm, vb] = model.encode(inputs) as [Float32Array, Float32Array, Float32Array];
    // Exact for an exact pixel mirror; here the mirror is made before resampling, which shifts by a hair.
    for (let i = 0; i < va.length; i++) expect(vm[i]).toBeCloseTo(va[i]!, 2);
    expect(Array.from(va).some((v, i) => Math.abs(v - vb[i]!) > 0.01)).toBe(true);
    // The plain model tells them apart.
    const [pa, pm] = seed.encode(inputs.slice(0, 2)) as [Float32Array, Float32Array];
    expect(Array.from(pa).some((v, i) => Math.abs(v - pm[i]!) > 0.01)).toBe(true);
  });
});

describe('greyscale-weighted vectors', () => {
  it('bring a greyscale copy closer to its original than the plain vector does', async () => {
    const shipped = await Autoencoder.load(defaultModelsDir(), 'doppel-ae32');
    const steps = shipped.card.preprocess ?? {};
    const grey = shipped.withPreprocess({ ...steps, greyWeight: 1 }, 'doppel-ae32+grey');
    for (const file of photos('CSun_Hays80', 4)) {
      const inputs = await Promise.all([
        imageToModelInput(fs.readFileSync(file), shipped.inputSpec),
        imageToModelInput(await sharp(file).greyscale().toColourspace('srgb').png().toBuffer(), shipped.inputSpec),
      ]);
      const [po, pg] = shipped.encode(inputs) as [Float32Array, Float32Array];
      const [go, gg] = grey.encode(inputs) as [Float32Array, Float32Array];
      // Cosine distances are tiny with this model; compare the distances, not the similarities.
      expect(1 - cosine(go, gg)).toBeLessThan((1 - cosine(po, pg)) * 0.8);
    }
    shipped.dispose();
  });
});

describe('corner views', () => {
  it('are matched by a copy cropped to that corner better than the whole photo is', async () => {
    const model = await Autoencoder.load(defaultModelsDir());
    try {
      for (const file of photos('CSun_Hays80', 4)) {
        const { input, views } = await imageToModelInputViews(fs.readFileSync(file), model.inputSpec, 0.75);
        expect(views).toHaveLength(4);
        const { width = 0, height = 0 } = await sharp(file).metadata();
        const crop = await sharp(file)
          .extract({ left: 0, top: 0, width: Math.round(width * 0.7), height: Math.round(height * 0.7) })
          .jpeg({ quality: 90 })
          .toBuffer();
        const query = await imageToModelInput(crop, model.inputSpec);
        const [whole, ...corners] = model.encode([input, ...views]) as Float32Array[];
        const [q] = model.encode([query]) as [Float32Array];
        const [topLeft, ...others] = corners.map((v) => cosine(q, v)) as [number, ...number[]];
        expect(topLeft).toBeGreaterThan(cosine(q, whole!));
        expect(topLeft).toBeGreaterThan(Math.max(...others));
      }
    } finally {
      model.dispose();
    }
  });

  it('refuse a fraction outside (0, 1)', async () => {
    const [file] = photos('CSun_Hays80', 1) as [string];
    await expect(imageToModelInputViews(fs.readFileSync(file), { size: 32 }, 1)).rejects.toThrow(/fraction/);
  });
});

describe('training augmentations', () => {
  it('make deterministic, in-range, edited copies at the model size', async () => {
    await initBackend('wasm');
    const files = photos('CSun_Hays80', 4);
    const inputs = await Promise.all(files.map((f) => imageToModelInput(fs.readFileSync(f), 64)));
    const x = tf.tensor4d(
      Float32Array.from(Buffer.concat(inputs), (v) => v / 255),
      [4, 64, 64, 3],
    );
    const a = attack(x, { outSize: 32, random: rng(1) });
    const b = attack(x, { outSize: 32, random: rng(1) });
    const c = attack(x, { outSize: 32, random: rng(2) });
    const clean = halve(x, 32);
    expect(a.shape).toEqual([4, 32, 32, 3]);
    expect(a.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(a.max().dataSync()[0]).toBeLessThanOrEqual(1);
    expect(tf.sub(a, b).abs().max().dataSync()[0]).toBe(0);
    expect(tf.sub(a, c).abs().mean().dataSync()[0]).toBeGreaterThan(0.01);
    expect(tf.sub(a, clean).abs().mean().dataSync()[0]).toBeGreaterThan(0.01);
    // halve() is an exact 2x2 box filter.
    const px = x.slice([0, 0, 0, 0], [1, 2, 2, 3]).mean([1, 2]).dataSync();
    const hx = clean.slice([0, 0, 0, 0], [1, 1, 1, 3]).dataSync();
    for (let i = 0; i < 3; i++) expect(hx[i]).toBeCloseTo(px[i]!, 5);
  });
});
