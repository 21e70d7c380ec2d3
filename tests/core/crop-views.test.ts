// "Find cropped copies": corner views on real photos, the shipped model and a real SQLite library. A copy cut
// down to the top-left three quarters of a photo's sides is not a near duplicate by the photos' own vectors; with the setting on it
// is, found through the photo's views, which are made from the cached thumbnails of photos indexed before.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuplicateGroup, DuplicateKind } from '../../src/shared/api.js';
import { defaultModelsDir, thumbnailDirFor } from '../../src/core/paths.js';
import { calibrateEncodedViewThreshold, calibrateViewThreshold } from '../../src/core/eval/benchmark.js';
import { nearestByViews, viewScore, viewStretch } from '../../src/core/search/crop-views.js';
import { rng } from '../../src/core/random.js';
import { quantiseRow } from '../../src/core/vectors.js';
import { DoppelService } from '../../src/core/service.js';
import { copyInto, cosine, photos, tempDir } from '../helpers.js';

describe('view calibration', () => {
  it('puts view similarities on the scale of whole-photo ones', () => {
    const stretch = viewStretch(0.87, 0.935);
    expect(stretch).toBeCloseTo(2, 6);
    expect(viewScore(0.935, stretch)).toBeCloseTo(0.87, 6);
    expect(viewScore(1, stretch)).toBe(1);
    expect(viewScore(0.9, stretch)).toBeLessThan(0.87);
    // A view threshold below the near one never makes views count more than the photos' own vectors.
    expect(viewStretch(0.9, 0.8)).toBe(1);
  });

  it('picks the lowest view threshold that keeps the precision', () => {
    const near = 0.9;
    // Copies found by their own vector, crops found only by a view, and distinct pairs whose views are close.
    const positives = [
      { full: 0.95, view: 0.5 },
      { full: 0.6, view: 0.97 },
      { full: 0.5, view: 0.93 },
      { full: 0.4, view: 0.9 },
    ];
    const negatives = [
      { full: 0.7, view: 0.92 },
      { full: 0.3, view: 0.85 },
    ];
    // 0.93 keeps every call right (3 of 4 found); 0.92 lets a distinct pair in.
    expect(calibrateViewThreshold(positives, negatives, near, 1)).toEqual({ value: 0.93, precision: 1, recall: 0.75 });
    expect(calibrateViewThreshold(positives, negatives, near, 0.8)).toEqual({ value: 0.9, precision: 0.8, recall: 1 });
    // No threshold can be precise when a distinct pair already passes on its own vector.
    expect(calibrateViewThreshold(positives, [{ full: 0.99, view: 0 }], near, 1).value).toBeNull();
  });

  it("calibrates the second stage's encoded views on the pairs between the candidate floor and the view threshold", () => {
    const t = { near: 0.9, view: 0.95, rawCandidate: 0.9, minPrecision: 1 };
    const positives = [
      { full: 0.95, view: 0.5, encoded: 0.5 }, // its own vector
      { full: 0.6, view: 0.96, encoded: 0.7 }, // its predicted view
      { full: 0.5, view: 0.92, encoded: 0.98 }, // a candidate that its encoded view confirms
      { full: 0.5, view: 0.91, encoded: 0.94 }, // a candidate only a lower threshold confirms
      { full: 0.5, view: 0.8, encoded: 0.99 }, // not a candidate: the encoded view is never looked at
    ];
    const negatives = [
      { full: 0.7, view: 0.93, encoded: 0.95 }, // a distinct candidate whose encoded view is close
      { full: 0.3, view: 0.85, encoded: 0.99 }, // not a candidate
    ];
    // 0.98 keeps every call right (3 of 5); 0.95 would let the distinct candidate in.
    expect(calibrateEncodedViewThreshold(positives, negatives, t)).toEqual({ value: 0.98, precision: 1, recall: 0.6 });
    expect(calibrateEncodedViewThreshold(positives, negatives, { ...t, minPrecision: 0.8 })).toEqual({
      value: 0.94,
      precision: 0.8,
      recall: 0.8,
    });
  });
});

