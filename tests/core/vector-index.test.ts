import { describe, expect, it } from 'vitest';
import { VectorIndex } from '../../src/core/search/vector-index.js';
import { normalise, type Neighbour } from '../../src/core/vectors.js';

function randomVectors(n: number, dim: number, seed: number): Float32Array[] {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, next));
}

/** The obvious reference: cosine against every vector, sorted. */
function bruteForce(vectors: Map<number, Float32Array>, query: Float32Array, k: number): Neighbour[] {
  const q = normalise(query);
  return [...vectors]
    .map(([id, v]) => {
      const u = normalise(v);
      let dot = 0;
      for (let i = 0; i < u.length; i++) dot += u[i]! * q[i]!;
      return { id, score: dot };
    })
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k);
}

function expectSame(got: Neighbour[], want: Neighbour[]): void {
  expect(got.map((n) => n.id)).toEqual(want.map((n) => n.id));
  got.forEach((n, i) => expect(n.score).toBeCloseTo(want[i]!.score, 5));
}

describe('VectorIndex', () => {
  it('returns the same k nearest neighbours as a brute-force cosine scan', () => {
    const dim = 64;
    const vectors = new Map(randomVectors(500, dim, 7).map((v, i) => [i * 3 + 1, v]));
    const index = new VectorIndex(dim, 16); // small capacity: exercises growth
    for (const [id, v] of vectors) index.upsert(id, v);
    expect(index.size).toBe(500);
    for (const query of randomVectors(20, dim, 99)) {
      for (const k of [1, 10, 37]) expectSame(index.search(query, k), bruteForce(vectors, query, k));
    }
  });

  it('stays equal to the reference after replacing and removing vectors', () => {
    const dim = 32;
    const vectors = new Map(randomVectors(200, dim, 3).map((v, i) => [i, v]));
    const index = new VectorIndex(dim);
    for (const [id, v] of vectors) index.upsert(id, v);
    const fresh = randomVectors(50, dim, 11);
    for (let i = 0; i < 50; i++) {
      vectors.set(i * 2, fresh[i]!);
      index.upsert(i * 2, fresh[i]!);
    }
    for (let id = 1; id < 200; id += 3) {
      vectors.delete(id);
      expect(index.remove(id)).toBe(true);
    }
    expect(index.remove(1)).toBe(false);
    expect(index.size).toBe(vectors.size);
    for (const query of randomVectors(10, dim, 5)) expectSame(index.search(query, 15), bruteForce(vectors, query, 15));
  });

  it('finds a vector itself first with similarity 1 and can exclude it', () => {
    const [a, b, c] = randomVectors(3, 8, 1) as [Float32Array, Float32Array, Float32Array];
    const index = new VectorIndex(8);
    index.upsert(1, a);
    index.upsert(2, b);
    index.upsert(3, c);
    expect(index.search(a, 1)[0]).toEqual({ id: 1, score: expect.closeTo(1, 6) as number });
    expect(index.search(a, 3, new Set([1])).map((n) => n.id)).not.toContain(1);
    expect(index.search(a, 3, new Set([1]))).toHaveLength(2);
  });

  it('returns every vector above a threshold with within()', () => {
    const dim = 16;
    const vectors = new Map(randomVectors(300, dim, 21).map((v, i) => [i, v]));
    const index = new VectorIndex(dim);
    for (const [id, v] of vectors) index.upsert(id, v);
    const query = randomVectors(1, dim, 8)[0]!;
    const want = bruteForce(vectors, query, 300).filter((n) => n.score >= 0.3);
    expect(want.length).toBeGreaterThan(0);
    expectSame(index.within(query, 0.3), want);
  });

  it('refuses a vector of the wrong length', () => {
    expect(() => new VectorIndex(4).upsert(1, [1, 2, 3])).toThrow(/length 3/);
  });
});
