// Exact cosine k-nearest-neighbour search over L2-normalised vectors held in one growable Float32Array.
// Cosine similarity of normalised vectors is their dot product.
import { normalise, type Neighbour } from '../vectors.js';

/** A bounded min-heap keeping the k best (highest score) candidates seen. */
class TopK {
  private readonly ids: Int32Array;
  private readonly scores: Float64Array;
  size = 0;
  constructor(private readonly k: number) {
    this.ids = new Int32Array(k);
    this.scores = new Float64Array(k);
  }
  /** The score a candidate must beat to enter. */
  get floor(): number {
    return this.size < this.k ? -Infinity : this.scores[0]!;
  }
  push(id: number, score: number): void {
    if (this.k === 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (this.scores[p]! <= score) break;
        this.scores[i] = this.scores[p]!;
        this.ids[i] = this.ids[p]!;
        i = p;
      }
      this.scores[i] = score;
      this.ids[i] = id;
    } else if (score > this.scores[0]!) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= this.k) break;
        const r = l + 1;
        const c = r < this.k && this.scores[r]! < this.scores[l]! ? r : l;
        if (this.scores[c]! >= score) break;
        this.scores[i] = this.scores[c]!;
        this.ids[i] = this.ids[c]!;
        i = c;
      }
      this.scores[i] = score;
      this.ids[i] = id;
    }
  }
  /** Best first; ties broken by the smaller id, so results are deterministic. */
  sorted(): Neighbour[] {
    const out: Neighbour[] = [];
    for (let i = 0; i < this.size; i++) out.push({ id: this.ids[i]!, score: this.scores[i]! });
    return out.sort((a, b) => b.score - a.score || a.id - b.id);
  }
}

/**
 * Rows of `dim` numbers keyed by photo id in one growable typed array, with the id of each row; a removed row is
 * filled by the last one. The storage shared by VectorIndex (float32) and CompactIndex (int8).
 */
export class RowTable<A extends Float32Array | Int8Array> {
  data: A;
  ids: Int32Array;
  private readonly rowOf = new Map<number, number>();
  count = 0;

  constructor(
    readonly dim: number,
    private readonly alloc: (length: number) => A,
    capacity = 1024,
  ) {
    this.data = alloc(Math.max(1, capacity) * dim);
    this.ids = new Int32Array(Math.max(1, capacity));
  }

  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  rowIndex(id: number): number | undefined {
    return this.rowOf.get(id);
  }

  /** The row of `id`, appended when new; throws on a vector of the wrong length. */
  slot(id: number, length: number): number {
    if (length !== this.dim) throw new Error(`Vector of length ${length}, index expects ${this.dim}`);
    let row = this.rowOf.get(id);
    if (row === undefined) {
      if (this.count === this.ids.length) {
        const capacity = this.ids.length * 2;
        const data = this.alloc(capacity * this.dim);
        data.set(this.data.subarray(0, this.count * this.dim));
        const ids = new Int32Array(capacity);
        ids.set(this.ids.subarray(0, this.count));
        this.data = data;
        this.ids = ids;
      }
      row = this.count++;
      this.rowOf.set(id, row);
      this.ids[row] = id;
    }
    return row;
  }

  remove(id: number): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = this.count - 1;
    if (row !== last) {
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      const movedId = this.ids[last]!;
      this.ids[row] = movedId;
      this.rowOf.set(movedId, row);
    }
    this.rowOf.delete(id);
    this.count--;
    return true;
  }

  /** The row of `id` as a view (valid until the next change), undefined when absent. */
  row(id: number): A | undefined {
    const row = this.rowOf.get(id);
    return row === undefined ? undefined : (this.data.subarray(row * this.dim, (row + 1) * this.dim) as A);
  }
}

export class VectorIndex {
  private readonly rows: RowTable<Float32Array>;

  constructor(
    readonly dim: number,
    capacity = 1024,
  ) {
    this.rows = new RowTable(dim, (n) => new Float32Array(n), capacity);
  }

  get size(): number {
    return this.rows.count;
  }

  private get count(): number {
    return this.rows.count;
  }

  private get data(): Float32Array {
    return this.rows.data;
  }

  private get ids(): Int32Array {
    return this.rows.ids;
  }

  has(id: number): boolean {
    return this.rows.has(id);
  }

