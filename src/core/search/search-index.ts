// Library-scale search: vectors held compactly in memory (int8, 512 B a photo at 512-d) and the best candidates
// re-ranked exactly in float32 from a `FloatSource` (in the app, the vectors stored in SQLite). Scores are cosine
// similarities of L2-normalised vectors, as with VectorIndex.
//
// Candidates come from one of two paths over the same int8 rows:
// - exact: usearch's native SIMD scan of every row (exactSearch), used below APPROXIMATE_FROM photos and while
//   the graph is being built;
// - approximate: an HNSW graph (usearch, int8 cosine) kept in step with every upsert and remove, used from
//   APPROXIMATE_FROM photos once built. It is persisted beside the library (see snapshot.ts) so it is built once.
//
// Quantisation: each normalised vector is scaled so that its largest component is 127 and rounded. Cosine is
// blind to a vector's scale, so the int8 cosine of two rows approximates their float cosine to ~1e-3; the re-rank
// scores the candidates exactly, so the exact path equals an exact float32 search unless more than
// 2 (k + excluded) + 16 candidates sit within the int8 error of the k-th score.
import nodeModule from 'node:module';
import os from 'node:os';
import type { NeighbourSource } from '../duplicates/grouping.js';
import { normalise, RowTable, type Neighbour } from './vector-index.js';

type Usearch = typeof import('usearch').default;
type UsearchIndex = InstanceType<Usearch['Index']>;
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
/**
 * From this many photos, searches take their candidates from the HNSW graph. Measured (docs/BENCHMARKS.md): the
 * exact scan costs ~0.1-0.2 us a row on the development machine (5-10 ms at 50,000 photos, 80+ ms at 1,000,000),
 * the graph ~0.5-1 ms a query at any size; building the graph costs ~1-2 ms a photo, paid once as photos are
 * indexed. Below this size the exact scan is fast enough and exact.
 */
export const APPROXIMATE_FROM = 50_000;
/** Candidates asked of the graph for a find-similar query (its search breadth): recall@10 >= 0.99 at 1M. */
const GRAPH_MIN_CANDIDATES = 64;
/** Candidates asked of the graph per photo in a duplicate scan's first pass; photos whose every candidate is
 * above the threshold are asked again for the full count. */
const SCAN_FIRST_CANDIDATES = 32;
/** Queries per native call in whole-library scans. */
const SCAN_CHUNK = 2048;
/** Rows added to the graph per step of a background build (the event loop runs between steps). */
const BUILD_STEP = 64;

const threadsFor = (queries: number): number => (queries > 1 ? Math.max(1, os.availableParallelism()) : 1);

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

export interface GraphOptions {
  /** Graph degree (default 16). */
  connectivity?: number;
  /** Candidate list while building (default 64). */
  expansionAdd?: number;
}

/** An HNSW graph (usearch, int8 cosine) keyed by photo id. */
export class HnswGraph {
  private readonly index: UsearchIndex;

  constructor(
    readonly dim: number,
    opts: GraphOptions = {},
  ) {
    this.index = new usearch.Index({
      dimensions: dim,
      metric: usearch.MetricKind.Cos,
      quantization: usearch.ScalarKind.I8,
      connectivity: opts.connectivity ?? 16,
      expansion_add: opts.expansionAdd ?? 64,
      // The search breadth is max(this, candidates asked): set per query through the candidates asked.
      expansion_search: 16,
      multi: false,
    });
  }

  /** A graph saved by save(); throws when the file is not one (usearch checks its header and size). */
  static load(dim: number, file: string): HnswGraph {
    const graph = new HnswGraph(dim);
    graph.index.load(file);
    if (graph.index.dimensions() !== dim) throw new Error(`The graph in ${file} has another dimension`);
    return graph;
  }

  get size(): number {
    return this.index.size();
  }

  has(id: number): boolean {
    return this.index.contains(BigInt(id)) as boolean;
  }

  /** Adds rows (count x dim int8) under their ids; ids must not be in the graph. */
  add(ids: ArrayLike<number>, rows: Int8Array, threads = 1): void {
    if (ids.length === 0) return;
    this.index.add(BigUint64Array.from(Array.from(ids, (id) => BigInt(id))), rows, threads);
  }

  upsert(id: number, row: Int8Array): void {
    const key = BigInt(id);
    if (this.index.contains(key)) this.index.remove(key);
    this.index.add(key, row, 1);
  }

  remove(id: number): void {
    const key = BigInt(id);
    if (this.index.contains(key)) this.index.remove(key);
  }

