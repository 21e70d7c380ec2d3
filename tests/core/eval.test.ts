import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTACKS,
  blurSigma,
  decodeOriginal,
  largestRotatedRect,
  type Attack,
  type RawImage,
} from '../../src/core/eval/attacks.js';
import {
  calibrateThreshold,
  precisionRecallAt,
  runRetrievalBenchmark,
  type EvalReport,
  type MethodReport,
} from '../../src/core/eval/benchmark.js';
import { dHash, hamming, HammingIndex, hashToHex, imageHashes, pHash, popcount32 } from '../../src/core/eval/hashes.js';
import { Autoencoder } from '../../src/core/model/autoencoder.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { formatEvalTable } from '../../src/cli/eval.js';
import { copyInto, correlation, DATA, photos, tempDir } from '../helpers.js';

const attack = (id: string): Attack => {
  const a = ATTACKS.find((x) => x.id === id);
  if (!a) throw new Error(`no attack ${id}`);
  return a;
};

async function rgb(bytes: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(bytes)
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { data, width: info.width, height: info.height };
}

/** Raw RGB of a region of an image, resized to w x h. */
async function region(img: RawImage, box: sharp.Region, w: number, h: number): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract(box)
    .resize(w, h, { fit: 'fill' })
    .raw()
    .toBuffer();
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

const mean = (a: Uint8Array): number => a.reduce((s, v) => s + v, 0) / a.length;
const min = (a: Uint8Array): number => a.reduce((m, v) => Math.min(m, v), 255);
const max = (a: Uint8Array): number => a.reduce((m, v) => Math.max(m, v), 0);

// 768 x 512 (even sides) and 481 x 321 (odd sides).
const ORIGINALS = [path.join(DATA, 'photos/CSet14/monarch.png'), path.join(DATA, 'photos/CBSD68/101085.png')];

