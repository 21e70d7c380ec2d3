// CompactIndex, the library-scale search index: int8 rows in memory, the best candidates re-ranked in float32.
// Rows take 512 B a photo at 512-d; the re-rank reads exact vectors from a `FloatSource` (in the app, SQLite's).
// Scores are cosine similarities of L2-normalised vectors, as with VectorIndex.
//
// Candidates come from usearch's native SIMD scan over the same int8 rows: of every row (exact; below
// APPROXIMATE_FROM photos, and while the partition is being built), or, from APPROXIMATE_FROM photos, from a walk
// of a neighbour graph (graph-walk.ts) that starts at the rows of the inverted-file cells (partition.ts: k-means
// cells) nearest to the query. Whole-library scans (library-scan.ts) go through the cells from SCAN_CELLS_FROM
// photos, where the partition and graph are first built (graph-build.ts). They hold no second copy of the vectors
// (~76 B a photo), are kept in step with every upsert and remove, rebuilt in the background when the library has
// grown well past what they were built on, and persisted beside the library (see snapshot.ts).
//
// Quantisation (quantiseRow): each vector is scaled so that its largest component is 127 and rounded. Cosine is
// blind to a vector's scale, so the int8 cosine of two rows approximates their float cosine to ~1e-3; the re-rank
// scores the candidates exactly, so the exact path equals an exact float32 search unless more than
// 2 (k + excluded) + 16 candidates sit within the int8 error of the k-th score.
//
// One file though long: it is the CompactIndex class and the state its methods share; the graph's build and walk,
// the partition and the whole-library scans are already files of their own.
import os from 'node:os';
import {
  BackgroundBuild,
  buildGraph,
  installBuilt,
  installSaved,
  type BuildOptions,
  type Installed,
} from './graph-build.js';
import type { NeighbourGraph } from './graph.js';
import { GraphWalker, type WalkOptions } from './graph-walk.js';
import { batchCandidates, cellNeighboursWithin, exactNeighboursWithin, type ScanOptions } from './library-scan.js';
import { type CellPartition, nearestRows } from './partition.js';
import type { SavedPartition } from './snapshot.js';
import { dot, normalise, quantiseRow, type Neighbour, type NeighbourSource } from '../vectors.js';
import { RowTable } from './vector-index.js';

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
  /**
   * searchMany() for a large batch of queries whose answers are very close to them (corner views against the
   * crops they stand for): once whole-library scans go through the cells (SCAN_CELLS_FROM), candidates come from
   * one batched scan of each query's nearest cells (instead of searchMany's exact scan, or graph walk per query).
   */
  scanMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes: readonly (ReadonlySet<number> | undefined)[],
    minScore: number,
  ): Neighbour[][];
}

/** Approximate scores below minScore - this are not re-ranked (int8 cosine error is ~1e-3). */
const RERANK_MARGIN = 0.02;
/**
 * From this many photos, searches take their candidates from a walk of the graph that starts at the partition's
 * nearest cells. Measured (docs/BENCHMARKS.md): the exact scan costs ~0.1 us a row on the development machine
 * (5 ms at 50,000 photos, 90 ms at 1,000,000); below this size it is fast enough, and exact.
 */
export const APPROXIMATE_FROM = 50_000;
/**
 * From this many photos (or APPROXIMATE_FROM when lower), whole-library scans (the duplicate scan, the corner
 * views' searches) go through the partition, which is then built: the exact scan of every photo against every
 * photo grows with the square of the library. Measured on synthetic libraries (bench generator, 2 cores): 20,000
 * photos 25.5 s exact against 3.3 s through the cells (trained once, in 12.4 s), 40,000 photos 115.5 s against
 * 8.1 s (28.5 s), the cells finding 0.9997-0.9999 of the exact scan's pairs; at 10,000 the exact scan takes ~7 s.
 */
export const SCAN_CELLS_FROM = 10_000;
/** The partition is retrained once the library holds this many times the photos it was trained on. */
const RETRAIN_GROWTH = 4;
/** How the partition and graph are built (graph-build.ts), walked (graph-walk.ts) and scanned (library-scan.ts). */
export interface PartitionOptions extends BuildOptions, WalkOptions, ScanOptions {}

const threadsFor = (queries: number): number => (queries > 1 ? Math.max(1, os.availableParallelism()) : 1);

/** Normalises `vector` (returned) and quantises it into `out`. */
function quantise(vector: ArrayLike<number>, out: Int8Array, offset = 0): Float32Array {
  const v = normalise(vector);
  quantiseRow(v, out, offset, v.length);
  return v;
}

/** Candidates per query for the re-rank. */
const candidateCount = (k: number, excluded: number): number => 2 * (k + excluded) + 16;

/**
 * The search index: int8 rows, the exact native scan, cells and graph from SCAN_CELLS_FROM photos (whole-library
 * scans) and APPROXIMATE_FROM photos (searches), float32 re-rank.
 */
