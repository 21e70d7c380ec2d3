import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageToModelInput, imageToModelInputViews } from '../../src/core/imaging/analyze.js';
import { Autoencoder } from '../../src/core/model/autoencoder.js';
import { ModelInfo } from '../../src/core/model/card.js';
import { fitViews } from '../../src/core/training/fit-views.js';
import { applyRidge, cornerFeatures, fitRidge } from '../../src/core/model/view-predictor.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { rng } from '../../src/core/random.js';
import { cosine, PHOTOS, photos, tempDir } from '../helpers.js';

describe('ridge regression', () => {
  it('recovers a linear map with its bias', () => {
    const random = rng(3);
    const d = 6;
    const m = 3;
    const w = Float32Array.from({ length: d * m }, () => random() * 2 - 1);
    const bias = [0.5, -1, 2];
    const features = Array.from({ length: 200 }, () => Float32Array.from({ length: d }, () => random() * 2 - 1));
    const targets = features.map((f) =>
      Float32Array.from({ length: m }, (_, j) => bias[j]! + f.reduce((s, x, i) => s + x * w[i * m + j]!, 0)),
    );
    const map = fitRidge(features, targets, 1e-9);
    for (let i = 0; i < d * m; i++) expect(map[i]).toBeCloseTo(w[i]!, 4);
    for (let j = 0; j < m; j++) expect(map[d * m + j]).toBeCloseTo(bias[j]!, 4);
    const probe = Float32Array.from({ length: d }, () => random());
    const expected = targets[0]!.map((_, j) => bias[j]! + probe.reduce((s, x, i) => s + x * w[i * m + j]!, 0));
    applyRidge(map, probe).forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 4));
  });

  it('shrinks the weights as the penalty grows', () => {
    const random = rng(4);
    const features = Array.from({ length: 50 }, () => Float32Array.from({ length: 4 }, () => random()));
    const targets = features.map((f) => Float32Array.of(f[0]! * 3 - f[2]!));
    const norm = (map: Float32Array) => Math.hypot(...map.subarray(0, 4));
    expect(norm(fitRidge(features, targets, 100))).toBeLessThan(norm(fitRidge(features, targets, 0.01)) / 2);
  });
});

describe('corner features', () => {
  // An 8x8 map whose channel 0 is the column and channel 1 the row: bilinear samples give the coordinates back.
  const ramp = new Float32Array(8 * 8 * 2);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) ramp.set([x, y], (y * 8 + x) * 2);
  const zero = new Float32Array(ramp.length);
  const at = (f: Float32Array, y: number, x: number) => [f[(y * 8 + x) * 2]!, f[(y * 8 + x) * 2 + 1]!];
  const clamp = (v: number) => Math.min(7, Math.max(0, v));

  it('sample each corner of the code over its part of the grid', () => {
    const [tl, tr, bl, br] = cornerFeatures(ramp, zero, [8, 8, 2], 0.75) as [Float32Array, ...Float32Array[]];
    for (const [y, x] of [
      [0, 0],
      [3, 5],
      [7, 7],
    ] as const) {
      const near = (i: number) => clamp(0.75 * (i + 0.5) - 0.5);
      const far = (i: number) => clamp(2 + 0.75 * (i + 0.5) - 0.5);
      at(tl, y, x).forEach((v, c) => expect(v).toBeCloseTo([near(x), near(y)][c]!, 5));
      at(tr!, y, x).forEach((v, c) => expect(v).toBeCloseTo([far(x), near(y)][c]!, 5));
      at(bl!, y, x).forEach((v, c) => expect(v).toBeCloseTo([near(x), far(y)][c]!, 5));
      at(br!, y, x).forEach((v, c) => expect(v).toBeCloseTo([far(x), far(y)][c]!, 5));
    }
  });

  it("sample the mirror image's code over the mirrored corner", () => {
    const [tl, tr] = cornerFeatures(zero, ramp, [8, 8, 2], 0.75) as [Float32Array, Float32Array];
    // The top-left view's mirror image is the top-right corner of the mirror image, and the other way round.
    expect(at(tl, 2, 4)[0]).toBeCloseTo(2 + 0.75 * 4.5 - 0.5, 5);
    expect(at(tr, 2, 4)[0]).toBeCloseTo(0.75 * 4.5 - 0.5, 5);
    expect(at(tl, 2, 4)[1]).toBeCloseTo(0.75 * 2.5 - 0.5, 5);
  });
});

