import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { groupDuplicates, type GroupingPhoto } from '../../src/core/duplicates/grouping.js';
import { imageToModelInput } from '../../src/core/imaging/analyze.js';
import { Autoencoder } from '../../src/core/model/autoencoder.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { CompactIndex, HnswScan, scanSource } from '../../src/core/search/search-index.js';
import { normalise, type Neighbour } from '../../src/core/search/vector-index.js';

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

/** Brute-force float32 reference: every vector scored, best first, ties by id. */
function bruteForce(vectors: Map<number, Float32Array>, query: Float32Array, k: number, exclude: number): Neighbour[] {
  const q = normalise(query);
  const all: Neighbour[] = [];
  for (const [id, v] of vectors) {
    if (id === exclude) continue;
    const n = normalise(v);
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

  beforeAll(async () => {
    const model = await Autoencoder.load(defaultModelsDir());
    try {
      const files = listImages(path.join(DATA, 'photos'));
      const classes = path.join(DATA, 'imagenette', 'train');
      for (const c of fs.readdirSync(classes).sort()) files.push(...listImages(path.join(classes, c)).slice(0, PER_CLASS));
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

  it('keeps recall@10 at 0.99 or more on the approximate (HNSW) path', () => {
    const index = build(vectors);
    const hnsw = new HnswScan(index);
    expect(hnsw.size).toBe(vectors.size);
    let hits = 0;
    let total = 0;
    for (const [id, query] of vectors) {
      const truth = new Set(bruteForce(vectors, query, 10, id).map((n) => n.id));
      const found = hnsw.search(query, 10, new Set([id]));
      hits += found.filter((n) => truth.has(n.id)).length;
      total += truth.size;
    }
    expect(hits / total).toBeGreaterThanOrEqual(0.99);
  });

  it('groups duplicates the same way through the HNSW scan as through exact search', () => {
    const index = build(vectors);
    const photos: GroupingPhoto[] = [...vectors.keys()].map((id) => ({
      id,
      path: `/p/${String(id).padStart(5, '0')}.jpg`,
      hash: `h${id}`,
      size: 1000,
      mtimeMs: 0,
      width: 100,
      height: 100,
      format: 'jpeg',
      takenAt: null,
      orientation: null,
      referenceFolder: false,
    }));
    const opts = { kinds: ['near' as const, 'similar' as const], near: 0.97, similar: 0.93 };
    const exact = groupDuplicates({ photos, vectors: scanSource(index, Infinity) }, opts);
    const approx = groupDuplicates({ photos, vectors: scanSource(index, 0) }, opts);
    expect(exact.length).toBeGreaterThan(0);
    expect(approx).toEqual(exact);
  });

  it('stays identical to a rebuild from scratch as photos are added, removed and re-encoded', () => {
    const live = new Map(vectors);
    const index = new CompactIndex(512, (id) => live.get(id));
    const ids = [...vectors.keys()];
    // Added in a scrambled order, in two rounds with removals and re-encodings in between.
    const order = ids.map((id, i) => ({ id, key: (i * 7919) % ids.length })).sort((a, b) => a.key - b.key);
    for (const { id } of order.slice(0, ids.length / 2)) index.upsert(id, live.get(id)!);
    for (const id of ids.filter((id) => id % 5 === 0)) {
      index.remove(id);
      live.delete(id);
    }
    for (const { id } of order.slice(ids.length / 2)) if (live.has(id)) index.upsert(id, live.get(id)!);
    for (const id of ids.filter((id) => id % 11 === 0 && live.has(id))) {
      // Re-encoded (e.g. the file was edited): another photo's vector, slightly changed.
      const other = vectors.get(((id * 31) % ids.length) + 1)!;
      const changed = other.map((x, j) => x * (1 + 0.01 * Math.sin(j + id)));
      live.set(id, changed);
      index.upsert(id, changed);
    }
    expect(index.remove(-1)).toBe(false);
    const rebuilt = build(live);
    expect(index.size).toBe(rebuilt.size);
    for (const id of [...live.keys()].filter((id) => id % 3 === 0)) {
      const query = live.get(id)!;
      expect(index.search(query, 10, new Set([id]))).toEqual(rebuilt.search(query, 10, new Set([id])));
    }
    expect(index.neighboursWithin(0.95, 8)).toEqual(rebuilt.neighboursWithin(0.95, 8));
  });
});
