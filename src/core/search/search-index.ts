// Library-scale search: vectors held compactly in memory (int8, 512 B a photo at 512-d) and the best candidates
// re-ranked exactly in float32 from a `FloatSource` (in the app, the vectors stored in SQLite). Scores are cosine
// similarities of L2-normalised vectors, as with VectorIndex.
//
// Candidates come from usearch's native SIMD scan over the same int8 rows, either of every row (exact; below
// APPROXIMATE_FROM photos, and while the partition is being built) or, from APPROXIMATE_FROM photos, of the rows
// in the cells of an inverted-file partition (partition.ts: k-means cells) nearest to the query. The partition
// holds no second copy of the vectors (~8 B a photo), is kept in step with every upsert and remove, retrained in
// the background when the library has grown well past what it was trained on, and persisted beside the library
// (see snapshot.ts).
//
// Quantisation: each normalised vector is scaled so that its largest component is 127 and rounded. Cosine is
// blind to a vector's scale, so the int8 cosine of two rows approximates their float cosine to ~1e-3; the re-rank
// scores the candidates exactly, so the exact path equals an exact float32 search unless more than
// 2 (k + excluded) + 16 candidates sit within the int8 error of the k-th score.
import os from 'node:os';
import { DEGREE, dotRow, NeighbourGraph, normOf, TopList } from './graph.js';
import { CellPartition, defaultCells, nearestRows, scanCells, scanCellsFor, train } from './partition.js';
import type { SavedPartition } from './snapshot.js';
import { normalise, type Neighbour, type NeighbourSource } from '../vectors.js';
import { quantiseRow, RowTable } from './vector-index.js';

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
   * one batched scan of each query's nearest cells instead of a graph walk per query; exact before.
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
 * From this many photos, searches take their candidates from the partition's nearest cells. Measured
 * (docs/BENCHMARKS.md): the exact scan costs ~0.1 us a row on the development machine (5 ms at 50,000 photos,
 * 90 ms at 1,000,000); below this size it is fast enough, and exact.
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
/** Queries per native call in whole-library scans. */
const SCAN_CHUNK = 2048;
/** Cells whose rows start a graph walk. */
const ENTRY_CELLS = 4;
/**
 * Photos a find-similar walk keeps (its breadth; at least the candidates wanted): 96 up to 100,000 photos, 48
 * more each time the library doubles past that (255 at 1,000,000). Measured on the benchmark's 1,000,000
 * photos: recall@10 0.982 at 96, 0.986 at 160, 0.992 at 192, at 6-8 ms a query.
 */
const searchBreadth = (photos: number): number => Math.round(96 + 48 * Math.log2(Math.max(1, photos / 100_000)));
/**
 * Breadth of the walk that links a new photo into the graph. With doppel-ae32c's vectors (more spread out than
 * doppel-ae32's), 96 left recall@10 at 0.937 after half of ~1,360 real photos were added one by one to a built
 * partition; 128 gave 0.970, 160 0.997, 192 0.998 (a rebuild: 0.999). doppel-ae32's vectors: 0.996 and 0.994.
 */
const BUILD_BREADTH = 192;
/** Cells each photo is compared with when the graph is built. */
const GRAPH_PROBES = 4;
/** Cells each photo is compared with in a duplicate scan. */
const SCAN_PROBES = 4;
/** Rounds of neighbours'-neighbours refinement of the graph. */
const REFINE_ROUNDS = 1;

export interface PartitionOptions {
  /** Cells (default about sqrt(photos)). */
  cells?: number;
  /** Photos a find-similar walk of the graph keeps (default: searchBreadth of the library's size). */
  breadth?: number;
  /** Cells each photo is compared with when the graph is built (default GRAPH_PROBES). */
  graphProbes?: number;
  /** Cells each photo is compared with in a duplicate scan (default SCAN_PROBES). */
  scanProbes?: number;
  /** Rounds of refinement of the graph (default REFINE_ROUNDS). */
  refineRounds?: number;
  /** Cells whose rows start a walk (default ENTRY_CELLS). */
  entryCells?: number;
  /** Breadth of the walk that links a new photo (default BUILD_BREADTH). */
  buildBreadth?: number;
}

const threadsFor = (queries: number): number => (queries > 1 ? Math.max(1, os.availableParallelism()) : 1);

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

