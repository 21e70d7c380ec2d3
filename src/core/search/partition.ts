// An inverted-file partition of the search index's int8 rows: k-means centroids ("cells") over the library's
// vectors, each row assigned to its nearest cell. A find-similar query scans, exactly, only the rows of the cells
// nearest to it; a duplicate scan compares each photo with the rows of its few nearest cells (cell-scan.ts). It
// holds no copy of the vectors (the rows stay in the index's table): the centroids (cells x dim int8, ~0.5 MB at
// 1,000 cells) and ~6 bytes a photo (its cell, and its row in the cell's member list).
//
// Training is deterministic for a given library, whatever order its photos were added in: the k-means sample
// and the starting centroids are the photos whose ids hash lowest, and every step is a nearest-centroid search.
import nodeModule from 'node:module';
import { quantiseRow } from '../vectors.js';

type Usearch = typeof import('usearch').default;
const usearch = nodeModule.createRequire(import.meta.url)('usearch') as Usearch;

/** Rows a k-means iteration trains on, per cell. */
const SAMPLE_PER_CELL = 48;
/** k-means iterations. */
const ITERATIONS = 8;
/** Rows per native call while training, assigning and scanning the cells (a background build yields between calls). */
export const CHUNK = 4096;

/** The cell of a row that has none. */
const NONE = 0xffff;
/** The most cells a partition has (a cell number is 16 bits). */
export const MAX_CELLS = NONE;

/** The default number of cells for a library of `rows` photos: about sqrt(rows). */
export const defaultCells = (rows: number): number => Math.min(MAX_CELLS, Math.max(1, Math.round(Math.sqrt(rows))));

/** A 32-bit integer hash (for the deterministic k-means sample). */
function hashId(id: number): number {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * For each of `count` int8 queries, its `want` nearest of `rows` (row indices in `rows`, -1 where fewer exist),
 * by cosine; `scores` gets their approximate cosines when given.
 */
export function nearestRows(
  rows: Int8Array,
  queries: Int8Array,
  dim: number,
  want: number,
  threads: number,
  scores?: Float32Array,
): Int32Array {
  const count = queries.length / dim;
  const have = rows.length / dim;
  const k = Math.min(want, have);
  const out = new Int32Array(count * want).fill(-1);
  if (count === 0 || k === 0) return out;
  // The native scan reads its arrays from the start of their buffers, whatever a subarray's offset. k-means
  // training below still passes it later chunks of its sample as subarrays, so those chunks are assigned as the
  // first chunk's rows are: correcting that made the cells unbalanced (largest 2,494 rows against 795 on the
  // bench's 100,000 synthetic photos) and the duplicate scan 60% slower; it waits for a balanced assignment.
  const found = usearch.exactSearch(rows, queries, dim, k, usearch.MetricKind.Cos, threads) as unknown as {
    keys: BigUint64Array;
    distances: Float32Array;
  };
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < k; j++) {
      const key = Number(found.keys[i * k + j]);
      if (key < 0 || key >= have) continue; // padding when fewer were found
      out[i * want + j] = key;
      if (scores) scores[i * want + j] = 1 - found.distances[i * k + j]!;
    }
  }
  return out;
}

/** Reads the row of a photo by id (a view), undefined when it is gone. */
export type RowReader = (id: number) => Int8Array | undefined;
/** Reads a row by its index (a view), undefined when it has none. */
export type RowAt = (row: number) => Int8Array | undefined;

/** What training produces: the centroids, and the cell of each photo it assigned (by its place in `ids`). */
export interface Trained {
  centroids: Int8Array;
  /** cells[i] is the cell of ids[i] (-1 when the photo was gone when its turn came). */
  cells: Int32Array;
}

/**
 * k-means over the rows of `ids` (read through `read` as the training goes, so a background build sees the
 * library as it is), then every photo assigned to its nearest centroid. A generator: it yields between native
 * calls so that a background build can let the event loop run (and stop); drive it to the end for a blocking build.
 */