describe('nearest by views', () => {
  it("ranks photos by their best view's cosine to the query, as a full sort would", () => {
    const dim = 16;
    const random = rng(7);
    // More photos than one native call scans, so that the best carry over from chunk to chunk.
    const photosViews = Array.from({ length: 9000 }, (_, i) => ({
      id: i + 1,
      bytes: Int8Array.from({ length: 4 * dim }, () => Math.round((random() - 0.5) * 254)),
    }));
    const each = (fn: (id: number, bytes: Int8Array) => void) => photosViews.forEach((p) => fn(p.id, p.bytes));
    const query = Float32Array.from({ length: dim }, () => random() - 0.5);
    // The views are 8-bit rows; the query is quantised like them before the native scan.
    const q = new Int8Array(dim);
    quantiseRow(query, q, 0, dim);
    const expected = photosViews
      .filter((p) => p.id !== 5)
      .map((p) => ({
        id: p.id,
        score: Math.max(...[0, 1, 2, 3].map((v) => cosine(q, p.bytes.subarray(v * dim, (v + 1) * dim)))),
      }))
      .sort((a, b) => b.score - a.score);
    // Two queries in one scan of the views: each with its own floor and photos left out.
    const floor = (expected[3]!.score + expected[4]!.score) / 2;
    const [found, aboveFloor] = nearestByViews(
      each,
      [
        { vector: query, rawFloor: -1, exclude: new Set([5]) },
        { vector: query, rawFloor: floor },
      ],
      10,
    );
    expect(found!.map((f) => f.id)).toEqual(expected.slice(0, 10).map((e) => e.id));
    found!.forEach((f, i) => expect(f.score).toBeCloseTo(expected[i]!.score, 5));
    // Nothing below the floor.
    expect(aboveFloor!.map((f) => f.id)).toEqual(expected.slice(0, 4).map((e) => e.id));
  });
});