/** A background build in progress: the photos changed since it started are placed at its end. */
interface Build {
  touched: Set<number>;
  cancelled: boolean;
  done: Promise<CellPartition | null>;
}

/** What a build produces, by place in the id list it started from. */
interface Built {
  centroids: Int8Array;
  cells: Int32Array;
  /** DEGREE links (places in the id list, -1 for none) per photo. */
  links: Int32Array;
}

/** The search index: int8 rows, the exact native scan, cells and graph from APPROXIMATE_FROM photos, float32 re-rank. */
export class CompactIndex implements SearchIndex {
  private readonly table: RowTable<Int8Array>;
  private part: CellPartition | null = null;
  private graph: NeighbourGraph | null = null;
  private build: Build | null = null;
  private scratch: Int8Array<ArrayBufferLike> = new Int8Array(0);
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

  /** Puts a new or changed row in its nearest cell and links it into the graph. */
  private place(row: number): void {
    const part = this.part;
    const graph = this.graph;
    if (!part || !graph) return;
    const v = this.rowAt(row)!;
    part.assign(row, part.nearestCell(v));
    const id = this.table.ids[row]!;
    const found = this.walk(v, this.options.buildBreadth ?? BUILD_BREADTH, row);
    const links = Array.from(found.ids.subarray(0, Math.min(found.length, graph.degree)));
    graph.set(row, normOf(v), links);
    // Each photo the walk found near it links to it when it has room, or when this photo is nearer than its
    // farthest link (the graph stays close to every photo's nearest neighbours as photos come).
    for (let j = 0; j < found.length; j++) {
      const r = this.table.rowIndex(found.ids[j]!);
      if (r === undefined) continue;
      const theirs = graph.linksOf(r);
      if (theirs.includes(id)) continue;
      const w = this.rowAt(r)!;
      let worst = -1;
      let worstScore = Infinity;
      for (let x = 0; x < theirs.length; x++) {
        const rr = theirs[x]! < 0 ? undefined : this.table.rowIndex(theirs[x]!);
        if (rr === undefined) {
          worst = x; // an empty slot, or a photo since removed
          worstScore = -Infinity;
          break;
        }
        const score = dotRow(w, this.table.data, rr, this.dim) / (graph.norm(r) * graph.norm(rr) || 1);
        if (score < worstScore) {
          worstScore = score;
          worst = x;
        }
      }
      // The walk scored this photo against them already.
      if (worst >= 0 && found.scores[j]! > worstScore) theirs[worst] = id;
    }
  }

  upsert(id: number, vector: ArrayLike<number>): void {
    this.exactCache?.delete(id);
    const row = this.table.slot(id, vector.length);
    quantiseRow(vector, this.table.data, row * this.dim, this.dim);
    this.place(row);
    this.build?.touched.add(id);
  }