export function* train(
  dim: number,
  ids: Int32Array,
  read: RowReader,
  threads: number,
  cellsWanted = defaultCells(ids.length),
): Generator<void, Trained, void> {
  // The sample: the ids that hash lowest (the same photos whatever order the library was built in).
  const order = Array.from(ids).sort((a, b) => hashId(a) - hashId(b) || a - b);
  const sample: Int8Array[] = [];
  const sampleSize = Math.min(order.length, Math.max(1, cellsWanted) * SAMPLE_PER_CELL);
  for (const id of order) {
    if (sample.length === sampleSize) break;
    const row = read(id);
    if (row) sample.push(row.slice());
  }
  const cells = Math.max(1, Math.min(cellsWanted, sample.length));
  const centroids = new Int8Array(cells * dim);
  sample.slice(0, cells).forEach((row, c) => centroids.set(row, c * dim));
  const s = sample.length;
  const sampleRows = new Int8Array(s * dim);
  sample.forEach((row, i) => sampleRows.set(row, i * dim));
  // The normalised float of each sample row, for the means.
  const unit = new Float32Array(s * dim);
  for (let i = 0; i < s; i++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += sampleRows[i * dim + d]! ** 2;
    const inv = norm === 0 ? 0 : 1 / Math.sqrt(norm);
    for (let d = 0; d < dim; d++) unit[i * dim + d] = sampleRows[i * dim + d]! * inv;
  }
  const assigned = new Int32Array(s);
  const fit = new Float32Array(s);
  for (let iteration = 0; iteration < ITERATIONS && s > cells; iteration++) {
    for (let start = 0; start < s; start += CHUNK) {
      const end = Math.min(s, start + CHUNK);
      const scores = new Float32Array(end - start);
      const best = nearestRows(centroids, sampleRows.subarray(start * dim, end * dim), dim, 1, threads, scores);
      assigned.set(best, start);
      fit.set(scores, start);
      yield;
    }
    const sums = new Float32Array(cells * dim);
    const sizes = new Int32Array(cells);
    for (let i = 0; i < s; i++) {
      const c = assigned[i]!;
      if (c < 0) continue;
      sizes[c]!++;
      for (let d = 0; d < dim; d++) sums[c * dim + d] = sums[c * dim + d]! + unit[i * dim + d]!;
    }
    // An empty cell restarts at the sample rows that fit their centroid worst (each used once).
    const worst = Array.from({ length: s }, (_, i) => i).sort((a, b) => fit[a]! - fit[b]! || a - b);
    let next = 0;
    for (let c = 0; c < cells; c++) {
      if (sizes[c] === 0) {
        const i = worst[next++ % s]!;
        centroids.set(sampleRows.subarray(i * dim, (i + 1) * dim), c * dim);
      } else {
        quantiseRow(sums.subarray(c * dim, (c + 1) * dim), centroids, c * dim, dim);
      }
    }
  }
  // Every photo to its nearest centroid.
  const out = new Int32Array(ids.length).fill(-1);
  const buf = new Int8Array(CHUNK * dim);
  for (let start = 0; start < ids.length; start += CHUNK) {
    const end = Math.min(ids.length, start + CHUNK);
    const present: number[] = [];
    for (let i = start; i < end; i++) {
      const row = read(ids[i]!);
      if (!row) continue;
      buf.set(row, present.length * dim);
      present.push(i);
    }
    const best = nearestRows(centroids, buf.subarray(0, present.length * dim), dim, 1, threads);
    present.forEach((i, j) => (out[i] = best[j]!));
    yield;
  }
  return { centroids, cells: out };
}

/** The partition of an index's rows (row indices, kept in step by the index as rows are added, moved, removed). */
export class CellPartition {
  private cellOf: Uint16Array;
  private readonly members: Int32Array[];
  private readonly sizes: Int32Array;

  constructor(
    readonly dim: number,
    /** cells x dim int8 centroids. */
    readonly centroids: Int8Array,
    /** How many photos it was trained on (the index retrains when the library has grown well past it). */
    readonly trainedOn: number,
    capacity = 1024,
  ) {
    const cells = centroids.length / dim;
    if (cells > MAX_CELLS) throw new Error(`A partition has at most ${MAX_CELLS} cells`);
    this.cellOf = new Uint16Array(Math.max(1, capacity)).fill(NONE);
    this.members = Array.from({ length: cells }, () => new Int32Array(8));
    this.sizes = new Int32Array(cells);
  }

  get cells(): number {
    return this.sizes.length;
  }

  /** Bytes held (centroids, per-row arrays, member lists). */
  get bytes(): number {
    let b = this.centroids.byteLength + this.cellOf.byteLength + this.sizes.byteLength;
    for (const m of this.members) b += m.byteLength;
    return b;
  }

