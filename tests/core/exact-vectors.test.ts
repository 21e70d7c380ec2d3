// A whole-library scan keeps each exact vector it reads (CompactIndex.withExactVectors): the same neighbours, each
// vector read from its source once, and a photo changed during the scan seen as it is now.
import { describe, expect, it } from 'vitest';
import { rng } from '../../src/core/random.js';
import { CompactIndex } from '../../src/core/search/search-index.js';
import { normalise } from '../../src/core/vectors.js';

const DIM = 64;

function library(n: number): Map<number, Float32Array> {
  const next = rng(7);
  const vectors = new Map<number, Float32Array>();
  const centres = Array.from({ length: 20 }, () => Float32Array.from({ length: DIM }, () => next() - 0.5));
  for (let id = 1; id <= n; id++) {
    const c = centres[id % centres.length]!;
    vectors.set(id, normalise(Float32Array.from(c, (x) => x + (next() - 0.5) * 0.3)));
  }
  return vectors;
}

describe('exact vectors kept for a scan', () => {
  it('finds the same neighbours reading each vector once, and forgets a vector that changes', async () => {
    const vectors = library(600);
    let reads = 0;
    const index = new CompactIndex(DIM, (id) => (reads++, vectors.get(id)), 1024);
    for (const [id, v] of vectors) index.upsert(id, v);
    reads = 0;
    const plain = index.neighboursWithin(0.8, 16);
    const readsPlain = reads;
    expect(readsPlain).toBeGreaterThan(2 * vectors.size);

    reads = 0;
    const kept = await index.withExactVectors(10_000, async () => {
      const first = index.neighboursWithin(0.8, 16);
      const second = index.neighboursWithin(0.8, 16);
      expect(second).toEqual(first);
      // Changed while the scan runs: the next read is of the vector now.
      const changed = normalise(Float32Array.from(vectors.get(1)!, (x) => -x));
      vectors.set(1, changed);
      index.upsert(1, changed);
      expect(index.get(1)).toEqual(changed);
      return first;
    });
    expect(kept).toEqual(plain);
    expect(reads).toBeLessThanOrEqual(vectors.size + 1);
    // Kept for the scan only.
    reads = 0;
    index.get(2);
    index.get(2);
    expect(reads).toBe(2);
  });

  it('keeps no more than its limit', async () => {
    const vectors = library(300);
    let reads = 0;
    const index = new CompactIndex(DIM, (id) => (reads++, vectors.get(id)), 1024);
    for (const [id, v] of vectors) index.upsert(id, v);
    await index.withExactVectors(100, async () => {
      for (const id of vectors.keys()) index.get(id);
      reads = 0;
      for (const id of vectors.keys()) index.get(id);
      expect(reads).toBe(200);
    });
  });
});