describe("the shipped model's corner views", () => {
  let model: Autoencoder;
  beforeAll(async () => {
    model = await Autoencoder.load(defaultModelsDir());
  });
  afterAll(() => model?.dispose());

  it('come with the same vectors as encode', async () => {
    const inputs = await Promise.all(
      photos('CBSD68', 5).map((f) => imageToModelInput(fs.readFileSync(f), model.inputSpec)),
    );
    const { vectors, views } = model.encodeWithViews(inputs);
    expect(vectors).toEqual(model.encode(inputs));
    expect(views).toHaveLength(5);
    for (const v of views) expect(v).toHaveLength(4);
  });

  it('come close to the codes of the corners themselves, and a copy cut down to a corner matches that one best', async () => {
    const fraction = model.card.cropViews!.fraction;
    let predictedToEncoded = 0;
    let wholeToEncoded = 0;
    let n = 0;
    for (const file of photos('CSun_Hays80', 6)) {
      const bytes = fs.readFileSync(file);
      const { input, views } = await imageToModelInputViews(bytes, model.inputSpec, fraction);
      const encoded = model.encode(views);
      const { vectors, views: predicted } = model.encodeWithViews([input]);
      predicted[0]!.forEach((p, k) => {
        predictedToEncoded += cosine(p, encoded[k]!);
        wholeToEncoded += cosine(vectors[0]!, encoded[k]!);
        n++;
      });
      // A copy cut down to the top-left 70%, as the retrieval benchmark makes it.
      const { width = 0, height = 0 } = await sharp(bytes).metadata();
      const crop = await sharp(bytes)
        .extract({ left: 0, top: 0, width: Math.round(width * 0.7), height: Math.round(height * 0.7) })
        .jpeg({ quality: 90 })
        .toBuffer();
      const [q] = model.encode([await imageToModelInput(crop, model.inputSpec)]) as [Float32Array];
      const [topLeft, ...others] = predicted[0]!.map((v) => cosine(q, v)) as [number, ...number[]];
      expect(topLeft).toBeGreaterThan(cosine(q, vectors[0]!));
      expect(topLeft).toBeGreaterThan(Math.max(...others));
    }
    expect(predictedToEncoded / n).toBeGreaterThan(0.85);
    expect(predictedToEncoded / n).toBeGreaterThan(wholeToEncoded / n + 0.15);
  });
});

describe('fitting the predictor', () => {
  const tmp = tempDir('doppel-fit-views-');
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("writes a map that predicts held-out photos' views better than the samples alone, and asks for a new eval", async () => {
    const name = ModelInfo.read(defaultModelsDir()).name;
    const modelsDir = path.join(tmp, 'models');
    fs.cpSync(path.join(defaultModelsDir(), name), path.join(modelsDir, name), { recursive: true });
    fs.rmSync(path.join(modelsDir, name, 'views.bin'));
    const { dir, info } = await fitViews({
      modelsDir,
      model: name,
      data: [PHOTOS],
      images: 150,
      skip: 0,
      heldOut: 0.1,
      lambda: 1,
      seed: 1,
    });
    expect(info.data).toMatchObject({ images: 135, heldOut: 15, skipped: 0 });
    expect(info.heldOutCosine).toBeGreaterThan(info.sampledCosine);
    expect(fs.statSync(path.join(dir, 'views.bin')).size).toBe((512 + 1) * 512 * 4);
    const card = ModelInfo.read(modelsDir, name).card;
    expect(card.cropViews?.predictor).toEqual(info);
    // The view thresholds were calibrated for the views of before.
    expect(card.cropViews?.threshold).toBeUndefined();
    expect(card.cropViews?.encodedThreshold).toBeUndefined();
    const refitted = await Autoencoder.load(modelsDir, name);
    try {
      const input = await imageToModelInput(fs.readFileSync(photos('CSet14', 1)[0]!), refitted.inputSpec);
      expect(refitted.encodeWithViews([input]).views[0]).toHaveLength(4);
    } finally {
      refitted.dispose();
    }
  }, 120_000);
});