  /** Rows assigned. */
  get rows(): number {
    let n = 0;
    for (const size of this.sizes) n += size;
    return n;
  }

  /** The cell of `row`, -1 when unassigned. */
  cellOfRow(row: number): number {
    const cell = row < this.cellOf.length ? this.cellOf[row]! : NONE;
    return cell === NONE ? -1 : cell;
  }

  /** The rows of `cell` (a view, valid until the next change). */
  cellRows(cell: number): Int32Array {
    return this.members[cell]!.subarray(0, this.sizes[cell]!);
  }

  private grow(rows: number): void {
    if (rows <= this.cellOf.length) return;
    const capacity = Math.max(rows, this.cellOf.length * 2);
    const cellOf = new Uint16Array(capacity).fill(NONE);
    cellOf.set(this.cellOf);
    this.cellOf = cellOf;
  }

  /** Trims the member lists to their sizes (after a bulk assignment). */
  compact(): void {
    for (let c = 0; c < this.members.length; c++) {
      if (this.members[c]!.length > this.sizes[c]!) this.members[c] = this.members[c]!.slice(0, this.sizes[c]!);
    }
  }

  /** Where `row` sits in the member list of `cell`. */
  private position(cell: number, row: number): number {
    return this.members[cell]!.subarray(0, this.sizes[cell]!).indexOf(row);
  }

  /** Puts `row` in `cell` (taking it out of its old cell first). */
  assign(row: number, cell: number): void {
    this.unassign(row);
    this.grow(row + 1);
    let list = this.members[cell]!;
    const size = this.sizes[cell]!;
    if (size === list.length) {
      const bigger = new Int32Array(Math.ceil(list.length * 1.5) + 8);
      bigger.set(list);
      this.members[cell] = list = bigger;
    }
    list[size] = row;
    this.sizes[cell] = size + 1;
    this.cellOf[row] = cell;
  }

  /** Takes `row` out of its cell. */
  unassign(row: number): void {
    const cell = this.cellOfRow(row);
    if (cell < 0) return;
    const list = this.members[cell]!;
    const pos = this.position(cell, row);
    const last = --this.sizes[cell]!;
    if (pos !== last) list[pos] = list[last]!;
    this.cellOf[row] = NONE;
  }

  /** The row at `from` now lives at `to` (the index moved it; `to` is unassigned). */
  move(from: number, to: number): void {
    const cell = this.cellOfRow(from);
    if (cell < 0) return;
    this.grow(to + 1);
    this.members[cell]![this.position(cell, from)] = to;
    this.cellOf[to] = cell;
    this.cellOf[from] = NONE;
  }

  /** The nearest `want` cells of each int8 query (count x want, -1 padded). */
  nearestCells(queries: Int8Array, want: number, threads: number): Int32Array {
    return nearestRows(this.centroids, queries, this.dim, want, threads);
  }

  /** The nearest cell of one int8 row. */
  nearestCell(row: Int8Array): number {
    return this.nearestCells(row, 1, 1)[0]!;
  }

  /**
   * Copies the rows of `cells` (read through `read`: rows it has no vector for are left out) into `scratch`,
   * grown when too small; returns the row index of each copied row and the buffer.
   */
  gather(
    cells: ArrayLike<number>,
    read: RowAt,
    scratch: Int8Array<ArrayBufferLike>,
  ): { rows: Int32Array; scratch: Int8Array<ArrayBufferLike> } {
    const { dim } = this;
    let total = 0;
    for (let i = 0; i < cells.length; i++) if (cells[i]! >= 0) total += this.sizes[cells[i]!]!;
    if (scratch.length < total * dim) scratch = new Int8Array(Math.ceil(total * 1.25) * dim);
    const rows = new Int32Array(total);
    let at = 0;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      if (cell < 0) continue;
      const list = this.members[cell]!;
      for (let j = 0; j < this.sizes[cell]!; j++) {
        const r = list[j]!;
        const v = read(r);
        if (!v) continue;
        scratch.set(v, at * dim);
        rows[at++] = r;
      }
    }
    return { rows: rows.subarray(0, at), scratch };
  }

  /** Each of the first `count` rows' cell (for the snapshot). */
  cellsOfRows(count: number): Int32Array {
    const out = new Int32Array(count);
    for (let r = 0; r < count; r++) out[r] = this.cellOfRow(r);
    return out;
  }
}
