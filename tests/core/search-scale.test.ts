import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageToModelInput } from '../../src/core/imaging/analyze.js';
import { Autoencoder } from '../../src/core/model/autoencoder.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { CompactIndex, HnswScan, IvfScan, scanSource } from '../../src/core/search/search-index.js';
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

  beforeAll(async () => {
    const model = await Autoencoder.load(defaultModelsDir());
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

  it('finds the same duplicate candidates through the IVF scan as through exact search (recall 0.99)', () => {
    const index = build(vectors);
    const exact = index.neighboursWithin(0.95, 32);
    const source = scanSource(index, 0);
    expect(source).toBeInstanceOf(IvfScan);
    const approx = source.searchMany!(
      [...vectors.values()],
      32,
      [...vectors.keys()].map((id) => new Set([id])),
      0.95,
    );
    const found = new Set<string>();
    [...vectors.keys()].forEach((id, i) => approx[i]!.forEach((n) => found.add(`${id}-${n.id}`)));
    let pairs = 0;
    let hits = 0;
    for (const [id, list] of exact) {
      for (const n of list) {
        pairs++;
        if (found.has(`${id}-${n.id}`)) hits++;
      }
    }
    expect(pairs).toBeGreaterThan(100);
    expect(hits / pairs).toBeGreaterThanOrEqual(0.99);
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
