// A neighbour graph over the search index's int8 rows, with the int8 math and the top-list its builds and walks use.
// Each row links to `degree` of its nearest photos (by id). Built from the partition (graph-build.ts: every photo
// against the rows of its few nearest cells, an approximate k-nearest-neighbour graph) and kept up to date as
// photos come and go; a find-similar query starts from the best rows of its nearest cells and walks the graph
// (graph-walk.ts: best-first, a pool of `breadth` rows), scoring rows in int8.
// It holds no copy of the vectors: its links (degree x 4 bytes a photo) and each row's norm (4 bytes).

/** Links a photo keeps. */
export const DEGREE = 16;

/** The int8 dot product of a query and row `r` of `data`. */
export function dotRow(q: Int8Array, data: Int8Array, r: number, dim: number): number {
  const base = r * dim;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += q[i]! * data[base + i]!;
    s1 += q[i + 1]! * data[base + i + 1]!;
    s2 += q[i + 2]! * data[base + i + 2]!;
    s3 += q[i + 3]! * data[base + i + 3]!;
  }
  for (; i < dim; i++) s0 += q[i]! * data[base + i]!;
  return s0 + s1 + s2 + s3;
}

/** The Euclidean norm of an int8 vector. */
export function normOf(v: Int8Array, offset = 0, dim = v.length): number {
  let s = 0;
  for (let i = offset; i < offset + dim; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** Links (photo ids) and norms, per row of the index; the index keeps them in step as rows move. */
export class NeighbourGraph {
  private links: Int32Array;
  private norms: Float32Array;

  constructor(
    readonly degree: number,
    capacity = 1024,
  ) {
    this.links = new Int32Array(Math.max(1, capacity) * degree).fill(-1);
    this.norms = new Float32Array(Math.max(1, capacity));
  }

  /** Bytes held. */
  get bytes(): number {
    return this.links.byteLength + this.norms.byteLength;
  }

  private grow(rows: number): void {
    if (rows <= this.norms.length) return;
    const capacity = Math.max(rows, this.norms.length * 2);
    const links = new Int32Array(capacity * this.degree).fill(-1);
    links.set(this.links);
    const norms = new Float32Array(capacity);
    norms.set(this.norms);
    this.links = links;
    this.norms = norms;
  }

  norm(row: number): number {
    return this.norms[row]!;
  }

  /** The links of `row` (a view: -1 marks an empty slot). */
  linksOf(row: number): Int32Array {
    return this.links.subarray(row * this.degree, (row + 1) * this.degree);
  }

  /** Sets the norm and links of `row` (the first `degree` of `ids`). */
  set(row: number, norm: number, ids: ArrayLike<number>): void {
    this.grow(row + 1);
    this.norms[row] = norm;
    const at = row * this.degree;
    for (let j = 0; j < this.degree; j++) this.links[at + j] = j < ids.length ? ids[j]! : -1;
  }

  /** Row `from` now lives at `to`. */
  move(from: number, to: number): void {
    this.grow(to + 1);
    this.norms[to] = this.norms[from]!;
    this.links.copyWithin(to * this.degree, from * this.degree, (from + 1) * this.degree);
  }

  /** The links of the first `count` rows (for the snapshot). */
  linksOfRows(count: number): Int32Array {
    const out = new Int32Array(count * this.degree).fill(-1);
    out.set(this.links.subarray(0, Math.min(out.length, this.links.length)));
    return out;
  }
}

/**
 * Offers (id, score) to a best-first list of at most `size` pairs held at `at` in `ids` and `scores`, `length` of
 * them filled (an id already there is not added twice); returns whether it was kept. The caller counts the length.
 */
export function offerTo(
  ids: Int32Array,
  scores: Float32Array,
  at: number,
  size: number,
  length: number,
  id: number,
  score: number,
): boolean {
  if (length === size && score <= scores[at + length - 1]!) return false;
  for (let j = at; j < at + length; j++) if (ids[j] === id) return false;
  let j = Math.min(length, size - 1);
  while (j > 0 && scores[at + j - 1]! < score) {
    ids[at + j] = ids[at + j - 1]!;
    scores[at + j] = scores[at + j - 1]!;
    j--;
  }
  ids[at + j] = id;
  scores[at + j] = score;
  return true;
}

/** Keeps the `size` best (id, score) pairs, best first. */
export class TopList {
  readonly ids: Int32Array;
  readonly scores: Float32Array;
  length = 0;

  constructor(readonly size: number) {
    this.ids = new Int32Array(size);
    this.scores = new Float32Array(size);
  }

  /** Offers a pair; returns whether it was kept. */
  offer(id: number, score: number): boolean {
    if (!offerTo(this.ids, this.scores, 0, this.size, this.length, id, score)) return false;
    if (this.length < this.size) this.length++;
    return true;
  }
}