  /** Each query's `want` nearest ids with their approximate cosine, best first. */
  search(
    queries: Int8Array,
    want: number,
    threads: number,
  ): { ids: Int32Array; scores: Float32Array; counts: Int32Array } {
    const n = queries.length / this.dim;
    const ids = new Int32Array(n * want).fill(-1);
    const scores = new Float32Array(n * want);
    const counts = new Int32Array(n);
    if (this.index.size() === 0) return { ids, scores, counts };
    const found = this.index.search(queries, want, threads) as unknown as {
      keys: BigUint64Array;
      distances: Float32Array;
      counts?: BigUint64Array;
    };
    for (let i = 0; i < n; i++) {
      const count = found.counts ? Number(found.counts[i]) : found.keys.length;
      counts[i] = Math.min(count, want);
      for (let j = 0; j < counts[i]!; j++) {
        ids[i * want + j] = Number(found.keys[i * want + j]);
        scores[i * want + j] = 1 - found.distances[i * want + j]!;
      }
    }
    return { ids, scores, counts };
  }

  save(file: string): void {
    this.index.save(file);
  }
}

/** A background graph build in progress: the photos changed since it started are replayed at its end. */
interface Build {
  touched: Set<number>;
  cancelled: boolean;
  done: Promise<HnswGraph | null>;
}

/** The search index: int8 rows, the exact native scan, the HNSW graph from APPROXIMATE_FROM photos, float32 re-rank. */
export class CompactIndex implements SearchIndex {
  private readonly table: RowTable<Int8Array>;
  private graphIndex: HnswGraph | null = null;
  private build: Build | null = null;

  constructor(
    readonly dim: number,
    private readonly source: FloatSource,
    capacity = 1024,
    /** Photos from which searches use the graph (when there is one). */
    readonly approximateFrom = APPROXIMATE_FROM,
  ) {
    this.table = new RowTable(dim, (n) => new Int8Array(n), capacity);
  }

  get size(): number {
    return this.table.count;
  }

  /** Bytes held for the vectors and ids (the id map adds ~40-80 B a photo on V8; the graph is counted apart). */
  get bytes(): number {
    return this.table.data.byteLength + this.table.ids.byteLength;
  }

  /** The graph, when there is one (built, loaded or attached). */
  get graph(): HnswGraph | null {
    return this.graphIndex;
  }

  /** Whether searches take their candidates from the graph now. */
  get approximate(): boolean {
    return this.graphIndex !== null && this.size >= this.approximateFrom;
  }

  /** Whether the library is large enough for the graph but has none yet (it should be built). */
  get wantsGraph(): boolean {
    return this.graphIndex === null && this.size >= this.approximateFrom;
  }

  has(id: number): boolean {
    return this.table.has(id);
  }

  upsert(id: number, vector: ArrayLike<number>): void {
    const row = this.table.slot(id, vector.length);
    quantiseRow(vector, this.table.data, row * this.dim, this.dim);
    this.graphIndex?.upsert(id, this.table.row(id)!);
    this.build?.touched.add(id);
  }

  /** Adds or replaces a row already quantised (e.g. read from a snapshot). */
  upsertRow(id: number, row: Int8Array): void {
    const r = this.table.slot(id, row.length);
    this.table.data.set(row, r * this.dim);
    this.graphIndex?.upsert(id, row);
    this.build?.touched.add(id);
  }

  /** Adds quantised rows in bulk (from a snapshot) to an index that has no graph yet. */
  loadRows(ids: Int32Array, data: Int8Array): void {
    if (this.graphIndex || this.build) throw new Error('loadRows is for an index without a graph');
    const { dim } = this;
    for (let i = 0; i < ids.length; i++) {
      const r = this.table.slot(ids[i]!, dim);
      this.table.data.set(data.subarray(i * dim, (i + 1) * dim), r * dim);
    }
  }

  remove(id: number): boolean {
    if (!this.table.remove(id)) return false;
    this.graphIndex?.remove(id);
    this.build?.touched.add(id);
    return true;
  }

  /** The int8 row of `id` (a view, valid until the next change). */
  row(id: number): Int8Array | undefined {
    return this.table.row(id);
  }

  /** The int8 rows (count x dim) and their ids, as views: valid until the next upsert or remove. */
  rows(): { data: Int8Array; ids: Int32Array } {
    return {
      data: this.table.data.subarray(0, this.size * this.dim),
      ids: this.table.ids.subarray(0, this.size),
    };
  }

  /** Ids in row order (a copy). */
  idList(): Int32Array {
    return this.table.ids.slice(0, this.size);
  }

  get(id: number): Float32Array | undefined {
    const row = this.table.row(id);
    if (row === undefined) return undefined;
    const exact = this.source(id);
    return normalise(exact ?? row);
  }

  /**
   * Uses `graph` for the approximate path; it must hold exactly this index's rows (e.g. one loaded from a
   * snapshot taken with them). Cancels a build in progress.
   */
  attachGraph(graph: HnswGraph | null): void {
    this.cancelBuild();
    this.graphIndex = graph;
  }

  /** Stops a background build in progress (its promise resolves to null); the graph in use stays. */
  cancelBuild(): void {
    if (this.build) this.build.cancelled = true;
    this.build = null;
  }

  /** Builds the graph over every row now (native threads, blocking); returns it. */
  buildGraph(opts: GraphOptions = {}): HnswGraph {
    this.cancelBuild();
    const graph = new HnswGraph(this.dim, opts);
    const { data, ids } = this.rows();
    graph.add(ids, data, threadsFor(2));
    this.graphIndex = graph;
    return graph;
  }

