// Walking the neighbour graph (find-similar's candidates) and linking a new or changed photo into it online.
import { dotRow, type NeighbourGraph, normOf, TopList } from './graph.js';
import { type CellPartition, nearestRows, type RowAt } from './partition.js';
import type { RowTable } from './vector-index.js';

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

export interface WalkOptions {
  /** Photos a find-similar walk of the graph keeps (default: searchBreadth of the library's size). */
  breadth?: number;
  /** Cells whose rows start a walk (default ENTRY_CELLS). */
  entryCells?: number;
  /** Breadth of the walk that links a new photo (default BUILD_BREADTH). */
  buildBreadth?: number;
}

/** Walks over the index's rows (`table`), cells and graph, which the index keeps in step as rows change. */
export class GraphWalker {
  private scratch: Int8Array<ArrayBufferLike> = new Int8Array(0);

  constructor(
    readonly table: RowTable<Int8Array>,
    readonly part: CellPartition,
    readonly graph: NeighbourGraph,
    /** The table's row at an index (a view), undefined past its last. */
    readonly rowAt: RowAt,
    private readonly options: WalkOptions,
  ) {}

  /** Photos a find-similar walk keeps at the library's size now. */
  get breadth(): number {
    return this.options.breadth ?? searchBreadth(this.table.count);
  }

  /**
   * The best `breadth` photos for an int8 query found by walking the graph: it starts from the best rows of the
   * query's `entryCells` nearest cells (an exact native scan of them) and repeatedly follows the links of the
   * best photo not yet followed, keeping the best `breadth` seen, until every one of those has been followed.
   * `skipRow` (a row being linked) is left out. Ids and approximate int8 cosines, best first.
   */
  walk(query: Int8Array, breadth: number, skipRow = -1): TopList {
    // The native scans below read their query from the start of its buffer: a row of a larger array (a batch of
    // queries, the table's rows) is copied first.
    const q = query.byteOffset === 0 ? query : query.slice();
    const { part, graph, table } = this;
    const { dim } = table;
    const data = table.data;
    const pool = new TopList(breadth);
    const rowsOf = new Int32Array(breadth);
    const followed = new Uint8Array(breadth);
    const seen = new Set<number>();
    if (skipRow >= 0) seen.add(skipRow);
    const qNorm = normOf(q) || 1;
    const add = (row: number, score: number): number => {
      const before = pool.length;
      if (!pool.offer(table.ids[row]!, score)) return breadth;
      // Keep rowsOf and followed in step with the pool's shift.
      let at = 0;
      while (pool.ids[at] !== table.ids[row]) at++;
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
        const row = table.rowIndex(id);
        if (row === undefined || seen.has(row)) continue;
        seen.add(row);
        const score = dotRow(q, data, row, dim) / (qNorm * (graph.norm(row) || 1));
        lowest = Math.min(lowest, add(row, score));
      }
      i = lowest <= i ? lowest : i + 1;
    }
    return pool;
  }

  /**
   * Puts a new or changed row in its nearest cell and links it into the graph: to the best photos a walk from it
   * finds, each of which links back to it when it has room, or when this photo is nearer than its farthest link
   * (the graph stays close to every photo's nearest neighbours as photos come).
   */
  place(row: number): void {
    const { part, graph, table } = this;
    const v = this.rowAt(row)!;
    part.assign(row, part.nearestCell(v));
    const id = table.ids[row]!;
    const found = this.walk(v, this.options.buildBreadth ?? BUILD_BREADTH, row);
    const links = Array.from(found.ids.subarray(0, Math.min(found.length, graph.degree)));
    graph.set(row, normOf(v), links);
    for (let j = 0; j < found.length; j++) {
      const r = table.rowIndex(found.ids[j]!);
      if (r === undefined) continue;
      const theirs = graph.linksOf(r);
      if (theirs.includes(id)) continue;
      const w = this.rowAt(r)!;
      let worst = -1;
      let worstScore = Infinity;
      for (let x = 0; x < theirs.length; x++) {
        const rr = theirs[x]! < 0 ? undefined : table.rowIndex(theirs[x]!);
        if (rr === undefined) {
          worst = x; // an empty slot, or a photo since removed
          worstScore = -Infinity;
          break;
        }
        const score = dotRow(w, table.data, rr, table.dim) / (graph.norm(r) * graph.norm(rr) || 1);
        if (score < worstScore) {
          worstScore = score;
          worst = x;
        }
      }
      // The walk scored this photo against them already.
      if (worst >= 0 && found.scores[j]! > worstScore) theirs[worst] = id;
    }
  }
}
