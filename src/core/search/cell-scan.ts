// Whole-library scans through the partition's cells: every row (or every outside query) against the rows of its
// few nearest cells, cell by cell, one native call per cell and chunk of queries.
import { CHUNK, nearestRows, type CellPartition, type RowAt } from './partition.js';

/**
 * The queries that probe each cell, from each query's `p` probed cells (count x p, -1 for none): the queries of
 * cell c are byCell[offsets[c] .. offsets[c + 1]).
 */
function probersByCell(probeOf: Int32Array, p: number, cells: number): { offsets: Int32Array; byCell: Int32Array } {
  const offsets = new Int32Array(cells + 1);
  for (const c of probeOf) if (c >= 0) offsets[c + 1]!++;
  for (let c = 0; c < cells; c++) offsets[c + 1]! += offsets[c]!;
  const byCell = new Int32Array(offsets[cells]!);
  const fill = offsets.slice(0, cells);
  for (let i = 0; i < probeOf.length; i++) {
    const c = probeOf[i]!;
    if (c >= 0) byCell[fill[c]!++] = Math.floor(i / p);
  }
  return { offsets, byCell };
}

/**
 * Every one of the rows 0..count-1 (read through `read`) against the rows of its `probes` nearest cells, cell by
 * cell (one native call per cell and chunk of queries): `visit(row, other, score)` for each row's `want` best in
 * each cell it probes, with their approximate int8 cosine (a row meets itself too). Yields after each native
 * call, so a background build can let the event loop run. Returns the cells each row probed (count x probes).
 */
export function* scanCells(
  part: CellPartition,
  read: RowAt,
  count: number,
  probes: number,
  want: number,
  threads: number,
  visit: (row: number, other: number, score: number) => void,
): Generator<void, Int32Array, void> {
  const { dim } = part;
  const p = Math.min(part.cells, probes);
  // Each row's nearest cells.
  const probeOf = new Int32Array(count * p).fill(-1);
  const queries = new Int8Array(CHUNK * dim);
  for (let start = 0; start < count; start += CHUNK) {
    const end = Math.min(count, start + CHUNK);
    const present: number[] = [];
    for (let r = start; r < end; r++) {
      const v = read(r);
      if (!v) continue;
      queries.set(v, present.length * dim);
      present.push(r);
    }
    const near = part.nearestCells(queries.subarray(0, present.length * dim), p, threads);
    present.forEach((r, i) => probeOf.set(near.subarray(i * p, (i + 1) * p), r * p));
    yield;
  }
  yield* scanProbers(part, read, read, probeOf, p, want, threads, visit);
  return probeOf;
}

/**
 * Like scanCells, for queries from outside the partition (int8 rows of `queries`, `dim` each): every query
 * against the rows (read through `read`) of its `probes` nearest cells, one native call per cell and chunk of
 * queries; `visit(query, row, score)` for each query's `want` best in each cell it probes.
 */
export function scanCellsFor(
  part: CellPartition,
  read: RowAt,
  queries: Int8Array,
  probes: number,
  want: number,
  threads: number,
  visit: (query: number, row: number, score: number) => void,
): void {
  const { dim } = part;
  const p = Math.min(part.cells, probes);
  const probeOf = part.nearestCells(queries, p, threads);
  const queryAt = (i: number): Int8Array => queries.subarray(i * dim, (i + 1) * dim);
  const steps = scanProbers(part, read, queryAt, probeOf, p, want, threads, visit);
  while (!steps.next().done);
}

/**
 * The per-cell half of both cell scans: each cell's rows (read through `read`) against the queries that probe it
 * (`probeOf`: p cells per query, -1 for none; each query read through `queryAt`, skipped when it is gone), one
 * native call per cell and chunk of queries, yielding after each.
 */
function* scanProbers(
  part: CellPartition,
  read: RowAt,
  queryAt: (query: number) => Int8Array | undefined,
  probeOf: Int32Array,
  p: number,
  want: number,
  threads: number,
  visit: (query: number, row: number, score: number) => void,
): Generator<void, void, void> {
  const { dim } = part;
  const cells = part.cells;
  const { offsets, byCell } = probersByCell(probeOf, p, cells);
  let scratch: Int8Array<ArrayBufferLike> = new Int8Array(0);
  const queries = new Int8Array(CHUNK * dim);
  for (let c = 0; c < cells; c++) {
    if (offsets[c] === offsets[c + 1]) continue; // no query probes this cell
    const gathered = part.gather([c], read, scratch);
    scratch = gathered.scratch;
    const rows = gathered.rows;
    if (rows.length === 0) continue;
    const dataset = scratch.subarray(0, rows.length * dim);
    const k = Math.min(rows.length, want);
    for (let start = offsets[c]!; start < offsets[c + 1]!; start += CHUNK) {
      const end = Math.min(offsets[c + 1]!, start + CHUNK);
      const present: number[] = [];
      for (let i = start; i < end; i++) {
        const v = queryAt(byCell[i]!);
        if (!v) continue; // gone since (a background build)
        queries.set(v, present.length * dim);
        present.push(byCell[i]!);
      }
      const scores = new Float32Array(present.length * k);
      const found = nearestRows(dataset, queries.subarray(0, present.length * dim), dim, k, threads, scores);
      present.forEach((q, i) => {
        for (let j = i * k; j < (i + 1) * k; j++) if (found[j]! >= 0) visit(q, rows[found[j]!]!, scores[j]!);
      });
      yield;
    }
  }
}