  /** Adds or replaces a row already quantised (e.g. read from a snapshot). */
  upsertRow(id: number, row: Int8Array): void {
    const r = this.table.slot(id, row.length);
    this.table.data.set(row, r * this.dim);
    this.place(r);
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

  /**
   * Uses a saved partition (cells, each row's cell and links, in row order as rows() gave them when it was saved;
   * rows it does not cover are placed now). Cancels a build in progress.
   */
  attachPartition(saved: SavedPartition | null): void {
    this.cancelBuild();
    this.part = null;
    this.graph = null;
    if (!saved) return;
    const part = new CellPartition(this.dim, saved.centroids, saved.trainedOn, this.table.ids.length);
    const graph = new NeighbourGraph(saved.degree, this.table.ids.length);
    const late: number[] = [];
    for (let row = 0; row < this.size; row++) {
      const cell = row < saved.cells.length ? saved.cells[row]! : -1;
      if (cell < 0 || cell >= part.cells) {
        late.push(row);
        continue;
      }
      part.assign(row, cell);
      const v = this.rowAt(row)!;
      graph.set(row, normOf(v), saved.links.subarray(row * saved.degree, (row + 1) * saved.degree));
    }
    part.compact();
    this.part = part;
    this.graph = graph;
    for (const row of late) this.place(row);
  }

  /** Stops a background build in progress (its promise resolves to null); the partition in use stays. */
  cancelBuild(): void {
    if (this.build) this.build.cancelled = true;
    this.build = null;
  }

  /**
   * Trains the cells over the photos of `ids` (read as they are when their turn comes), then links each photo
   * to its DEGREE nearest among the rows of its GRAPH_PROBES nearest cells. A generator, yielding between native
   * calls.
   */
  private *builder(ids: Int32Array): Generator<void, Built, void> {
    const read = (id: number): Int8Array | undefined => this.table.row(id);
    const cellsWanted = this.options.cells ?? defaultCells(ids.length);
    const trained = yield* train(this.dim, ids, read, threadsFor(2), cellsWanted);
    // The cells over places in `ids`, for the graph.
    const part = new CellPartition(this.dim, trained.centroids, ids.length, ids.length);
    trained.cells.forEach((cell, i) => cell >= 0 && part.assign(i, cell));
    const degree = DEGREE;
    const links = new Int32Array(ids.length * degree).fill(-1);
    const scores = new Float32Array(ids.length * degree).fill(-Infinity);
    const offer = (i: number, j: number, score: number): void => {
      if (i === j) return;
      const at = i * degree;
      if (score <= scores[at + degree - 1]!) return;
      for (let x = 0; x < degree; x++) if (links[at + x] === j) return;
      let x = degree - 1;
      while (x > 0 && scores[at + x - 1]! < score) {
        links[at + x] = links[at + x - 1]!;
        scores[at + x] = scores[at + x - 1]!;
        x--;
      }
      links[at + x] = j;
      scores[at + x] = score;
    };
    const probes = this.options.graphProbes ?? GRAPH_PROBES;
    yield* scanCells(part, (i) => read(ids[i]!), ids.length, probes, degree + 1, threadsFor(2), offer);
    // Refinement (the local join of NN-descent): a photo's neighbours' neighbours are its candidates too, and
    // each pair scored is offered both ways. It links up near photos that the cells put apart.
    const norms = new Float32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const v = read(ids[i]!);
      norms[i] = v ? normOf(v) : 0;
    }
    const mine = new Int32Array(degree);
    // mark[w] === u: w was already considered for u this round (each candidate is scored once per photo).
    const mark = new Int32Array(ids.length).fill(-1);
    for (let round = 0; round < (this.options.refineRounds ?? REFINE_ROUNDS); round++) {
      mark.fill(-1);
      for (let u = 0; u < ids.length; u++) {
        if (u % 1024 === 0) yield;
        const vu = read(ids[u]!);
        if (!vu || norms[u] === 0) continue;
        mine.set(links.subarray(u * degree, (u + 1) * degree));
        mark[u] = u;
        for (const v of mine) if (v >= 0) mark[v] = u;
        for (const v of mine) {
          if (v < 0) continue;
          for (let b = v * degree; b < (v + 1) * degree; b++) {
            const w = links[b]!;
            if (w < 0 || mark[w] === u) continue;
            mark[w] = u;
            if (norms[w] === 0) continue;
            const rw = this.table.rowIndex(ids[w]!);
            if (rw === undefined) continue;
            const score = dotRow(vu, this.table.data, rw, this.dim) / (norms[u]! * norms[w]!);
            offer(u, w, score);
            offer(w, u, score);
          }
        }
      }
    }
    return { centroids: trained.centroids, cells: trained.cells, links };
  }

