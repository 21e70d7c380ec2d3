import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { imageToModelInput } from '../../src/core/imaging/analyze.js';
import { Autoencoder } from '../../src/core/model/autoencoder.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { LibrarySearch } from '../../src/core/search/library-search.js';
import { APPROXIMATE_FROM, CompactIndex, SCAN_CELLS_FROM } from '../../src/core/search/search-index.js';
import { snapshotPaths } from '../../src/core/search/snapshot.js';
import { normalise, type Neighbour } from '../../src/core/vectors.js';
import { Store } from '../../src/core/store/repository.js';
import { tempDir } from '../helpers.js';

const DATA = path.resolve(import.meta.dirname, '../../../shared/data');
/** Imagenette photos per class, beside every photo of photos/: ~1,400 real vectors in all. */
const PER_CLASS = 120;

function listImages(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(jpe?g|png)$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const normalised = new WeakMap<Float32Array, Float32Array>();
const normalisedOf = (v: Float32Array): Float32Array => {
  let n = normalised.get(v);
  if (!n) normalised.set(v, (n = normalise(v)));
  return n;
};

/** Brute-force float32 reference: every vector scored, best first, ties by id. */
function bruteForce(vectors: Map<number, Float32Array>, query: Float32Array, k: number, exclude: number): Neighbour[] {
  const q = normalise(query);
  const all: Neighbour[] = [];
  for (const [id, v] of vectors) {
    if (id === exclude) continue;
    const n = normalisedOf(v);
    let s = 0;
    for (let i = 0; i < q.length; i++) s += q[i]! * n[i]!;
    all.push({ id, score: s });
  }
  return all.sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
}

/** Equal top-k lists, where ids may differ only between scores tied within 1e-6. */
function expectSameTop(actual: Neighbour[], expected: Neighbour[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((n, i) => {
    expect(Math.abs(n.score - expected[i]!.score)).toBeLessThan(1e-6);
    if (n.id !== expected[i]!.id) {
      const tie = expected.find((e) => e.id === n.id);
      expect(tie && Math.abs(tie.score - n.score) < 1e-6).toBe(true);
    }
  });
}

describe('library-scale search on real photo vectors', () => {
  const vectors = new Map<number, Float32Array>();
  /** The default model's loosest calibrated duplicate threshold (its 'similar' tier). */
  let similar = 0;

  beforeAll(async () => {
    const model = await Autoencoder.load(defaultModelsDir());
    similar = model.card.thresholds!.similar;
    try {
      const files = listImages(path.join(DATA, 'photos'));
      const classes = path.join(DATA, 'imagenette', 'train');
      for (const c of fs.readdirSync(classes).sort())
        files.push(...listImages(path.join(classes, c)).slice(0, PER_CLASS));
      for (let start = 0; start < files.length; start += 128) {
        const inputs = await Promise.all(
          files.slice(start, start + 128).map(async (f) => imageToModelInput(fs.readFileSync(f), model.inputSpec)),
        );
        model.encode(inputs).forEach((v, i) => vectors.set(start + i + 1, v));
      }
    } finally {
      model.dispose();
    }
  });

  const build = (source: Map<number, Float32Array>): CompactIndex => {
    const index = new CompactIndex(model512(source), (id) => source.get(id));
    for (const [id, v] of source) index.upsert(id, v);
    return index;
  };
  const model512 = (source: Map<number, Float32Array>): number => source.values().next().value!.length;

  it('answers exactly: the same top 10 as a brute-force float32 search', () => {
    const index = build(vectors);
    expect(index.size).toBe(vectors.size);
    for (const id of [...vectors.keys()].filter((id) => id % 7 === 0)) {
      const query = vectors.get(id)!;
      expectSameTop(index.search(query, 10, new Set([id])), bruteForce(vectors, query, 10, id));
    }
  });

  /** Recall@10 of `index` against brute force, every `step`-th vector as a query. */
  const recallAt10 = (index: CompactIndex, source: Map<number, Float32Array>, step = 1): number => {
    let hits = 0;
    let total = 0;
    for (const [id, query] of [...source].filter((_, i) => i % step === 0)) {
      const truth = new Set(bruteForce(source, query, 10, id).map((n) => n.id));
      hits += index.search(query, 10, new Set([id])).filter((n) => truth.has(n.id)).length;
      total += truth.size;
    }
    return hits / total;
  };

  it('keeps recall@10 at 0.99 or more on the approximate path (cells and graph)', () => {
    const index = new CompactIndex(512, (id) => vectors.get(id), 1024, 0);
    for (const [id, v] of vectors) index.upsert(id, v);
    expect(index.approximate).toBe(false); // no partition yet: the exact scan answers
    const partition = index.buildPartition();
    expect(index.approximate).toBe(true);
    expect(partition.rows).toBe(vectors.size);
    // A walk starts from 2 of the cells: most of the library is reached through the graph, not scanned.
    expect(partition.cells).toBeGreaterThanOrEqual(30);
    expect(recallAt10(index, vectors)).toBeGreaterThanOrEqual(0.99);
  }, 300_000);

  it('answers every query of a batch on the approximate path, and scanMany finds what the exact scan finds', () => {
    const index = new CompactIndex(512, (id) => vectors.get(id), 1024, 0);
    for (const [id, v] of vectors) index.upsert(id, v);
    index.buildPartition();
    expect(index.approximate).toBe(true);
    const exact = build(vectors);
    const ids = [...vectors.keys()].filter((id) => id % 5 === 0);
    const queries = ids.map((id) => vectors.get(id)!);
    const excludes = ids.map((id) => new Set([id]));
    // A batch answers each query as a search of its own would (the native scan once read every query of a batch
    // from the start of their shared buffer: all but the first got the first one's answer).
    const batch = index.searchMany(queries, 10, excludes);
    ids.forEach((id, i) => expect(batch[i]).toEqual(index.search(vectors.get(id)!, 10, excludes[i])));
    // The cell scan for near queries (like a corner view and the crop it stands for): each photo blended with a
    // quarter of another; their near photos (cosine >= 0.9) as the exact scan finds them.
    const all = [...vectors.values()];
    const near = ids.map((id, i) => {
      const v = normalise(vectors.get(id)!);
      const w = normalise(all[(i * 7919) % all.length]!);
      return v.map((x, j) => x + 0.25 * w[j]!);
    });
    const none = near.map(() => new Set<number>());
    const truth = exact.searchMany(near, 4, none, 0.9);
    const found = index.scanMany(near, 4, none, 0.9);
    let pairs = 0;
    let hits = 0;
    truth.forEach((list, i) => {
      const got = new Set(found[i]!.map((n) => n.id));
      pairs += list.length;
      hits += list.filter((n) => got.has(n.id)).length;
    });
    expect(pairs).toBeGreaterThan(ids.length / 2);
    expect(hits / pairs).toBeGreaterThanOrEqual(0.97);
  }, 300_000);

  it('finds the same duplicate candidates through the cells as through the exact scan (recall 0.99)', () => {
    const exact = build(vectors).neighboursWithin(similar, 32);
    const index = new CompactIndex(512, (id) => vectors.get(id), 1024, 0);
    for (const [id, v] of vectors) index.upsert(id, v);
    index.buildPartition();
    const approx = index.neighboursWithin(similar, 32);
    let pairs = 0;
    let hits = 0;
    for (const [id, list] of exact) {
      const found = new Set((approx.get(id) ?? []).map((n) => n.id));
      for (const n of list) {
        pairs++;
        if (found.has(n.id)) hits++;
      }
    }
    expect(pairs).toBeGreaterThan(100);
    expect(hits / pairs).toBeGreaterThanOrEqual(0.99);
    // Every score the approximate path reports is the exact one.
    for (const [id, list] of approx) {
      const q = normalise(vectors.get(id)!);
      for (const n of list) {
        const v = normalise(vectors.get(n.id)!);
        expect(Math.abs(n.score - q.reduce((s, x, j) => s + x * v[j]!, 0))).toBeLessThan(1e-5);
      }
    }
  });

  it('stays identical to a rebuild from scratch as photos are added, removed and re-encoded', () => {
    const live = new Map(vectors);
    const index = new CompactIndex(512, (id) => live.get(id));
    // A second index on the approximate path once half the photos are in: its cells and graph follow every change.
    const approx = new CompactIndex(512, (id) => live.get(id), 16, 0);
    const both = {
      upsert: (id: number, v: Float32Array) => [index, approx].forEach((i) => i.upsert(id, v)),
      remove: (id: number) => [index, approx].forEach((i) => i.remove(id)),
    };
    const ids = [...vectors.keys()];
    // Added in a scrambled order, in two rounds with removals and re-encodings in between.
    const order = ids.map((id, i) => ({ id, key: (i * 7919) % ids.length })).sort((a, b) => a.key - b.key);
    for (const { id } of order.slice(0, ids.length / 2)) both.upsert(id, live.get(id)!);
    approx.buildPartition();
    for (const id of ids.filter((id) => id % 5 === 0)) {
      both.remove(id);
      live.delete(id);
    }
    for (const { id } of order.slice(ids.length / 2)) if (live.has(id)) both.upsert(id, live.get(id)!);
    for (const id of ids.filter((id) => id % 11 === 0 && live.has(id))) {
      // Re-encoded (e.g. the file was edited): another photo's vector, slightly changed.
      const other = vectors.get(((id * 31) % ids.length) + 1)!;
      const changed = other.map((x, j) => x * (1 + 0.01 * Math.sin(j + id)));
      live.set(id, changed);
      both.upsert(id, changed);
    }
    expect(index.remove(-1)).toBe(false);
    const rebuilt = build(live);
    expect(index.size).toBe(rebuilt.size);
    for (const id of [...live.keys()].filter((id) => id % 3 === 0)) {
      const query = live.get(id)!;
      expect(index.search(query, 10, new Set([id]))).toEqual(rebuilt.search(query, 10, new Set([id])));
    }
    expect(index.neighboursWithin(similar, 8)).toEqual(rebuilt.neighboursWithin(similar, 8));
    // The cells hold exactly the live photos, each in one cell, and the walk still finds the exact neighbours.
    const partition = approx.partition!;
    expect(partition.rows).toBe(live.size);
    const { ids: rowIds } = approx.rows();
    const inCells = new Set<number>();
    for (let c = 0; c < partition.cells; c++) for (const r of partition.cellRows(c)) inCells.add(rowIds[r]!);
    expect([...inCells].sort((a, b) => a - b)).toEqual([...live.keys()].sort((a, b) => a - b));
    expect(recallAt10(approx, live, 2)).toBeGreaterThanOrEqual(0.99);
  }, 300_000);

  describe('persisted beside the library', () => {
    let dir: string;
    let dbPath: string;
    let store: Store;
    let modelId: number;
    const photoIds = new Map<number, number>(); // vector key -> photo id

    beforeEach(() => {
      dir = tempDir('doppel-search-');
      dbPath = path.join(dir, 'library.sqlite');
      store = Store.open(dbPath);
      modelId = store.ensureModel({ name: 'test-model', dim: 512, inputSize: 64 });
      const folder = store.addFolder('/library');
      store.transaction(() => {
        for (const [key, v] of vectors) {
          const id = store.upsertPhoto({
            folderId: folder.id,
            path: `/library/photo-${key}.jpg`,
            size: 1000,
            mtimeMs: 0,
            hash: `h${key}`,
            width: 64,
            height: 64,
            format: 'jpeg',
            takenAt: null,
            orientation: null,
            status: 'indexed',
            error: null,
          });
          photoIds.set(key, id);
          store.putVector(id, modelId, v);
        }
      });
    });
    afterEach(() => {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const open = (approximateFrom?: number): LibrarySearch =>
      LibrarySearch.open({
        store,
        modelId,
        modelName: 'test-model',
        dim: 512,
        dir: `${dbPath}.search`,
        approximateFrom,
      });
    /** The same library read from SQLite alone. */
    const fromDatabase = (): LibrarySearch =>
      LibrarySearch.open({ store, modelId, modelName: 'test-model', dim: 512, dir: null });
    const queries = (): number[] => [...photoIds.values()].filter((id) => id % 9 === 0);
    const expectSameAnswers = (a: CompactIndex, b: CompactIndex): void => {
      expect(a.size).toBe(b.size);
      for (const id of queries()) {
        const q = b.get(id);
        if (!q) {
          expect(a.get(id)).toBeUndefined();
          continue;
        }
        expect(a.search(q, 10, new Set([id]))).toEqual(b.search(q, 10, new Set([id])));
      }
    };

    it('reopens from its snapshot and catches up with changes made since, by any writer', () => {
      const first = open();
      expect(first.loaded.from).toBe('database');
      expect(first.save()).toBe(true);
      expect(first.save()).toBe(false); // nothing changed
      first.close();

      const second = open();
      expect(second.loaded).toMatchObject({ from: 'snapshot', caughtUp: 0 });
      expectSameAnswers(second.index, fromDatabase().index);

      // Changes through the store (as the indexing worker makes them), none through the index.
      const keys = [...photoIds.keys()];
      const reencoded = keys.filter((k) => k % 13 === 0);
      for (const k of reencoded) {
        const other = vectors.get(keys[(k * 31) % keys.length]!)!;
        store.putVector(
          photoIds.get(k)!,
          modelId,
          other.map((x, j) => x * (1 + 0.01 * Math.cos(j + k))),
        );
      }
      const deleted = keys.filter((k) => k % 17 === 0).map((k) => photoIds.get(k)!);
      store.deletePhotos(deleted);
      const missing = keys.filter((k) => k % 19 === 0 && k % 17 !== 0).map((k) => photoIds.get(k)!);
      store.markMissing(missing);
      expect(second.sync()).toBeGreaterThan(0);
      expectSameAnswers(second.index, fromDatabase().index);
      for (const id of [...deleted, ...missing]) expect(second.index.has(id)).toBe(false);
      second.close(); // saves

      const third = open();
      expect(third.loaded).toMatchObject({ from: 'snapshot', caughtUp: 0 });
      expectSameAnswers(third.index, fromDatabase().index);

      // Killed after more changes, before saving: the snapshot is behind and is brought up to date.
      const more = keys.filter((k) => k % 23 === 0 && k % 17 !== 0).map((k) => photoIds.get(k)!);
      store.deletePhotos(more);
      const fourth = open();
      expect(fourth.loaded.from).toBe('snapshot');
      expect(fourth.loaded.caughtUp).toBe(more.length);
      expectSameAnswers(fourth.index, fromDatabase().index);
    });

    it('rebuilds from SQLite instead of trusting a truncated, corrupted, foreign or newer snapshot', () => {
      open().close();
      const { rows } = snapshotPaths(`${dbPath}.search`, 'test-model');
      const good = fs.readFileSync(rows);

      fs.writeFileSync(rows, good.subarray(0, good.byteLength - 100));
      expect(open().loaded).toMatchObject({ from: 'database', reason: 'truncated or padded' });

      const flipped = Buffer.from(good);
      flipped[flipped.byteLength - 7]! ^= 0x55;
      fs.writeFileSync(rows, flipped);
      expect(open().loaded).toMatchObject({ from: 'database', reason: 'rows do not match their checksum' });

      // Another library's snapshot (its own token), under this library's name.
      const otherDir = tempDir('doppel-search-other-');
      try {
        const other = Store.open(path.join(otherDir, 'other.sqlite'));
        const otherModel = other.ensureModel({ name: 'test-model', dim: 512, inputSize: 64 });
        LibrarySearch.open({
          store: other,
          modelId: otherModel,
          modelName: 'test-model',
          dim: 512,
          dir: path.join(otherDir, 'other.sqlite.search'),
        }).close();
        other.close();
        fs.copyFileSync(snapshotPaths(path.join(otherDir, 'other.sqlite.search'), 'test-model').rows, rows);
        expect(open().loaded).toMatchObject({ from: 'database', reason: 'another library' });
      } finally {
        fs.rmSync(otherDir, { recursive: true, force: true });
      }

      // A snapshot from a later state of the library than the database holds (a database restored from a copy).
      fs.writeFileSync(rows, good);
      const [k] = photoIds.keys();
      store.putVector(photoIds.get(k!)!, modelId, vectors.get(k!)!); // the library moves on...
      open().close(); // ...and is snapshotted
      const later = fs.readFileSync(rows);
      store.close();
      const restored = Store.open(dbPath);
      restored.db.prepare('UPDATE search_state SET generation = generation - 1').run(); // as the older copy had it
      restored.close();
      store = Store.open(dbPath);
      fs.writeFileSync(rows, later);
      const reopened = open();
      expect(reopened.loaded).toMatchObject({ from: 'database', reason: 'from a later generation of the library' });
      expectSameAnswers(reopened.index, fromDatabase().index);
    });

    it('saves its cells and graph with the rows, and rebuilds only those when their file does not check out', async () => {
      const first = open(100);
      expect(first.index.wantsPartition).toBe(true);
      const search = first.index.search.bind(first.index);
      const building = first.ensurePartition(); // built in steps, then saved
      const [someId] = photoIds.values();
      expect(search(first.index.get(someId!)!, 5).length).toBe(5); // answered meanwhile
      await building;
      expect(first.index.approximate).toBe(true);
      const saved = first.index.savedPartition()!;
      first.close();

      const second = open(100);
      expect(second.loaded).toMatchObject({ from: 'snapshot', partition: 'snapshot' });
      expect(second.index.approximate).toBe(true);
      expect(second.index.partition!.rows).toBe(vectors.size);
      expect(second.index.savedPartition()).toEqual(saved);
      const byKey = new Map([...photoIds].map(([k, id]) => [id, vectors.get(k)!]));
      expect(recallAt10(second.index, byKey, 3)).toBeGreaterThanOrEqual(0.99);
      // A few changes are linked in; many at once (an indexing run) drop the partition for a rebuild.
      const ids = [...photoIds.values()];
      store.deletePhotos(ids.slice(0, 10));
      for (const id of ids.slice(0, 10)) byKey.delete(id);
      expect(second.sync()).toBe(10);
      expect(second.index.approximate).toBe(true);
      expect(second.index.partition!.rows).toBe(byKey.size);
      const gone = ids.filter((_, i) => i >= 10 && i % 10 === 0);
      store.deletePhotos(gone);
      for (const id of gone) byKey.delete(id);
      expect(second.sync()).toBe(gone.length);
      expect(second.index.approximate).toBe(false); // the exact scan answers while it is built again
      await second.ensurePartition();
      expect(second.index.partition!.rows).toBe(byKey.size);
      expect(recallAt10(second.index, byKey, 3)).toBeGreaterThanOrEqual(0.99);
      second.close();

      const { cells } = snapshotPaths(`${dbPath}.search`, 'test-model');
      const bytes = fs.readFileSync(cells);
      fs.writeFileSync(cells, bytes.subarray(0, bytes.byteLength >> 1));
      const third = open(100);
      expect(third.loaded).toMatchObject({ from: 'snapshot', partition: 'none' });
      expect(third.index.wantsPartition).toBe(true);
      expectSameAnswers(third.index, fromDatabase().index); // the exact scan answers meanwhile
    });
  });
});

describe('a library between the scan threshold and the search threshold', () => {
  it('scans for duplicates through the cells while find-similar stays exact', () => {
    expect(SCAN_CELLS_FROM).toBeLessThan(APPROXIMATE_FROM);
    // Synthetic vectors: 500 clusters, every 20th photo a near copy of the one before.
    let seed = 11;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const centres = Array.from({ length: 500 }, () => Float32Array.from({ length: 512 }, () => rand()));
    const vectors = new Map<number, Float32Array>();
    for (let id = 1; id <= SCAN_CELLS_FROM; id++) {
      const base = id % 20 === 0 ? vectors.get(id - 1)! : centres[Math.floor(rand() * centres.length)]!;
      const noise = id % 20 === 0 ? 0.02 : 0.5;
      vectors.set(
        id,
        Float32Array.from(base, (x) => Math.max(0, x + (rand() - 0.5) * noise)),
      );
    }
    const index = new CompactIndex(512, (id) => vectors.get(id), SCAN_CELLS_FROM);
    for (const [id, v] of vectors) index.upsert(id, v);
    expect(index.wantsPartition).toBe(true);
    const exact = index.neighboursWithin(0.95, 8);
    index.buildPartition();
    expect(index.scansCells).toBe(true);
    expect(index.approximate).toBe(false);
    const cells = index.neighboursWithin(0.95, 8);
    let pairs = 0;
    let hits = 0;
    for (const [id, list] of exact) {
      const got = new Set((cells.get(id) ?? []).map((n) => n.id));
      pairs += list.length;
      hits += list.filter((n) => got.has(n.id)).length;
    }
    expect(pairs).toBeGreaterThanOrEqual(2 * (SCAN_CELLS_FROM / 20));
    expect(hits / pairs).toBeGreaterThanOrEqual(0.99);
    // Find-similar still scans every row: the same answers as brute force.
    for (const id of [7, 1234, 5555, 9999]) {
      expectSameTop(index.search(vectors.get(id)!, 10, new Set([id])), bruteForce(vectors, vectors.get(id)!, 10, id));
    }
  }, 300_000);
});
