// Vectors and their neighbours: the plain vector math and types every room that handles the model's codes shares.
// Those rooms: the search indexes (search/), grouping (duplicates/), the view fitting (model/) and the benchmark
// (eval/). No imports, so any room may use them.

/** A photo found by a search, with its cosine similarity to the query. */
export interface Neighbour {
  id: number;
  score: number;
}

export function normalise(vector: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

/** The dot product of two equally long vectors, summed in order (of normalised vectors: their cosine). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Quantises `vector` into `out` (int8, largest component at +-127; the scale needs no normalising first). */
export function quantiseRow(vector: ArrayLike<number>, out: Int8Array, offset: number, dim: number): void {
  let max = 0;
  for (let i = 0; i < dim; i++) {
    const x = vector[i]!;
    if (x > max) max = x;
    else if (-x > max) max = -x;
  }
  const scale = max === 0 ? 0 : 127 / max;
  for (let i = 0; i < dim; i++) out[offset + i] = Math.round(vector[i]! * scale);
}

/** Cosine similarity of two vectors (0 when either is all zeros). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * What grouping (duplicates/grouping.ts) needs from a vector index. VectorIndex satisfies it; an approximate index
 * can too.
 */
export interface NeighbourSource {
  /** The photo's (normalised) vector, undefined when it has none. */
  get(id: number): ArrayLike<number> | undefined;
  /** Whether the photo has a vector (without reading it, where the source keeps vectors elsewhere). */
  has?(id: number): boolean;
  /** The k most similar vectors, best first, without the ids in `exclude`. */
  search(query: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): Neighbour[];
  /** search() for many queries at once, when the index has a faster way to do that. Neighbours below
   * `minScore` may be left out (grouping ignores them): an index can skip work on them. */
  searchMany?(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes: readonly ReadonlySet<number>[],
    minScore?: number,
  ): Neighbour[][];
  /** Every photo's k nearest others at or above `threshold` (photos with none left out), when the index has a
   * whole-library scan that is faster than a query per photo. */
  neighboursWithin?(threshold: number, k: number): Map<number, Neighbour[]>;
}