  /** Installs what a build produced over `ids`; photos changed since (touched) are placed afresh. */
  private finish(ids: Int32Array, built: Built, touched?: Set<number>): CellPartition {
    const part = new CellPartition(this.dim, built.centroids, ids.length, this.table.ids.length);
    const graph = new NeighbourGraph(DEGREE, this.table.ids.length);
    const links: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const cell = built.cells[i]!;
      if (cell < 0 || touched?.has(id)) continue;
      const row = this.table.rowIndex(id);
      if (row === undefined) continue;
      part.assign(row, cell);
      links.length = 0;
      for (let x = i * DEGREE; x < (i + 1) * DEGREE; x++) if (built.links[x]! >= 0) links.push(ids[built.links[x]!]!);
      graph.set(row, normOf(this.rowAt(row)!), links);
    }
    part.compact();
    this.part = part;
    this.graph = graph;
    for (let row = 0; row < this.size; row++) if (part.cellOfRow(row) < 0) this.place(row);
    return part;
  }

  /** Builds the cells and the graph over every row now (native threads, blocking); returns the partition. */
  buildPartition(): CellPartition {
    this.cancelBuild();
    const ids = this.idList();
    const steps = this.builder(ids);
    let r = steps.next();
    while (!r.done) r = steps.next();
    return this.finish(ids, r.value);
  }

  /**
   * Builds the cells and the graph step by step, letting the event loop run between steps (searches meanwhile
   * use the exact scan, or the partition being replaced); photos added, changed or removed during the build are
   * placed at its end. The same promise while a build runs; resolves to null when cancelled (cancelBuild,
   * attachPartition, buildPartition).
   */
  buildPartitionInBackground(): Promise<CellPartition | null> {
    if (this.build) return this.build.done;
    const build: Build = { touched: new Set(), cancelled: false, done: Promise.resolve(null) };
    const ids = this.idList();
    build.done = (async () => {
      const steps = this.builder(ids);
      let r = steps.next();
      while (!r.done) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (build.cancelled) return null;
        r = steps.next();
      }
      if (build.cancelled) return null;
      this.build = null;
      return this.finish(ids, r.value, build.touched);
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

  /**
   * The best `breadth` photos for an int8 query found by walking the graph: it starts from the best rows of the
   * query's ENTRY_CELLS nearest cells (an exact native scan of them) and repeatedly follows the links of the
   * best photo not yet followed, keeping the best `breadth` seen, until every one of those has been followed.
   * `skipRow` (a row being linked) is left out. Ids and approximate int8 cosines, best first.
   */
  private walk(query: Int8Array, breadth: number, skipRow = -1): TopList {
    // The native scans below read their query from the start of its buffer: a row of a larger array (a batch of
    // queries, the table's rows) is copied first.
    const q = query.byteOffset === 0 ? query : query.slice();
    const part = this.part!;
    const graph = this.graph!;
    const { dim } = this;
    const data = this.table.data;
    const pool = new TopList(breadth);
    const rowsOf = new Int32Array(breadth);
    const followed = new Uint8Array(breadth);
    const seen = new Set<number>();
    if (skipRow >= 0) seen.add(skipRow);
    const qNorm = normOf(q) || 1;
    const add = (row: number, score: number): number => {
      const before = pool.length;
      if (!pool.offer(this.table.ids[row]!, score)) return breadth;
      // Keep rowsOf and followed in step with the pool's shift.
      let at = 0;
      while (pool.ids[at] !== this.table.ids[row]) at++;
      const moved = Math.min(before, breadth - 1) - at;
      rowsOf.copyWithin(at + 1, at, at + moved);
      followed.copyWithin(at + 1, at, at + moved);
      rowsOf[at] = row;
      followed[at] = 0;
      return at;
    };
    const cells = part.nearestCells(q, Math.min(part.cells, this.options.entryCells ?? ENTRY_CELLS), 1);
    const gathered = part.gather(cells, this.rowAt, this.scratch);
    this.scratch = gathered.scratch;
    const entries = gathered.rows;
    const scores = new Float32Array(Math.min(breadth, entries.length));
    const found = nearestRows(this.scratch.subarray(0, entries.length * dim), q, dim, scores.length, 1, scores);
    for (let j = 0; j < scores.length; j++) {
      if (found[j]! < 0) continue;
      const row = entries[found[j]!]!;
      if (seen.has(row)) continue;
      seen.add(row);
      add(row, scores[j]!);
    }
    let i = 0;
    while (i < pool.length) {
      if (followed[i]) {
        i++;
        continue;
      }
      followed[i] = 1;
      let lowest = breadth;
      for (const id of graph.linksOf(rowsOf[i]!)) {
        if (id < 0) continue;
        const row = this.table.rowIndex(id);
        if (row === undefined || seen.has(row)) continue;
        seen.add(row);
        const score = dotRow(q, data, row, dim) / (qNorm * (graph.norm(row) || 1));
        lowest = Math.min(lowest, add(row, score));
      }
      i = lowest <= i ? lowest : i + 1;
    }
    return pool;
  }

  /** Candidates of one int8 query from a walk of the graph. */
  private graphCandidates(q: Int8Array, wanted: number, minScore: number): number[] {
    const pool = this.walk(q, Math.max(wanted, this.options.breadth ?? searchBreadth(this.size)));
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
    const candidates: number[][] = queries.map(() => []);
    const ids = this.table.ids;
    scanCellsFor(
      this.part!,
      this.rowAt,
      q,
      this.options.scanProbes ?? SCAN_PROBES,
      candidateCount(k, maxExcluded),
      threadsFor(queries.length),
      (query, row, score) => {
        if (score >= minScore - RERANK_MARGIN) candidates[query]!.push(ids[row]!);
      },
    );
    return floats.map((qf, i) => this.rerank(qf, candidates[i]!, k, excludes[i], minScore));
  }

  neighboursWithin(threshold: number, k: number): Map<number, Neighbour[]> {
    if (this.scansCells) return this.cellNeighboursWithin(threshold, k);
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

  /**
   * The duplicate scan through the cells: each photo is compared (natively, in int8) with the rows of its
   * `scanProbes` nearest cells, cell by cell: every cell's rows against all the photos that probe it, in one
   * call. Pairs above the threshold (less the int8 margin) are re-scored exactly.
   */
  private cellNeighboursWithin(threshold: number, k: number): Map<number, Neighbour[]> {
    const ids = this.table.ids;
    const candidates = new Map<number, number[]>();
    const steps = scanCells(
      this.part!,
      this.rowAt,
      this.size,
      this.options.scanProbes ?? SCAN_PROBES,
      k + 1,
      threadsFor(2),
      (row, other, score) => {
        if (other === row || score < threshold - RERANK_MARGIN) return;
        let list = candidates.get(row);
        if (!list) candidates.set(row, (list = []));
        list.push(ids[other]!);
      },
    );
    let step = steps.next();
    while (!step.done) step = steps.next();
    const probeOf = step.value;
    const probes = probeOf.length / Math.max(1, this.size);
    const part = this.part!;
    // Then along the graph: from each photo, its links and, through every photo found above the threshold, theirs
    // (near photos the cells put apart are linked, directly or through a near photo).
    const graph = this.graph!;
    const { dim } = this;
    const data = this.table.data;
    const budget = 4 * (k + 1);
    const seen = new Set<number>();
    for (let row = 0; row < this.size; row++) {
      const list = candidates.get(row);
      const v = data.subarray(row * dim, (row + 1) * dim);
      const norm = graph.norm(row) || 1;
      seen.clear();
      seen.add(row);
      for (const id of list ?? []) seen.add(this.table.rowIndex(id)!);
      const queue: number[] = [row];
      let visited = 0;
      let found: number[] | undefined = list;
      while (queue.length > 0 && visited < budget) {
        for (const id of graph.linksOf(queue.shift()!)) {
          const other = id < 0 ? undefined : this.table.rowIndex(id);
          if (other === undefined || seen.has(other)) continue;
          seen.add(other);
          // A photo in a cell this one probed was scored by the cell scan (and when that cell held more near
          // photos than it reported, this photo gets the wide walk below).
          const cell = part.cellOfRow(other);
          let probed = false;
          for (let x = row * probes; x < (row + 1) * probes && !probed; x++) probed = probeOf[x] === cell;
          if (probed) continue;
          visited++;
          const score = dotRow(v, data, other, dim) / (norm * (graph.norm(other) || 1));
          if (score < threshold - RERANK_MARGIN) continue;
          if (!found) candidates.set(row, (found = []));
          found.push(id);
          queue.push(other);
        }
      }
    }
    // A photo with more near photos than asked for may have nearer ones than those found: a wide walk of the
    // graph adds its best (rare at duplicate thresholds; most photos have no near photo at all). Measured on real
    // vectors at a loose threshold (0.95, 32 a photo): 2k + 16 kept 0.987 of the exact candidates, 8k + 16 0.99+.
    const breadth = Math.max(8 * k + 16, this.options.breadth ?? searchBreadth(this.size));
    for (const [row, list] of candidates) {
      if (list.length < k) continue;
      const pool = this.walk(data.subarray(row * dim, (row + 1) * dim), breadth, row);
      for (let j = 0; j < pool.length; j++) if (pool.scores[j]! >= threshold - RERANK_MARGIN) list.push(pool.ids[j]!);
    }
    const out = new Map<number, Neighbour[]>();
    for (const [row, list] of candidates) {
      const id = ids[row]!;
      const found = this.rerank(this.get(id)!, list, k, new Set([id]), threshold);
      if (found.length > 0) out.set(id, found);
    }
    return out;
  }
}