export class CompactIndex implements SearchIndex {
  private readonly table: RowTable<Int8Array>;
  /** The cells and the graph over the rows (and their walks), once built or attached. */
  private walker: GraphWalker | null = null;
  private build: BackgroundBuild<CellPartition> | null = null;
  private readonly rowAt = (r: number): Int8Array | undefined =>
    r < this.table.count ? this.table.data.subarray(r * this.dim, (r + 1) * this.dim) : undefined;

  constructor(
    readonly dim: number,
    private readonly source: FloatSource,
    capacity = 1024,
    /** Photos from which searches use the partition (when there is one). */
    readonly approximateFrom = APPROXIMATE_FROM,
    private readonly options: PartitionOptions = {},
  ) {
    this.table = new RowTable(dim, (n) => new Int8Array(n), capacity);
  }

  get size(): number {
    return this.table.count;
  }

  private get part(): CellPartition | null {
    return this.walker?.part ?? null;
  }

  private get graph(): NeighbourGraph | null {
    return this.walker?.graph ?? null;
  }

  /** Bytes held for the vectors, the ids, the cells and the graph (the id map adds ~40-80 B a photo on V8). */
  get bytes(): number {
    return this.table.data.byteLength + this.table.ids.byteLength + (this.part?.bytes ?? 0) + (this.graph?.bytes ?? 0);
  }

  /** The partition, when there is one (built, loaded or attached). */
  get partition(): CellPartition | null {
    return this.part;
  }

  /** Whether searches take their candidates from the cells and the graph now. */
  get approximate(): boolean {
    return this.part !== null && this.size >= this.approximateFrom;
  }

  /** Whether whole-library scans go through the cells now (see SCAN_CELLS_FROM). */
  get scansCells(): boolean {
    return this.part !== null && this.size >= this.scanCellsFrom;
  }

  private get scanCellsFrom(): number {
    return Math.min(this.approximateFrom, SCAN_CELLS_FROM);
  }

  /** Whether the library is large enough for a partition but has none, or has outgrown its own (build one). */
  get wantsPartition(): boolean {
    if (this.size < this.scanCellsFrom) return false;
    return this.part === null || this.size > RETRAIN_GROWTH * this.part.trainedOn;
  }

  has(id: number): boolean {
    return this.table.has(id);
  }

  upsert(id: number, vector: ArrayLike<number>): void {
    this.exactCache?.delete(id);
    const row = this.table.slot(id, vector.length);
    quantiseRow(vector, this.table.data, row * this.dim, this.dim);
    this.walker?.place(row);
    this.build?.touched.add(id);
  }

  /** Adds quantised rows in bulk (from a snapshot) to an index that has no partition yet. */
  loadRows(ids: Int32Array, data: Int8Array): void {
    if (this.part || this.build) throw new Error('loadRows is for an index without a partition');
    const { dim } = this;
    for (let i = 0; i < ids.length; i++) {
      const r = this.table.slot(ids[i]!, dim);
      this.table.data.set(data.subarray(i * dim, (i + 1) * dim), r * dim);
    }
  }

  remove(id: number): boolean {
    this.exactCache?.delete(id);
    const row = this.table.rowIndex(id);
    if (row === undefined) return false;
    const last = this.table.count - 1;
    if (this.part) {
      this.part.unassign(row);
      if (row !== last) this.part.move(last, row); // the table moves its last row into the gap
    }
    if (this.graph && row !== last) this.graph.move(last, row); // links to the removed photo are skipped
    this.table.remove(id);
    this.build?.touched.add(id);
    return true;
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
    const cached = this.exactCache?.get(id);
    if (cached) return cached;
    const row = this.table.row(id);
    if (row === undefined) return undefined;
    const exact = this.source(id);
    const v = normalise(exact ?? row);
    if (this.exactCache && this.exactCache.size < this.exactCacheLimit) this.exactCache.set(id, v);
    return v;
  }

  private exactCache: Map<number, Float32Array> | null = null;
  private exactCacheLimit = 0;

  /**
   * Runs `fn` (a whole-library scan: its searches re-rank every candidate with the exact vector, which the source
   * reads from the library) keeping up to `limit` exact vectors read meanwhile, so each is read once, not once per
   * query it is a candidate of (567,113 reads in one verified scan of 9,857 photos). An upsert or remove drops the
   * photo's kept vector.
   */
  async withExactVectors<T>(limit: number, fn: () => Promise<T>): Promise<T> {
    if (this.exactCache) return fn();
    this.exactCache = new Map();
    this.exactCacheLimit = limit;
    try {
      return await fn();
    } finally {
      this.exactCache = null;
    }
  }

  /** The partition as the snapshot saves it (per row in rows() order), null when there is none. */
  savedPartition(): SavedPartition | null {
    if (!this.part || !this.graph) return null;
    return {
      centroids: this.part.centroids,
      trainedOn: this.part.trainedOn,
      cells: this.part.cellsOfRows(this.size),
      degree: this.graph.degree,
      links: this.graph.linksOfRows(this.size),
    };
  }