describe('attacks', () => {
  let originals: RawImage[];
  beforeAll(async () => {
    originals = await Promise.all(ORIGINALS.map((f) => decodeOriginal(fs.readFileSync(f))));
  });

  it('are the twelve of the benchmark, with unique ids', () => {
    expect(ATTACKS.map((a) => a.id)).toEqual([
      'jpeg20',
      'resize25',
      'crop80',
      'crop70tl',
      'flip',
      'bright30',
      'grey',
      'blur',
      'rotate8',
      'caption',
      'squash',
      'border10',
    ]);
  });

  it('each yields a decodable JPEG, byte-identical when run again', async () => {
    const img = originals[1]!;
    for (const a of ATTACKS) {
      const out = await a.apply(img);
      const meta = await sharp(out).metadata();
      expect(meta.format, a.id).toBe('jpeg');
      expect(Buffer.compare(out, await a.apply(img)), a.id).toBe(0);
    }
  });

  it('have the documented geometry', async () => {
    for (const img of originals) {
      const { width: W, height: H } = img;
      const size = async (id: string): Promise<[number, number]> => {
        const m = await sharp(await attack(id).apply(img)).metadata();
        return [m.width, m.height];
      };
      for (const id of ['jpeg20', 'flip', 'bright30', 'grey', 'blur', 'caption'])
        expect(await size(id)).toEqual([W, H]);
      const [rw, rh] = await size('resize25');
      expect(Math.abs(rw - W / 4)).toBeLessThanOrEqual(1);
      expect(Math.abs(rh - H / 4)).toBeLessThanOrEqual(1);
      expect(await size('crop80')).toEqual([Math.round(W * 0.8), Math.round(H * 0.8)]);
      expect(await size('crop70tl')).toEqual([Math.round(W * 0.7), Math.round(H * 0.7)]);
      expect(await size('squash')).toEqual([Math.min(W, H), Math.min(W, H)]);
      expect(await size('border10')).toEqual([W + 2 * Math.round(W * 0.1), H + 2 * Math.round(H * 0.1)]);
      const inner = largestRotatedRect(W, H, 8);
      expect(await size('rotate8')).toEqual([Math.floor(inner.width) - 2, Math.floor(inner.height) - 2]);
    }
  });

  it('crops show the right part of the photo, the flip is a mirror image', async () => {
    const img = originals[0]!;
    const { width: W, height: H } = img;
    const check = async (id: string, box: sharp.Region): Promise<void> => {
      const out = await rgb(await attack(id).apply(img));
      const expected = await region(img, box, out.width, out.height);
      expect(correlation(out.data, expected), id).toBeGreaterThan(0.97);
    };
    const cw = Math.round(W * 0.8);
    const ch = Math.round(H * 0.8);
    await check('crop80', { left: Math.floor((W - cw) / 2), top: Math.floor((H - ch) / 2), width: cw, height: ch });
    await check('crop70tl', { left: 0, top: 0, width: Math.round(W * 0.7), height: Math.round(H * 0.7) });

    const flipped = await rgb(await attack('flip').apply(img));
    const flop = await sharp(img.data, { raw: { width: W, height: H, channels: 3 } })
      .flop()
      .raw()
      .toBuffer();
    // Equal to sharp's flop of the original up to JPEG quality-90 noise, and far from the unflipped photo.
    expect(meanAbsDiff(flipped.data, flop)).toBeLessThan(3);
    expect(meanAbsDiff(flipped.data, img.data)).toBeGreaterThan(15);
  });

  it('greyscale has equal channels; brightness is brighter; blur scales its sigma with the image', async () => {
    const img = originals[0]!;
    const grey = await rgb(await attack('grey').apply(img));
    let maxSpread = 0;
    for (let i = 0; i < grey.data.length; i += 3) {
      const [r, g, b] = [grey.data[i]!, grey.data[i + 1]!, grey.data[i + 2]!];
      maxSpread = Math.max(maxSpread, Math.abs(r - g), Math.abs(r - b));
    }
    expect(maxSpread).toBeLessThanOrEqual(1);

    const bright = await rgb(await attack('bright30').apply(img));
    expect(mean(bright.data) / mean(img.data)).toBeGreaterThan(1.15);

    expect(blurSigma(1000, 600)).toBeCloseTo(2, 10);
    expect(blurSigma(500, 800)).toBeCloseTo(1.6, 10);
    expect(blurSigma(100, 100)).toBe(0.3); // libvips' minimum
  });

  it('rotation crops away every background corner; the border is white; the caption bar is dark with white text', async () => {
    const white: RawImage = {
      data: await sharp({ create: { width: 400, height: 300, channels: 3, background: '#ffffff' } })
        .raw()
        .toBuffer(),
      width: 400,
      height: 300,
    };
    const rotated = await rgb(await attack('rotate8').apply(white));
    expect(min(rotated.data)).toBeGreaterThanOrEqual(245);

    const img = originals[0]!;
    const bordered = await rgb(await attack('border10').apply(img));
    const topRows = bordered.data.subarray(0, bordered.width * 3 * Math.round(img.height * 0.1) - bordered.width * 6);
    expect(min(topRows)).toBeGreaterThanOrEqual(245);

    const captioned = await rgb(await attack('caption').apply(img));
    const barTop = captioned.height - Math.round(captioned.height * 0.18);
    const bar = captioned.data.subarray((barTop + 2) * captioned.width * 3);
    const above = captioned.data.subarray(0, (barTop - 2) * captioned.width * 3);
    expect(mean(bar)).toBeLessThan(60);
    expect(max(bar)).toBeGreaterThan(230); // the text
    expect(meanAbsDiff(above, img.data.subarray(0, above.length))).toBeLessThan(3);
  });
});