  /** Adds or replaces the vector of `id` (normalised on the way in). */
  upsert(id: number, vector: ArrayLike<number>): void {
    const row = this.rows.slot(id, vector.length);
    this.data.set(normalise(vector), row * this.dim);
  }

  remove(id: number): boolean {
    return this.rows.remove(id);
  }

  /** The stored (normalised) vector of `id`. */
  get(id: number): Float32Array | undefined {
    return this.rows.row(id)?.slice();
  }

  /** The k most similar vectors to `query` (any length-dim vector; normalised here), best first. */
  search(query: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): Neighbour[] {
    const q = normalise(query);
    const top = new TopK(Math.min(k + (exclude?.size ?? 0), this.count));
    const { data, dim } = this;
    for (let row = 0; row < this.count; row++) {
      const base = row * dim;
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += q[j]! * data[base + j]!;
      if (dot > top.floor) top.push(this.ids[row]!, dot);
    }
    const result = top.sorted();
    return (exclude ? result.filter((n) => !exclude.has(n.id)) : result).slice(0, k);
  }

  /**
   * search() for many queries at once: the same results, in the same order, computed eight queries per pass over
   * the stored vectors (each row is read once for eight dot products, which is what bounds the speed). For the
   * duplicate scan, which asks for the neighbours of every photo.
   */
  searchMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes?: readonly ReadonlySet<number>[],
  ): Neighbour[][] {
    const results: Neighbour[][] = [];
    const { data, dim } = this;
    const B = 8;
    for (let start = 0; start < queries.length; start += B) {
      const size = Math.min(B, queries.length - start);
      if (size < B) {
        for (let i = start; i < queries.length; i++) results.push(this.search(queries[i]!, k, excludes?.[i]));
        break;
      }
      const q = new Float32Array(B * dim);
      const tops: TopK[] = [];
      for (let b = 0; b < B; b++) {
        q.set(normalise(queries[start + b]!), b * dim);
        tops.push(new TopK(Math.min(k + (excludes?.[start + b]?.size ?? 0), this.count)));
      }
      const [t0, t1, t2, t3, t4, t5, t6, t7] = tops as [TopK, TopK, TopK, TopK, TopK, TopK, TopK, TopK];
      const o1 = dim;
      const o2 = 2 * dim;
      const o3 = 3 * dim;
      const o4 = 4 * dim;
      const o5 = 5 * dim;
      const o6 = 6 * dim;
      const o7 = 7 * dim;
      for (let row = 0; row < this.count; row++) {
        const base = row * dim;
        let d0 = 0;
        let d1 = 0;
        let d2 = 0;
        let d3 = 0;
        let d4 = 0;
        let d5 = 0;
        let d6 = 0;
        let d7 = 0;
        for (let j = 0; j < dim; j++) {
          const x = data[base + j]!;
          d0 += q[j]! * x;
          d1 += q[o1 + j]! * x;
          d2 += q[o2 + j]! * x;
          d3 += q[o3 + j]! * x;
          d4 += q[o4 + j]! * x;
          d5 += q[o5 + j]! * x;
          d6 += q[o6 + j]! * x;
          d7 += q[o7 + j]! * x;
        }
        const id = this.ids[row]!;
        if (d0 > t0.floor) t0.push(id, d0);
        if (d1 > t1.floor) t1.push(id, d1);
        if (d2 > t2.floor) t2.push(id, d2);
        if (d3 > t3.floor) t3.push(id, d3);
        if (d4 > t4.floor) t4.push(id, d4);
        if (d5 > t5.floor) t5.push(id, d5);
        if (d6 > t6.floor) t6.push(id, d6);
        if (d7 > t7.floor) t7.push(id, d7);
      }
      tops.forEach((top, b) => {
        const exclude = excludes?.[start + b];
        const sorted = top.sorted();
        results.push((exclude ? sorted.filter((n) => !exclude.has(n.id)) : sorted).slice(0, k));
      });
    }
    return results;
  }

  /** Every vector whose similarity to `query` is at least `threshold`, best first. */
  within(query: ArrayLike<number>, threshold: number): Neighbour[] {
    const q = normalise(query);
    const { data, dim } = this;
    const out: Neighbour[] = [];
    for (let row = 0; row < this.count; row++) {
      const base = row * dim;
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += q[j]! * data[base + j]!;
      if (dot >= threshold) out.push({ id: this.ids[row]!, score: dot });
    }
    return out.sort((a, b) => b.score - a.score || a.id - b.id);
  }
}