  /**
   * Builds the graph step by step, letting the event loop run between steps (searches meanwhile use the exact
   * scan); photos added, changed or removed during the build are replayed at its end. The same promise while a
   * build runs; resolves to null when cancelled (cancelBuild, attachGraph, buildGraph).
   */
  buildGraphInBackground(opts: GraphOptions = {}): Promise<HnswGraph | null> {
    if (this.build) return this.build.done;
    const build: Build = { touched: new Set(), cancelled: false, done: Promise.resolve(null) };
    const ids = this.idList();
    build.done = (async () => {
      const graph = new HnswGraph(this.dim, opts);
      const threads = threadsFor(2);
      for (let start = 0; start < ids.length; start += BUILD_STEP) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (build.cancelled) return null;
        const step = Array.from(ids.subarray(start, start + BUILD_STEP)).filter((id) => !build.touched.has(id));
        const rows = new Int8Array(step.length * this.dim);
        step.forEach((id, i) => rows.set(this.table.row(id)!, i * this.dim));
        graph.add(step, rows, threads);
      }
      if (build.cancelled) return null;
      for (const id of build.touched) {
        const row = this.table.row(id);
        if (row) graph.upsert(id, row);
        else graph.remove(id);
      }
      this.graphIndex = graph;
      this.build = null;
      return graph;
    })();
    this.build = build;
    return build.done;
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
    if (this.size === 0 || k <= 0) return queries.map(() => []);
    const { dim } = this;
    const maxExcluded = Math.max(0, ...(excludes ?? []).map((e) => e?.size ?? 0));
    const q = new Int8Array(queries.length * dim);
    const floats = queries.map((query, i) => quantise(query, q, i * dim));
    const candidates = this.approximate
      ? this.graphCandidates(q, queries.length, k, maxExcluded, minScore)
      : this.exactCandidates(q, queries.length, k, maxExcluded, minScore);
    return floats.map((qf, i) => this.rerank(qf, candidates[i]!, k, excludes?.[i], minScore));
  }

  private exactCandidates(q: Int8Array, n: number, k: number, excluded: number, minScore: number): number[][] {
    const want = Math.min(this.size, candidateCount(k, excluded));
    const { data, ids } = this.rows();
    const found = usearch.exactSearch(data, q, this.dim, want, usearch.MetricKind.Cos, 1);
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      const candidates: number[] = [];
      for (let j = i * want; j < (i + 1) * want; j++) {
        const row = Number(found.keys[j]);
        if (row < 0 || row >= this.size) continue; // padding when fewer were found
        if (1 - found.distances[j]! < minScore - RERANK_MARGIN) continue;
        candidates.push(ids[row]!);
      }
      out.push(candidates);
    }
    return out;
  }

  /**
   * Candidates from the graph. For find-similar (no minScore) the graph is asked for at least
   * GRAPH_MIN_CANDIDATES, its search breadth. In a scan (a minScore), a first pass asks for
   * SCAN_FIRST_CANDIDATES; only the photos whose every candidate is above the threshold are asked again for the
   * full count (most photos have few near neighbours, so the scan costs about one narrow search a photo).
   */
  private graphCandidates(q: Int8Array, n: number, k: number, excluded: number, minScore: number): number[][] {
    const graph = this.graphIndex!;
    const full = Math.min(graph.size, Math.max(candidateCount(k, excluded), GRAPH_MIN_CANDIDATES));
    if (full <= 0) return Array.from({ length: n }, () => []);
    const scan = minScore > -Infinity;
    const first = scan ? Math.min(full, SCAN_FIRST_CANDIDATES) : full;
    const out: number[][] = [];
    const again: number[] = [];
    const collect = (r: ReturnType<HnswGraph['search']>, want: number, i: number): number[] => {
      const candidates: number[] = [];
      for (let j = i * want; j < i * want + r.counts[i]!; j++) {
        if (r.scores[j]! < minScore - RERANK_MARGIN) continue;
        candidates.push(r.ids[j]!);
      }
      return candidates;
    };
    const r = graph.search(q, first, threadsFor(n));
    for (let i = 0; i < n; i++) {
      const candidates = collect(r, first, i);
      out.push(candidates);
      if (first < full && candidates.length === r.counts[i] && r.counts[i] === first) again.push(i);
    }
    if (again.length > 0) {
      const q2 = new Int8Array(again.length * this.dim);
      again.forEach((i, j) => q2.set(q.subarray(i * this.dim, (i + 1) * this.dim), j * this.dim));
      const r2 = graph.search(q2, full, threadsFor(again.length));
      again.forEach((i, j) => (out[i] = collect(r2, full, j)));
    }
    return out;
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
    const ids = this.idList();
    const out = new Map<number, Neighbour[]>();
    for (let start = 0; start < ids.length; start += SCAN_CHUNK) {
      const chunk = Array.from(ids.subarray(start, start + SCAN_CHUNK));
      const found = this.searchMany(
        chunk.map((id) => this.get(id)!),
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
}