  /** Uses the cells and graph installed over the rows, then places (links in) the rows they left out. */
  private install({ part, graph, late }: Installed): CellPartition {
    const walker = new GraphWalker(this.table, part, graph, this.rowAt, this.options);
    this.walker = walker;
    for (const row of late) walker.place(row);
    return part;
  }

  /**
   * Uses a saved partition (cells, each row's cell and links, in row order as rows() gave them when it was saved;
   * rows it does not cover are placed now). Cancels a build in progress.
   */
  attachPartition(saved: SavedPartition | null): void {
    this.cancelBuild();
    this.walker = null;
    if (saved) this.install(installSaved(this.table, saved));
  }

  /** Stops a background build in progress (its promise resolves to null); the partition in use stays. */
  cancelBuild(): void {
    if (this.build) this.build.cancelled = true;
    this.build = null;
  }

  /** Builds the cells and the graph over every row now (native threads, blocking); returns the partition. */
  buildPartition(): CellPartition {
    this.cancelBuild();
    const ids = this.idList();
    const steps = buildGraph(this.table, ids, threadsFor(2), this.options);
    let r = steps.next();
    while (!r.done) r = steps.next();
    return this.install(installBuilt(this.table, ids, r.value));
  }

  /**
   * Builds the cells and the graph step by step, letting the event loop run between steps (searches meanwhile
   * use the exact scan, or the partition being replaced); photos added, changed or removed during the build are
   * placed at its end. The same promise while a build runs; resolves to null when cancelled (cancelBuild,
   * attachPartition, buildPartition).
   */
  buildPartitionInBackground(): Promise<CellPartition | null> {
    if (this.build) return this.build.done;
    const ids = this.idList();
    this.build = new BackgroundBuild(buildGraph(this.table, ids, threadsFor(2), this.options), (built, touched) => {
      this.build = null;
      return this.install(installBuilt(this.table, ids, built, touched));
    });
    return this.build.done;
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
    const want = candidateCount(k, maxExcluded);
    const candidates = this.approximate
      ? floats.map((_, i) => this.graphCandidates(q.subarray(i * dim, (i + 1) * dim), want, minScore))
      : this.exactCandidates(q, queries.length, want, minScore);
    return floats.map((qf, i) => this.rerank(qf, candidates[i]!, k, excludes?.[i], minScore));
  }

  private exactCandidates(q: Int8Array, n: number, wanted: number, minScore: number): number[][] {
    const want = Math.min(this.size, wanted);
    const { data, ids } = this.rows();
    const scores = new Float32Array(n * want);
    const rows = nearestRows(data, q, this.dim, want, threadsFor(n), scores);
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      const candidates: number[] = [];
      for (let j = i * want; j < (i + 1) * want; j++) {
        if (rows[j]! < 0 || scores[j]! < minScore - RERANK_MARGIN) continue;
        candidates.push(ids[rows[j]!]!);
      }
      out.push(candidates);
    }
    return out;
  }

  /** Candidates of one int8 query from a walk of the graph. */
  private graphCandidates(q: Int8Array, wanted: number, minScore: number): number[] {
    const walker = this.walker!;
    const pool = walker.walk(q, Math.max(wanted, walker.breadth));
    const out: number[] = [];
    for (let j = 0; j < pool.length; j++) if (pool.scores[j]! >= minScore - RERANK_MARGIN) out.push(pool.ids[j]!);
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
    const seen = new Set<number>();
    for (const id of candidates) {
      if (exclude?.has(id) || seen.has(id)) continue;
      seen.add(id);
      const v = this.get(id);
      if (!v) continue;
      const score = dot(query, v);
      if (score >= minScore) out.push({ id, score });
    }
    return out.sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
  }

  scanMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes: readonly (ReadonlySet<number> | undefined)[],
    minScore: number,
  ): Neighbour[][] {
    if (!this.scansCells || queries.length === 0) return this.searchMany(queries, k, excludes, minScore);
    const { dim } = this;
    const q = new Int8Array(queries.length * dim);
    const floats = queries.map((query, i) => quantise(query, q, i * dim));
    const maxExcluded = Math.max(0, ...excludes.map((e) => e?.size ?? 0));
    const want = candidateCount(k, maxExcluded);
    const floor = minScore - RERANK_MARGIN;
    const candidates = batchCandidates(this.walker!, q, want, floor, threadsFor(queries.length), this.options);
    return floats.map((qf, i) => this.rerank(qf, candidates[i]!, k, excludes[i], minScore));
  }

  neighboursWithin(threshold: number, k: number): Map<number, Neighbour[]> {
    if (!this.scansCells) return exactNeighboursWithin(this, threshold, k);
    const floor = threshold - RERANK_MARGIN;
    return cellNeighboursWithin(this, this.walker!, threshold, k, floor, threadsFor(2), this.options);
  }
}