describe('perceptual hashes', () => {
  const files = [...photos('CSet14', 3), ...photos('CBSD68', 2), ...photos('CSun_Hays80', 2)];

  it('hamming counts differing bits of 64-bit values', () => {
    expect(hamming(0n, 0n)).toBe(0);
    expect(hamming(0n, (1n << 64n) - 1n)).toBe(64);
    expect(hamming(0b1011n, 0b0110n)).toBe(3);
    expect(hamming(1n << 63n, 1n)).toBe(2);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0x80000001)).toBe(2);
    const index = new HammingIndex();
    let x = 0x9e3779b97f4a7c15n;
    const values: bigint[] = [];
    for (let i = 0; i < 50; i++) {
      x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
      values.push(x);
      index.add(i, x);
    }
    const q = values[7]! ^ 0b101n;
    for (let i = 0; i < 50; i++) expect(index.distance(i, q)).toBe(hamming(values[i]!, q));
    const top = index.search(q, 5);
    expect(top[0]).toEqual({ id: 7, distance: 2 });
    const sorted = values
      .map((v, id) => ({ id, distance: hamming(v, q) }))
      .sort((a, b) => a.distance - b.distance || a.id - b.id);
    expect(top).toEqual(sorted.slice(0, 5));
  });

  it('are equal on a lossless re-encode and (nearly) equal on a quality-95 JPEG re-encode', async () => {
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      const h = await imageHashes(bytes);
      expect(h.dHash).toBe(await dHash(bytes));
      expect(h.pHash).toBe(await pHash(bytes));
      const png = await imageHashes(await sharp(bytes).png().toBuffer());
      expect(hashToHex(png.dHash)).toBe(hashToHex(h.dHash));
      expect(hashToHex(png.pHash)).toBe(hashToHex(h.pHash));
      // Usually 0; a bit can flip where two neighbouring pixels or two DCT coefficients are within JPEG noise.
      const q95 = await imageHashes(await sharp(bytes).jpeg({ quality: 95 }).toBuffer());
      expect(hamming(q95.dHash, h.dHash), f).toBeLessThanOrEqual(3);
      expect(hamming(q95.pHash, h.pHash), f).toBeLessThanOrEqual(3);
    }
  });

  it('are far apart (> 10 bits) for different photos', async () => {
    const hashes = await Promise.all(files.map((f) => imageHashes(fs.readFileSync(f))));
    for (let i = 0; i < hashes.length; i++) {
      for (let j = i + 1; j < hashes.length; j++) {
        expect(hamming(hashes[i]!.dHash, hashes[j]!.dHash)).toBeGreaterThan(10);
        expect(hamming(hashes[i]!.pHash, hashes[j]!.pHash)).toBeGreaterThan(10);
      }
    }
  });
});

describe('threshold calibration', () => {
  it('takes the highest-recall threshold that keeps the precision', () => {
    const pos = [0.95, 0.9, 0.8, 0.7];
    const neg = [0.85, 0.5, 0.4];
    expect(calibrateThreshold(pos, neg, 0.99)).toEqual({ value: 0.9, precision: 1, recall: 0.5 });
    expect(calibrateThreshold(pos, neg, 0.75)).toEqual({ value: 0.7, precision: 0.8, recall: 1 });
    expect(calibrateThreshold([0.5], [0.9], 0.99)).toEqual({ value: null, precision: null, recall: 0 });
    expect(precisionRecallAt(pos, neg, 0.8)).toEqual({ precision: 0.75, recall: 0.75 });
    expect(precisionRecallAt(pos, neg, 2)).toEqual({ precision: null, recall: 0 });
  });
});