describe('find cropped copies', () => {
  const tmp = tempDir('doppel-crops-');
  const lib = path.join(tmp, 'photos');
  const db = path.join(tmp, 'library.sqlite');
  let service: DoppelService;
  let original: string;
  let crop: string;
  // Whole-second times, so that they can be set again exactly below.
  const T = 1_700_000_000;

  const groupOf = (groups: DuplicateGroup[], file: string) =>
    groups.find((g) => g.members.some((m) => m.path === file));

  beforeAll(async () => {
    const files = copyInto([...photos('CSun_Hays80', 8), ...photos('CBSD68', 8)], lib);
    original = files[3]!;
    crop = path.join(lib, 'crop-of-original.jpg');
    const meta = await sharp(original).metadata();
    const width = Math.round(meta.width! * 0.75);
    const height = Math.round(meta.height! * 0.75);
    await sharp(original).extract({ left: 0, top: 0, width, height }).jpeg({ quality: 90 }).toFile(crop);
    for (const f of fs.readdirSync(lib)) fs.utimesSync(path.join(lib, f), T, T);
    service = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir() });
  }, 120_000);
  afterAll(async () => {
    await service?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is offered by the shipped model and on by default; turned off before indexing, the crop stays apart', async () => {
    const s = await service.getSettings();
    expect(s.cropViewsAvailable).toBe(true);
    expect(s.findCroppedCopies).toBe(true);
    await service.updateSettings({ findCroppedCopies: false });
    await service.indexFolders([await service.addFolder(lib)]);
    const groups = await service.findDuplicates({ kinds: ['exact', 'near', 'similar'] });
    expect(groupOf(groups, crop)).toBeUndefined();
  });

  it('finds the crop as a duplicate once on, with views made from the cached thumbnails', async () => {
    const modelId = service.store.ensureModel({
      name: service.model.vectorKey,
      dim: service.model.dim,
      inputSize: service.model.inputSize,
    });
    const before = new Map(
      service.store.listPhotos({ limit: 100 }).photos.map((p) => [p.path, service.store.getVector(p.id, modelId)]),
    );
    await service.updateSettings({ findCroppedCopies: true });
    // The originals become unreadable as images, with the same size and time: only a decoder that reads them
    // would notice. The views must come from the cached thumbnails.
    const saved = new Map(fs.readdirSync(lib).map((n) => [path.join(lib, n), fs.readFileSync(path.join(lib, n))]));
    for (const [f, bytes] of saved) {
      fs.writeFileSync(f, Buffer.alloc(bytes.length, 0x55));
      fs.utimesSync(f, T, T);
    }
    const summary = await service.indexAll();
    for (const [f, bytes] of saved) {
      fs.writeFileSync(f, bytes);
      fs.utimesSync(f, T, T);
    }
    expect(summary.errors).toEqual([]);
    expect(summary.updated).toBe(saved.size);
    for (const p of service.store.listPhotos({ limit: 100 }).photos) {
      // The photos' own vectors are left as they were; each photo now has four views.
      expect(service.store.getVector(p.id, modelId)).toEqual(before.get(p.path));
      expect(service.store.getViews(p.id, modelId, 0.75)).toHaveLength(4);
    }

    // Its predicted view puts the crop among the look-alikes only (0.847 on the common scale); the duplicate scan's
    // second stage, views encoded from crops of the cached thumbnails, lifts it to the near threshold. (These checks
    // are of the views as candidates, so the verifier is left out: this interior crop keeps too few keypoints in
    // common with its original, 13, for the verifier to call it the same picture, and it stays a look-alike.)
    const groups = await service.findDuplicates({ kinds: ['exact', 'near'], verify: false });
    const group = groupOf(groups, crop);
    expect(group?.kind).toBe('near');
    // The library keeps what that stage encoded: the next scan needs no thumbnail, in this service or in the next
    // process's (the next `doppel dupes`), even searching again (not reading the last scan's groups back).
    const thumbnails = thumbnailDirFor(db);
    fs.renameSync(thumbnails, `${thumbnails}.away`);
    try {
      const rescan = { kinds: ['exact', 'near'] as DuplicateKind[], verify: false, rescan: true };
      expect(groupOf(await service.findDuplicates(rescan), crop)?.kind).toBe('near');
      expect(service.lastScan?.stored).toBe(false);
      const next = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir() });
      try {
        expect(groupOf(await next.findDuplicates(rescan), crop)?.kind).toBe('near');
        expect(next.lastScan?.stored).toBe(false);
      } finally {
        await next.close();
      }
    } finally {
      fs.renameSync(`${thumbnails}.away`, thumbnails);
    }
    expect(group!.members.map((m) => m.path).sort()).toEqual([crop, original].sort());
    // The larger original is the one to keep.
    expect(group!.keeper).toBe(original);

    const originalId = service.store.listPhotos({ limit: 100 }).photos.find((p) => p.path === original)!.id;
    const similar = await service.similarToPhoto(originalId, 3);
    expect(similar[0]!.photo.path).toBe(crop);
    // The photo as a query image from outside finds itself, then its crop (through the query's views).
    const [fromImage] = await service.similarToImages([fs.readFileSync(original)], 3);
    expect(fromImage!.slice(0, 2).map((r) => r.photo.path)).toEqual([original, crop]);

    // The other way round: Find similar on the crop finds the photo it was cut from, through that photo's views,
    // scored on the common scale (at least the similar threshold, as in the duplicate groups).
    const cropId = service.store.listPhotos({ limit: 100 }).photos.find((p) => p.path === crop)!.id;
    const fromCrop = await service.similarToPhoto(cropId, 3);
    expect(fromCrop[0]!.photo.path).toBe(original);
    expect(fromCrop[0]!.score).toBeGreaterThanOrEqual((await service.getSettings()).similarThreshold);
    const [fromCropImage] = await service.similarToImages([fs.readFileSync(crop)], 3);
    expect(fromCropImage!.slice(0, 2).map((r) => r.photo.path)).toEqual([crop, original]);
  }, 120_000);

  it('a second run has nothing to do, and turning it off leaves the crop out again', async () => {
    const again = await service.indexAll();
    expect(again.updated + again.added).toBe(0);
    await service.updateSettings({ findCroppedCopies: false });
    expect(groupOf(await service.findDuplicates({ kinds: ['exact', 'near', 'similar'] }), crop)).toBeUndefined();
    // Without the views, the crop's own vector is not even similar to its original's.
    const cropId = service.store.listPhotos({ limit: 100 }).photos.find((p) => p.path === crop)!.id;
    const fromCrop = await service.similarToPhoto(cropId, 20);
    const score = fromCrop.find((r) => r.photo.path === original)?.score ?? -1;
    expect(score).toBeLessThan((await service.getSettings()).similarThreshold);
  }, 120_000);

  it("in a new library, indexing makes every photo's views as it encodes it, and the crop joins its original", async () => {
    const fresh = await DoppelService.open({ dbPath: path.join(tmp, 'fresh.db'), modelsDir: defaultModelsDir() });
    try {
      const summary = await fresh.indexFolders([await fresh.addFolder(lib)]);
      expect(summary.errors).toEqual([]);
      const modelId = fresh.store.ensureModel({
        name: fresh.model.vectorKey,
        dim: fresh.model.dim,
        inputSize: fresh.model.inputSize,
      });
      const listed = fresh.store.listPhotos({ limit: 100 }).photos;
      expect(listed.length).toBe(summary.added);
      for (const p of listed) expect(fresh.store.getViews(p.id, modelId, 0.75)).toHaveLength(4);
      const group = groupOf(await fresh.findDuplicates({ kinds: ['exact', 'near', 'similar'] }), crop);
      expect(group!.members.map((m) => m.path).sort()).toEqual([crop, original].sort());
    } finally {
      await fresh.close();
    }
  }, 120_000);
});
