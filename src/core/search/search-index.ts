// Library-scale search: vectors held compactly in memory (int8, 512 B a photo at 512-d), scanned by usearch's
// native SIMD kernel, and the best candidates re-ranked exactly in float32 from a `FloatSource` (in the app, the
// vectors stored in SQLite). Scores are cosine similarities of L2-normalised vectors, as with VectorIndex.
//
// Quantisation: each normalised vector is scaled so that its largest component is 127 and rounded. Cosine is
// blind to a vector's scale, so usearch's int8 cosine of two rows approximates their float cosine to ~1e-3; the
// re-rank takes 2 (k + excluded) + 16 candidates per query and scores them exactly, so results equal an exact
// float32 search unless more than that many candidates sit within the int8 error of the k-th score.
//
// The duplicate scan asks for every photo's neighbours: past SCAN_APPROXIMATE_FROM photos, `scanSource()` builds
// an HNSW graph (usearch, int8) over the same rows for the scan's candidates, re-ranked exactly the same way.
import nodeModule from 'node:module';
import type { NeighbourSource } from '../duplicates/grouping.js';
import { normalise, type Neighbour } from './vector-index.js';

type Usearch = typeof import('usearch').default;
// The CommonJS build: it finds its prebuilt binary from __dirname, which the ESM build lacks.
// (node:module's default export: the CLI bundle's banner already declares a `createRequire` binding.)
const usearch = nodeModule.createRequire(import.meta.url)('usearch') as Usearch;

/** The float32 vector of a photo, for the exact re-rank (any scale: normalised here); undefined when unknown. */
export type FloatSource = (id: number) => ArrayLike<number> | undefined;

export interface SearchIndex extends NeighbourSource {
  readonly dim: number;
  readonly size: number;
  has(id: number): boolean;
  /** Adds or replaces the vector of `id`; the FloatSource must answer the same vector for `id` from now on. */
  upsert(id: number, vector: ArrayLike<number>): void;
  remove(id: number): boolean;
  /** The normalised float32 vector (from the FloatSource), undefined when `id` is not in the index. */
  get(id: number): Float32Array | undefined;
  search(query: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): Neighbour[];
  /** search() for many queries; results below `minScore` are left out (and never re-ranked). */
  searchMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes?: readonly (ReadonlySet<number> | undefined)[],
    minScore?: number,
  ): Neighbour[][];
  /** Every indexed photo's k nearest others at or above `threshold` (photos with none are left out). */
  neighboursWithin(threshold: number, k: number): Map<number, Neighbour[]>;
}

/** Approximate scores below minScore - this are not re-ranked (int8 cosine error is ~1e-3). */
const RERANK_MARGIN = 0.02;
/** From this many photos the duplicate scan finds candidates with HNSW rather than a scan per photo. */
export const SCAN_APPROXIMATE_FROM = 20_000;
/** Queries per native call in whole-library scans. */
const SCAN_CHUNK = 256;

/** Quantises `vector` into `out` (int8, largest component at +-127; the scale needs no normalising first). */
function quantiseRow(vector: ArrayLike<number>, out: Int8Array, offset: number, dim: number): void {
  let max = 0;
  for (let i = 0; i < dim; i++) {
    const x = vector[i]!;
    if (x > max) max = x;
    else if (-x > max) max = -x;
  }
  const scale = max === 0 ? 0 : 127 / max;
  for (let i = 0; i < dim; i++) out[offset + i] = Math.round(vector[i]! * scale);
}