describe('runRetrievalBenchmark', () => {
  const tmp = tempDir('doppel-eval-');
  const originals = path.join(tmp, 'originals');
  const distractors = path.join(DATA, 'imagenette', 'train');
  let model: Autoencoder;
  let report: EvalReport;

  beforeAll(async () => {
    copyInto(photos('CSet14', 6), originals);
    model = await Autoencoder.load(defaultModelsDir());
    report = await runRetrievalBenchmark({
      originals,
      distractors,
      distractorsLimit: 30,
      models: [model],
      hashes: true,
    });
  }, 120_000);

  afterAll(() => {
    model?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reports every method on every attack', () => {
    expect(report).toMatchObject({ originals: 6, distractors: 30, library: 36, queries: 72, k: 10, errors: [] });
    expect(report.attacks).toEqual(ATTACKS.map((a) => a.id));
    expect(report.methods.map((m) => m.method)).toEqual([model.name, 'dHash', 'pHash']);
    expect(report.models).toEqual([{ name: model.name, architecture: model.card.architecture.id }]);
    expect(report.pairs).toEqual({ positive: 72, negative: 72 + 6 });
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    for (const m of report.methods) {
      for (const r of [m.recallAt1, m.recallAt10]) {
        expect(Object.keys(r.perAttack)).toEqual(report.attacks);
        for (const v of [...Object.values(r.perAttack), r.mean]) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
      }
      for (const a of report.attacks)
        expect(m.recallAt10.perAttack[a]).toBeGreaterThanOrEqual(m.recallAt1.perAttack[a]!);
      expect(m.threshold.recall).toBeGreaterThanOrEqual(0);
      if (m.threshold.value !== null) expect(m.threshold.precision).toBeGreaterThanOrEqual(0.99);
    }
    const ae = report.methods[0]!;
    expect(ae.kind).toBe('model');
    expect(ae.encodeRate).toBeGreaterThan(0);
    for (const h of report.methods.slice(1)) {
      expect(h.kind).toBe('hash');
      expect(h.referenceThreshold).toMatchObject({ value: 10, source: 'imagededup-default' });
      expect(Number.isInteger(h.threshold.value)).toBe(true);
    }
  });

  it('prints a table with a row per attack and the mean', () => {
    const lines = formatEvalTable(report).split('\n');
    for (const a of [...report.attacks, 'mean']) {
      const row = lines.find((l) => l.startsWith(`${a} `));
      expect(row, a).toBeDefined();
      expect(row!.trim().split(/\s+/)).toHaveLength(1 + 2 * report.methods.length);
    }
  });

  it('hashes find resized copies and lose flipped ones', () => {
    const [, dh, ph] = report.methods;
    expect(dh!.recallAt1.perAttack.resize25).toBeGreaterThanOrEqual(0.8);
    expect(ph!.recallAt1.perAttack.resize25).toBeGreaterThanOrEqual(0.8);
    expect(dh!.recallAt1.perAttack.flip).toBeLessThan(dh!.recallAt1.perAttack.resize25!);
  });

  it('with corner views (cropViews), finds corner-cropped copies that the plain vectors miss', async () => {
    const attacks = ATTACKS.filter((a) => a.id === 'crop70tl' || a.id === 'jpeg20');
    const views = model.withPreprocess({ ...model.card.preprocess, cropViews: 0.75 }, `${model.name}+views`);
    const r = await runRetrievalBenchmark({
      originals,
      distractors,
      distractorsLimit: 30,
      models: [model, views],
      hashes: false,
      attacks,
    });
    const [plain, withViews] = r.methods as [MethodReport, MethodReport];
    expect(withViews.method).toBe(`${model.name}+views`);
    expect(withViews.recallAt1.perAttack.crop70tl).toBeGreaterThanOrEqual(5 / 6);
    expect(withViews.recallAt1.perAttack.crop70tl).toBeGreaterThan(plain.recallAt1.perAttack.crop70tl!); // 1 against 0.67
    expect(withViews.recallAt1.perAttack.jpeg20).toBe(1);
    // A photo scores its best view: never below its own vector's score.
    expect(withViews.recallAt10.mean).toBeGreaterThanOrEqual(plain.recallAt10.mean);
    // Predicted views also get the duplicate scan's second stage calibrated: views encoded from crops.
    expect(plain.encodedViewThreshold).toBeUndefined();
    expect(withViews.encodedViewThreshold).toMatchObject({ near: withViews.viewThreshold!.near });
    expect(withViews.encodedViewThreshold!.candidate).toBeLessThanOrEqual(withViews.viewThreshold!.near);
  }, 120_000);

  it('gives the same numbers when run again', async () => {
    const small = (): Promise<EvalReport> =>
      runRetrievalBenchmark({
        originals,
        distractors,
        distractorsLimit: 4,
        models: [model],
        hashes: true,
        attacks: ATTACKS.slice(0, 3),
        concurrency: 3,
      });
    const strip = (r: EvalReport) => ({
      ...r,
      date: undefined,
      durationMs: undefined,
      methods: r.methods.map((m) => ({ ...m, encodeRate: undefined })),
    });
    expect(strip(await small())).toEqual(strip(await small()));
  });
});
