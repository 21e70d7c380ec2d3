// A model change re-encodes the library from the cached analysis thumbnails, without decoding the originals.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { copyInto, cosine, photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-reencode-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function vectorsOf(dbPath: string, model: string): Promise<Map<string, Float32Array>> {
  const s = await DoppelService.open({ dbPath, modelsDir: defaultModelsDir(), model });
  try {
    const modelId = s.store.ensureModel({ name: s.model.vectorKey, dim: s.model.dim, inputSize: s.model.inputSize });
    const out = new Map<string, Float32Array>();
    for (const p of s.store.listPhotos({ limit: 1000 }).photos) {
      const v = s.store.getVector(p.id, modelId);
      if (v) out.set(path.basename(p.path), v);
    }
    return out;
  } finally {
    await s.close();
  }
}

describe('model change', () => {
  it('encodes with the new model from the cached thumbnails, not from the originals', async () => {
    const lib = path.join(tmp, 'photos');
    const files = copyInto([...photos('CSun_Hays80', 6), ...photos('CBSD68', 6)], lib);
    // Whole-second times, so that they can be set again exactly below.
    const T = 1_700_000_000;
    for (const f of files) fs.utimesSync(f, T, T);
    const db = path.join(tmp, 'library.sqlite');
    const first = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir(), model: 'doppel-ae32' });
    await first.indexFolders([await first.addFolder(lib)]);
    await first.close();

    // What the other model makes of the originals, in a library of its own.
    const direct = path.join(tmp, 'direct.sqlite');
    const other = await DoppelService.open({ dbPath: direct, modelsDir: defaultModelsDir(), model: 'seed-ae32' });
    await other.indexFolders([await other.addFolder(lib)]);
    await other.close();

    // Now the originals become unreadable as images while their size and mtime stay the same: only a decoder
    // that reads them would notice.
    for (const f of files) {
      fs.writeFileSync(f, Buffer.alloc(fs.statSync(f).size, 0x55));
      fs.utimesSync(f, T, T);
    }
    const second = await DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir(), model: 'seed-ae32' });
    const summary = await second.indexAll();
    await second.close();
    expect(summary.errors).toEqual([]);
    expect(summary.updated).toBe(files.length);

    const reencoded = await vectorsOf(db, 'seed-ae32');
    const reference = await vectorsOf(direct, 'seed-ae32');
    expect(reencoded.size).toBe(files.length);
    for (const [name, v] of reencoded) {
      // The thumbnail is the same 256 px intermediate the original's model input is made from, stored as JPEG.
      expect(cosine(v, reference.get(name)!), name).toBeGreaterThan(0.98);
    }
    // The first model's vectors are still there.
    expect((await vectorsOf(db, 'doppel-ae32')).size).toBe(files.length);
  }, 300_000);

  it('moves between two models that make the same vectors without encoding again', async () => {
    // doppel-ae32d is doppel-ae32c's frozen encoder with a detail branch for its reconstructions (vectorsOf).
    const lib = path.join(tmp, 'same-vectors');
    const files = copyInto(photos('CSet14', 5), lib);
    const db = path.join(tmp, 'same-vectors.sqlite');
    const open = (model: string) => DoppelService.open({ dbPath: db, modelsDir: defaultModelsDir(), model });
    const first = await open('doppel-ae32c');
    await first.indexFolders([await first.addFolder(lib)]);
    await first.updateSettings({ nearThreshold: 0.91 });
    const firstId = first.store.listPhotos({ limit: 10, sort: 'path' }).photos[0]!.id;
    const before = await first.similarToPhoto(firstId, 4);
    const drawnBefore = await first.reconstructPhoto(firstId);
    await first.close();

    const second = await open('doppel-ae32d');
    expect(second.model.vectorKey).toBe('doppel-ae32c');
    const summary = await second.indexAll();
    expect(summary).toMatchObject({ added: 0, updated: 0, unchanged: files.length, errors: [] });
    // The library's settings for those vectors, and its search results, are the same.
    expect((await second.getSettings()).nearThreshold).toBe(0.91);
    const photoId = second.store.listPhotos({ limit: 10, sort: 'path' }).photos[0]!.id;
    expect(await second.similarToPhoto(photoId, 4)).toEqual(before);
    // Its reconstruction is its own decoder's: closer to the input than doppel-ae32c's.
    expect((await second.reconstructPhoto(photoId)).mse).toBeLessThan(drawnBefore.mse);
    await second.close();
  }, 300_000);
});