/** Normalises `vector` (returned) and quantises it into `out`. */
function quantise(vector: ArrayLike<number>, out: Int8Array, offset = 0): Float32Array {
  const v = normalise(vector);
  quantiseRow(v, out, offset, v.length);
  return v;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Candidates per query for the re-rank. */
const candidateCount = (k: number, excluded: number): number => 2 * (k + excluded) + 16;

/** The exact path: int8 rows scanned natively, float32 re-rank. 516 B a photo at 512-d plus the id map. */
export class CompactIndex implements SearchIndex {
  private data: Int8Array;
  private ids: Int32Array;
  private readonly rowOf = new Map<number, number>();
  private count = 0;

  constructor(
    readonly dim: number,
    private readonly source: FloatSource,
    capacity = 1024,
  ) {
    this.data = new Int8Array(Math.max(1, capacity) * dim);
    this.ids = new Int32Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held for the vectors and ids (the id map adds ~40-80 B a photo on V8). */
  get bytes(): number {
    return this.data.byteLength + this.ids.byteLength;
  }

  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  private grow(min: number): void {
    const capacity = Math.max(min, this.ids.length * 2);
    const data = new Int8Array(capacity * this.dim);
    data.set(this.data.subarray(0, this.count * this.dim));
    const ids = new Int32Array(capacity);
    ids.set(this.ids.subarray(0, this.count));
    this.data = data;
    this.ids = ids;
  }

  upsert(id: number, vector: ArrayLike<number>): void {
    if (vector.length !== this.dim) throw new Error(`Vector of length ${vector.length}, index expects ${this.dim}`);
    let row = this.rowOf.get(id);
    if (row === undefined) {
      if (this.count === this.ids.length) this.grow(this.count + 1);
      row = this.count++;
      this.rowOf.set(id, row);
      this.ids[row] = id;
    }
    quantiseRow(vector, this.data, row * this.dim, this.dim);
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

  /** The int8 row of `id` (a view), for building other structures over the same vectors. */
  row(id: number): Int8Array | undefined {
    const row = this.rowOf.get(id);
    return row === undefined ? undefined : this.data.subarray(row * this.dim, (row + 1) * this.dim);
  }

  /** The int8 rows (count x dim) and their ids, as views: valid until the next upsert or remove. */
  rows(): { data: Int8Array; ids: Int32Array } {
    return { data: this.data.subarray(0, this.count * this.dim), ids: this.ids.subarray(0, this.count) };
  }

  /** Ids in row order (a copy). */
  idList(): Int32Array {
    return this.ids.slice(0, this.count);
  }

  get(id: number): Float32Array | undefined {
    const row = this.rowOf.get(id);
    if (row === undefined) return undefined;
    const exact = this.source(id);
    if (exact) return normalise(exact);
    return normalise(this.data.subarray(row * this.dim, (row + 1) * this.dim));
  }

  search(query: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): Neighbour[] {
    return this.searchMany([query], k, [exclude])[0]!;
  }

  searchMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes?: readonly (ReadonlySet<number> | undefined)[],
    minScore = -Infinity,
  ): Neighbour[][] {
    if (queries.length === 0) return [];
    if (this.count === 0 || k <= 0) return queries.map(() => []);
    const maxExcluded = Math.max(0, ...(excludes ?? []).map((e) => e?.size ?? 0));
    const want = Math.min(this.count, candidateCount(k, maxExcluded));
    const { dim } = this;
    const q = new Int8Array(queries.length * dim);
    const floats = queries.map((query, i) => quantise(query, q, i * dim));
    const found = usearch.exactSearch(this.data.subarray(0, this.count * dim), q, dim, want, usearch.MetricKind.Cos, 1);
    const keys = found.keys;
    const distances = found.distances;
    return floats.map((qf, i) => {
      const candidates: number[] = [];
      for (let j = i * want; j < (i + 1) * want; j++) {
        const row = Number(keys[j]);
        if (row < 0 || row >= this.count) continue; // padding when fewer were found
        if (1 - distances[j]! < minScore - RERANK_MARGIN) continue;
        candidates.push(this.ids[row]!);
      }
      return this.rerank(qf, candidates, k, excludes?.[i], minScore);
    });
  }

  /** Exact float32 scores of `candidates` for the normalised query: the best k at or above minScore. */
  rerank(
    query: Float32Array,
    candidates: readonly number[],
    k: number,
    exclude: ReadonlySet<number> | undefined,
    minScore: number,
  ): Neighbour[] {
    const out: Neighbour[] = [];
    for (const id of candidates) {
      if (exclude?.has(id)) continue;
      const v = this.get(id);
      if (!v) continue;
      const score = dot(query, v);
      if (score >= minScore) out.push({ id, score });
    }
    return out.sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
  }

  neighboursWithin(threshold: number, k: number): Map<number, Neighbour[]> {
    return neighboursWithin(this, this.idList(), threshold, k);
  }
}

function neighboursWithin(
  source: NeighbourSource & Pick<SearchIndex, 'searchMany'>,
  ids: Int32Array,
  threshold: number,
  k: number,
): Map<number, Neighbour[]> {
  const out = new Map<number, Neighbour[]>();
  for (let start = 0; start < ids.length; start += SCAN_CHUNK) {
    const chunk = Array.from(ids.subarray(start, start + SCAN_CHUNK));
    const queries = chunk.map((id) => source.get(id)!);
    const found = source.searchMany(
      queries,
      k,
      chunk.map((id) => new Set([id])),
      threshold,
    );
    chunk.forEach((id, i) => {
      if (found[i]!.length > 0) out.set(id, found[i]!);
    });
  }
  return out;
}

export interface HnswOptions {
  /** Graph degree (default 16). */
  connectivity?: number;
  /** Candidate list while building (default 128). */
  expansionAdd?: number;
  /** Candidate list while searching (default 128). */
  expansionSearch?: number;
}

/**
 * An HNSW graph (usearch, int8 cosine) over a CompactIndex's rows, for whole-library scans: candidates from the
 * graph, scores from the same exact re-rank. A snapshot: build it again after the library changes.
 */
export class HnswScan implements NeighbourSource {
  private readonly graph: InstanceType<Usearch['Index']>;

  constructor(
    private readonly base: CompactIndex,
    opts: HnswOptions = {},
  ) {
    const { dim } = base;
    this.graph = new usearch.Index({
      dimensions: dim,
      metric: usearch.MetricKind.Cos,
      quantization: usearch.ScalarKind.I8,
      connectivity: opts.connectivity ?? 16,
      expansion_add: opts.expansionAdd ?? 128,
      expansion_search: opts.expansionSearch ?? 128,
      multi: false,
    });
    // usearch takes float32 and quantises it to int8 as round(x * 127): rows / 127 give back the same int8 rows.
    const ids = base.idList();
    const chunk = 4096;
    for (let start = 0; start < ids.length; start += chunk) {
      const part = ids.subarray(start, start + chunk);
      const keys = new BigUint64Array(part.length);
      const vectors = new Float32Array(part.length * dim);
      part.forEach((id, i) => {
        keys[i] = BigInt(id);
        const row = base.row(id)!;
        for (let j = 0; j < dim; j++) vectors[i * dim + j] = row[j]! / 127;
      });
      this.graph.add(keys, vectors, 1);
    }
  }

  get size(): number {
    return this.graph.size();
  }

  get(id: number): Float32Array | undefined {
    return this.base.get(id);
  }

  search(query: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): Neighbour[] {
    return this.searchMany([query], k, [exclude])[0]!;
  }

  searchMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes?: readonly (ReadonlySet<number> | undefined)[],
    minScore = -Infinity,
  ): Neighbour[][] {
    if (queries.length === 0) return [];
    const size = this.graph.size();
    if (size === 0 || k <= 0) return queries.map(() => []);
    const { dim } = this.base;
    const maxExcluded = Math.max(0, ...(excludes ?? []).map((e) => e?.size ?? 0));
    const want = Math.min(size, candidateCount(k, maxExcluded));
    const q8 = new Int8Array(dim);
    const q = new Float32Array(queries.length * dim);
    const floats = queries.map((query, i) => {
      const f = quantise(query, q8);
      for (let j = 0; j < dim; j++) q[i * dim + j] = q8[j]! / 127;
      return f;
    });
    const found = this.graph.search(q, want, 1);
    return floats.map((qf, i) => {
      const candidates: number[] = [];
      for (let j = i * want; j < (i + 1) * want; j++) {
        const key = found.keys[j];
        const distance = found.distances[j];
        if (key === undefined || distance === undefined) break;
        if (key > 0x7fffffffn) continue; // padding when fewer were found
        if (1 - distance < minScore - RERANK_MARGIN) continue;
        candidates.push(Number(key));
      }
      return this.base.rerank(qf, candidates, k, excludes?.[i], minScore);
    });
  }

  neighboursWithin(threshold: number, k: number): Map<number, Neighbour[]> {
    return neighboursWithin(this, this.base.idList(), threshold, k);
  }
}

/** Row index of each query's `k` nearest int8 rows of `data` (cosine), n x k, by usearch's exact kernel. */
function nearestRows(data: Int8Array, queries: Int8Array, dim: number, k: number): BigUint64Array {
  return usearch.exactSearch(data, queries, dim, k, usearch.MetricKind.Cos, 1).keys;
}

export interface IvfOptions {
  /** Lists (k-means clusters); default sqrt(n). */
  lists?: number;
  /** Lists searched per query (default 16: recall of the candidates at cosine >= 0.95 on real photos 0.995,
   * where 8 gave 0.92 and 4 gave 0.76). */
  probes?: number;
  /** k-means refinements after the evenly spread start (default 1). */
  iterations?: number;
}

/**
 * An inverted-file scan (IVF) over a CompactIndex's rows, for whole-library duplicate scans: the rows are split
 * into ~sqrt(n) k-means lists and each query is compared only with the rows of its `probes` nearest lists, by the
 * same native int8 kernel, then re-ranked exactly. About n * (probes * sqrt(n) + 2 sqrt(n)) * dim operations
 * in all instead of n^2 * dim. Near neighbours (cosine >= 0.9) almost always share a list or sit in a neighbouring
 * one. A snapshot: build it again after the library changes.
 */
export class IvfScan implements NeighbourSource {
  private readonly centroids: Int8Array;
  private readonly lists: { data: Int8Array; ids: Int32Array }[] = [];
  private readonly probes: number;

  constructor(
    private readonly base: CompactIndex,
    opts: IvfOptions = {},
  ) {
    const { dim } = base;
    const { data, ids } = base.rows();
    const n = ids.length;
    const count = Math.max(1, Math.min(n, opts.lists ?? Math.round(Math.sqrt(n))));
    this.probes = Math.max(1, Math.min(count, opts.probes ?? 16));
    // Start from rows spread evenly through the index, then refine by k-means on the normalised rows.
    let centroids = new Int8Array(count * dim);
    for (let c = 0; c < count; c++)
      centroids.set(data.subarray(Math.floor((c * n) / count) * dim).subarray(0, dim), c * dim);
    let assign = nearestRows(centroids, data, dim, 1);
    for (let it = 0; it < (opts.iterations ?? 1); it++) {
      const sums = new Float64Array(count * dim);
      const sizes = new Int32Array(count);
      for (let r = 0; r < n; r++) {
        const c = Number(assign[r]);
        let norm = 0;
        for (let j = 0; j < dim; j++) norm += data[r * dim + j]! * data[r * dim + j]!;
        const inv = norm === 0 ? 0 : 1 / Math.sqrt(norm);
        for (let j = 0; j < dim; j++) sums[c * dim + j]! += data[r * dim + j]! * inv;
        sizes[c]!++;
      }
      const next = new Int8Array(count * dim);
      for (let c = 0; c < count; c++) {
        if (sizes[c] === 0) next.set(centroids.subarray(c * dim, (c + 1) * dim), c * dim);
        else quantiseRow(sums.subarray(c * dim, (c + 1) * dim), next, c * dim, dim);
      }
      centroids = next;
      assign = nearestRows(centroids, data, dim, 1);
    }
    this.centroids = centroids;
    const members: number[][] = Array.from({ length: count }, () => []);
    for (let r = 0; r < n; r++) members[Number(assign[r])]!.push(r);
    for (const rows of members) {
      const list = { data: new Int8Array(rows.length * dim), ids: new Int32Array(rows.length) };
      rows.forEach((r, i) => {
        list.data.set(data.subarray(r * dim, (r + 1) * dim), i * dim);
        list.ids[i] = ids[r]!;
      });
      this.lists.push(list);
    }
  }

  get(id: number): Float32Array | undefined {
    return this.base.get(id);
  }

  search(query: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): Neighbour[] {
    return this.searchMany([query], k, [exclude])[0]!;
  }

  searchMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes?: readonly (ReadonlySet<number> | undefined)[],
    minScore = -Infinity,
  ): Neighbour[][] {
    if (queries.length === 0) return [];
    if (this.base.size === 0 || k <= 0) return queries.map(() => []);
    const { dim } = this.base;
    const maxExcluded = Math.max(0, ...(excludes ?? []).map((e) => e?.size ?? 0));
    const want = candidateCount(k, maxExcluded);
    const q = new Int8Array(queries.length * dim);
    const floats = queries.map((query, i) => quantise(query, q, i * dim));
    const probed = nearestRows(this.centroids, q, dim, this.probes);
    // Queries grouped by list, so each list is scanned once for all the queries that probe it.
    const byList = new Map<number, number[]>();
    for (let i = 0; i < queries.length; i++) {
      for (let p = 0; p < this.probes; p++) {
        const list = Number(probed[i * this.probes + p]);
        if (list >= this.lists.length) continue;
        const qs = byList.get(list);
        if (qs) qs.push(i);
        else byList.set(list, [i]);
      }
    }
    const found: { id: number; approx: number }[][] = queries.map(() => []);
    for (const [l, qs] of byList) {
      const list = this.lists[l]!;
      const size = list.ids.length;
      if (size === 0) continue;
      const kk = Math.min(want, size);
      const lq = new Int8Array(qs.length * dim);
      qs.forEach((i, j) => lq.set(q.subarray(i * dim, (i + 1) * dim), j * dim));
      const r = usearch.exactSearch(list.data, lq, dim, kk, usearch.MetricKind.Cos, 1);
      qs.forEach((i, j) => {
        for (let t = j * kk; t < (j + 1) * kk; t++) {
          const row = Number(r.keys[t]);
          if (row >= size) continue;
          const approx = 1 - r.distances[t]!;
          if (approx >= minScore - RERANK_MARGIN) found[i]!.push({ id: list.ids[row]!, approx });
        }
      });
    }
    return floats.map((qf, i) => {
      const candidates = found[i]!.sort((a, b) => b.approx - a.approx)
        .slice(0, want)
        .map((c) => c.id);
      return this.base.rerank(qf, candidates, k, excludes?.[i], minScore);
    });
  }

  neighboursWithin(threshold: number, k: number): Map<number, Neighbour[]> {
    return neighboursWithin(this, this.base.idList(), threshold, k);
  }
}

/**
 * The neighbour source for a duplicate scan over `index`: the index itself (one exact scan per query) below
 * SCAN_APPROXIMATE_FROM photos, an IVF scan built for the scan above it.
 */
export function scanSource(index: CompactIndex, approximateFrom = SCAN_APPROXIMATE_FROM): NeighbourSource {
  return index.size >= approximateFrom ? new IvfScan(index) : index;
}
