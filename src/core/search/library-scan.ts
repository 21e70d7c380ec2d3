// Whole-library scans: the duplicate scan (exact, or through the cells and the graph) and batched queries' candidates.
import { dotRow } from './graph.js';
import type { GraphWalker } from './graph-walk.js';
import { scanCells, scanCellsFor } from './cell-scan.js';
import type { Neighbour } from '../vectors.js';

/** Cells each photo is compared with in a duplicate scan. */
const SCAN_PROBES = 4;
/** Queries per native call in the exact duplicate scan. */
const SCAN_CHUNK = 2048;

export interface ScanOptions {
  /** Cells each photo (or batched query) is compared with in a whole-library scan (default SCAN_PROBES). */
  scanProbes?: number;
}

/** What the duplicate scan needs of the index (CompactIndex): its photos, exact vectors, searches and re-rank. */
export interface ScannedIndex {
  idList(): Int32Array;
  get(id: number): Float32Array | undefined;
  searchMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes: readonly ReadonlySet<number>[],
    minScore: number,
  ): Neighbour[][];
  rerank(
    query: Float32Array,
    candidates: readonly number[],
    k: number,
    exclude: ReadonlySet<number>,
    minScore: number,
  ): Neighbour[];
}

/** The duplicate scan without the cells: an exact search for every photo, SCAN_CHUNK photos per call. */
export function exactNeighboursWithin(index: ScannedIndex, threshold: number, k: number): Map<number, Neighbour[]> {
  const ids = index.idList();
  const out = new Map<number, Neighbour[]>();
  for (let start = 0; start < ids.length; start += SCAN_CHUNK) {
    const chunk = Array.from(ids.subarray(start, start + SCAN_CHUNK));
    const found = index.searchMany(
      chunk.map((id) => index.get(id)!),
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
 * The duplicate scan through the cells and the graph: duplicateCandidates (at or above `floor` in int8), each
 * photo's re-scored exactly; the k best at or above `threshold`, for the photos that have any.
 */
export function cellNeighboursWithin(
  index: ScannedIndex,
  walker: GraphWalker,
  threshold: number,
  k: number,
  floor: number,
  threads: number,
  options: ScanOptions,
): Map<number, Neighbour[]> {
  const candidates = duplicateCandidates(walker, k, floor, threads, options);
  const ids = walker.table.ids;
  const out = new Map<number, Neighbour[]>();
  for (const [row, list] of candidates) {
    const id = ids[row]!;
    const found = index.rerank(index.get(id)!, list, k, new Set([id]), threshold);
    if (found.length > 0) out.set(id, found);
  }
  return out;
}

/**
 * The duplicate scan's candidates through the cells: each photo is compared (natively, in int8) with the rows of
 * its `scanProbes` nearest cells, cell by cell: every cell's rows against all the photos that probe it, in one
 * call; then along the graph, and for photos with many near ones a wide walk. The ids whose approximate score is
 * at least `floor` (the threshold less the int8 margin), per row that has any, for the exact re-rank.
 */
function duplicateCandidates(
  walker: GraphWalker,
  k: number,
  floor: number,
  threads: number,
  options: ScanOptions,
): Map<number, number[]> {
  const { table, part, graph } = walker;
  const ids = table.ids;
  const size = table.count;
  const candidates = new Map<number, number[]>();
  const probes = options.scanProbes ?? SCAN_PROBES;
  const steps = scanCells(part, walker.rowAt, size, probes, k + 1, threads, (row, other, score) => {
    if (other === row || score < floor) return;
    let list = candidates.get(row);
    if (!list) candidates.set(row, (list = []));
    list.push(ids[other]!);
  });
  let step = steps.next();
  while (!step.done) step = steps.next();
  const probeOf = step.value;
  const p = probeOf.length / Math.max(1, size);
  // Then along the graph: from each photo, its links and, through every photo found above the threshold, theirs
  // (near photos the cells put apart are linked, directly or through a near photo).
  const { dim } = table;
  const data = table.data;
  const budget = 4 * (k + 1);
  const seen = new Set<number>();
  for (let row = 0; row < size; row++) {
    const list = candidates.get(row);
    const v = data.subarray(row * dim, (row + 1) * dim);
    const norm = graph.norm(row) || 1;
    seen.clear();
    seen.add(row);
    for (const id of list ?? []) seen.add(table.rowIndex(id)!);
    const queue: number[] = [row];
    let visited = 0;
    let found: number[] | undefined = list;
    while (queue.length > 0 && visited < budget) {
      for (const id of graph.linksOf(queue.shift()!)) {
        const other = id < 0 ? undefined : table.rowIndex(id);
        if (other === undefined || seen.has(other)) continue;
        seen.add(other);
        // A photo in a cell this one probed was scored by the cell scan (and when that cell held more near
        // photos than it reported, this photo gets the wide walk below).
        const cell = part.cellOfRow(other);
        let probed = false;
        for (let x = row * p; x < (row + 1) * p && !probed; x++) probed = probeOf[x] === cell;
        if (probed) continue;
        visited++;
        const score = dotRow(v, data, other, dim) / (norm * (graph.norm(other) || 1));
        if (score < floor) continue;
        if (!found) candidates.set(row, (found = []));
        found.push(id);
        queue.push(other);
      }
    }
  }
  // A photo with more near photos than asked for may have nearer ones than those found: a wide walk of the
  // graph adds its best (rare at duplicate thresholds; most photos have no near photo at all). Measured on real
  // vectors at a loose threshold (0.95, 32 a photo): 2k + 16 kept 0.987 of the exact candidates, 8k + 16 0.99+.
  const breadth = Math.max(8 * k + 16, walker.breadth);
  for (const [row, list] of candidates) {
    if (list.length < k) continue;
    const pool = walker.walk(data.subarray(row * dim, (row + 1) * dim), breadth, row);
    for (let j = 0; j < pool.length; j++) if (pool.scores[j]! >= floor) list.push(pool.ids[j]!);
  }
  return candidates;
}

/**
 * Candidates of a large batch of int8 queries (`queries`, dim each) through the cells: each query against the
 * rows of its `scanProbes` nearest cells, one native call per cell and chunk of queries; per query, the ids of
 * its `want` best in each cell it probes whose approximate score is at least `floor`.
 */
export function batchCandidates(
  walker: GraphWalker,
  queries: Int8Array,
  want: number,
  floor: number,
  threads: number,
  options: ScanOptions,
): number[][] {
  const ids = walker.table.ids;
  const candidates: number[][] = Array.from({ length: queries.length / walker.table.dim }, () => []);
  const probes = options.scanProbes ?? SCAN_PROBES;
  scanCellsFor(walker.part, walker.rowAt, queries, probes, want, threads, (query, row, score) => {
    if (score >= floor) candidates[query]!.push(ids[row]!);
  });
  return candidates;
}
