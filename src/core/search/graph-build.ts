// Building the cells and the graph over the index's rows offline (k-means, links, refinement), and installing one.
import { DEGREE, dotRow, NeighbourGraph, normOf, offerTo } from './graph.js';
import { scanCells } from './cell-scan.js';
import { CellPartition, defaultCells, train } from './partition.js';
import type { SavedPartition } from './snapshot.js';
import type { RowTable } from './vector-index.js';

/** Cells each photo is compared with when the graph is built. */
const GRAPH_PROBES = 4;
/** Rounds of neighbours'-neighbours refinement of the graph. */
const REFINE_ROUNDS = 1;

export interface BuildOptions {
  /** Cells (default about sqrt(photos)). */
  cells?: number;
  /** Cells each photo is compared with when the graph is built (default GRAPH_PROBES). */
  graphProbes?: number;
  /** Rounds of refinement of the graph (default REFINE_ROUNDS). */
  refineRounds?: number;
}

/** What a build produces, by place in the id list it started from. */
export interface Built {
  centroids: Int8Array;
  cells: Int32Array;
  /** DEGREE links (places in the id list, -1 for none) per photo. */
  links: Int32Array;
}

/**
 * Trains the cells over the photos of `ids` (read from `table` as they are when their turn comes), then links
 * each photo to its DEGREE nearest among the rows of its `graphProbes` nearest cells, then refines the links. A
 * generator, yielding between native calls (`threads` each).
 */
export function* buildGraph(
  table: RowTable<Int8Array>,
  ids: Int32Array,
  threads: number,
  options: BuildOptions,
): Generator<void, Built, void> {
  const { dim } = table;
  const read = (id: number): Int8Array | undefined => table.row(id);
  const cellsWanted = options.cells ?? defaultCells(ids.length);
  const trained = yield* train(dim, ids, read, threads, cellsWanted);
  // The cells over places in `ids`, for the graph.
  const part = new CellPartition(dim, trained.centroids, ids.length, ids.length);
  trained.cells.forEach((cell, i) => cell >= 0 && part.assign(i, cell));
  const degree = DEGREE;
  // Each photo's best `degree` links so far, best first (graph.ts's top-list, one per photo in flat arrays).
  const links = new Int32Array(ids.length * degree).fill(-1);
  const scores = new Float32Array(ids.length * degree).fill(-Infinity);
  const filled = new Uint8Array(ids.length);
  const offer = (i: number, j: number, score: number): void => {
    if (i === j) return;
    if (offerTo(links, scores, i * degree, degree, filled[i]!, j, score) && filled[i]! < degree) filled[i]!++;
  };
  const probes = options.graphProbes ?? GRAPH_PROBES;
  yield* scanCells(part, (i) => read(ids[i]!), ids.length, probes, degree + 1, threads, offer);
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
  for (let round = 0; round < (options.refineRounds ?? REFINE_ROUNDS); round++) {
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
          const rw = table.rowIndex(ids[w]!);
          if (rw === undefined) continue;
          const score = dotRow(vu, table.data, rw, dim) / (norms[u]! * norms[w]!);
          offer(u, w, score);
          offer(w, u, score);
        }
      }
    }
  }
  return { centroids: trained.centroids, cells: trained.cells, links };
}

/**
 * A build running in the background: its steps with the event loop let run between them, then `finish` with
 * what it built and the photos added, changed or removed meanwhile (`touched`, kept by the index), unless
 * cancelled on the way (`done` then resolves to null).
 */
export class BackgroundBuild<R> {
  readonly touched = new Set<number>();
  cancelled = false;
  readonly done: Promise<R | null>;

  constructor(steps: Generator<void, Built, void>, finish: (built: Built, touched: Set<number>) => R) {
    this.done = (async () => {
      let r = steps.next();
      while (!r.done) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.cancelled) return null;
        r = steps.next();
      }
      if (this.cancelled) return null;
      return finish(r.value, this.touched);
    })();
  }
}

/** A partition and graph over the index's rows, and the rows they leave to place (by a walk). */
export interface Installed {
  part: CellPartition;
  graph: NeighbourGraph;
  /** Rows with no cell yet, in row order. */
  late: number[];
}

/** The row of `table` at `row` (a view). */
const rowOf = (table: RowTable<Int8Array>, row: number): Int8Array =>
  table.data.subarray(row * table.dim, (row + 1) * table.dim);

/** The partition and graph a build produced over `ids`, for the table's rows now (`touched` photos left late). */
export function installBuilt(
  table: RowTable<Int8Array>,
  ids: Int32Array,
  built: Built,
  touched?: Set<number>,
): Installed {
  const part = new CellPartition(table.dim, built.centroids, ids.length, table.ids.length);
  const graph = new NeighbourGraph(DEGREE, table.ids.length);
  const links: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const cell = built.cells[i]!;
    if (cell < 0 || touched?.has(id)) continue;
    const row = table.rowIndex(id);
    if (row === undefined) continue;
    part.assign(row, cell);
    links.length = 0;
    for (let x = i * DEGREE; x < (i + 1) * DEGREE; x++) if (built.links[x]! >= 0) links.push(ids[built.links[x]!]!);
    graph.set(row, normOf(rowOf(table, row)), links);
  }
  part.compact();
  const late: number[] = [];
  for (let row = 0; row < table.count; row++) if (part.cellOfRow(row) < 0) late.push(row);
  return { part, graph, late };
}

/**
 * A saved partition (cells, each row's cell and links, in row order as the index's rows() gave them when it was
 * saved) over the table's rows now; rows it does not cover are left late.
 */
export function installSaved(table: RowTable<Int8Array>, saved: SavedPartition): Installed {
  const part = new CellPartition(table.dim, saved.centroids, saved.trainedOn, table.ids.length);
  const graph = new NeighbourGraph(saved.degree, table.ids.length);
  const late: number[] = [];
  for (let row = 0; row < table.count; row++) {
    const cell = row < saved.cells.length ? saved.cells[row]! : -1;
    if (cell < 0 || cell >= part.cells) {
      late.push(row);
      continue;
    }
    part.assign(row, cell);
    graph.set(row, normOf(rowOf(table, row)), saved.links.subarray(row * saved.degree, (row + 1) * saved.degree));
  }
  part.compact();
  return { part, graph, late };
}
