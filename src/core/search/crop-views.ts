// Corner views ("find cropped copies"): besides its own vector, a photo gets the vectors of four corner crops
// (each keeping a fraction of each side). A copy cropped to a corner is far from the whole photo but close to
// that corner's view. View similarities are put on the scale of whole-photo similarities, so one threshold serves
// both: a view similarity v counts as 1 - (1 - v) x stretch, with stretch >= 1 calibrated by `doppel eval` so
// that the duplicate threshold keeps its precision (views of different photos, a patch of sky against a photo of
// sky, are more alike than the photos).
import { nearestRows } from './partition.js';
import { quantiseRow } from '../vectors.js';

/** How much farther from 1 a view similarity counts: (1 - near) / (1 - viewThreshold), at least 1. */
export function viewStretch(near: number, viewThreshold: number): number {
  if (!(viewThreshold < 1)) return Infinity;
  return Math.max(1, (1 - near) / (1 - viewThreshold));
}

/** A view similarity on the scale of whole-photo similarities. */
export function viewScore(v: number, stretch: number): number {
  return stretch === Infinity ? -Infinity : 1 - (1 - v) * stretch;
}

/** The view similarity that counts as `score` on the common scale (viewScore's inverse; 1 when views never count). */
export function viewFloor(score: number, stretch: number): number {
  return stretch === Infinity ? 1 : 1 - (1 - score) / stretch;
}

/** What finding neighbours by views needs of the library's search index (CompactIndex has it). */
export interface ViewSearch {
  /** The k best photos for each query; results below minScore may be left out (CompactIndex.scanMany). */
  scanMany(
    queries: readonly ArrayLike<number>[],
    k: number,
    excludes: readonly ReadonlySet<number>[],
    minScore: number,
  ): { id: number; score: number }[][];
}

/**
 * Photos whose views are searched per scanMany call (512 corner views or 256 turned views): bounds what is held at
 * once, and the scan gives the event loop a turn after each (a find-similar waits for one such call, not the scan).
 */
const VIEW_PAGE = 128;

/** Photos' views a page at a time, in photo id order: those after photo `after`, at most `limit` photos. */
export type ViewPages = (
  after: number,
  limit: number,
) => readonly (readonly [photoId: number, views: Float32Array[]])[];

/** ViewPages over photos' views held in memory (in any order). */
export function viewPagesOf(views: ReadonlyMap<number, Float32Array[]>): ViewPages {
  const ids = [...views.keys()].sort((a, b) => a - b);
  return (after, limit) => {
    let from = 0;
    while (from < ids.length && ids[from]! <= after) from++;
    return ids.slice(from, from + limit).map((id) => [id, views.get(id)!] as const);
  };
}

/**
 * Neighbours found through corner views: for every photo with views, the photos whose own vector is within
 * `floor` (on the common scale) of one of its views, at most `k` per view. Pairs go both ways, so a copy cropped
 * from a photo lists that photo too (its own vector is far from the photo's, its views no nearer). Best first.
 * `onPage`: the photos searched so far, after each page (before the event loop's turn).
 */
export async function viewNeighbours(
  pages: ViewPages,
  index: ViewSearch,
  stretch: number,
  floor: number,
  k = 4,
  onPage?: (photosDone: number) => void,
): Promise<Map<number, { id: number; score: number }[]>> {
  const out = new Map<number, Map<number, number>>();
  let done = 0;
  const add = (a: number, b: number, score: number): void => {
    let m = out.get(a);
    if (!m) out.set(a, (m = new Map()));
    m.set(b, Math.max(m.get(b) ?? -Infinity, score));
  };
  // The view similarity that maps to the floor: what the index may leave out below.
  const rawFloor = viewFloor(floor, stretch);
  for (let after = -Infinity; ;) {
    const page = pages(after, VIEW_PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1]![0];
    const queries: Float32Array[] = [];
    const owners: number[] = [];
    for (const [photoId, views] of page) {
      for (const view of views) {
        queries.push(view);
        owners.push(photoId);
      }
    }
    const excludes = owners.map((id) => new Set([id]));
    index.scanMany(queries, k, excludes, rawFloor).forEach((hits, i) => {
      for (const hit of hits) {
        const score = viewScore(hit.score, stretch);
        if (score < floor) continue;
        add(owners[i]!, hit.id, score);
        add(hit.id, owners[i]!, score);
      }
    });
    done += page.length;
    onPage?.(done);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return new Map(
    [...out].map(([id, m]) => [
      id,
      [...m].map(([n, score]) => ({ id: n, score })).sort((a, b) => b.score - a.score || a.id - b.id),
    ]),
  );
}

/** Photos whose views are scanned per native call (their rows: 4 a photo). */
const REVERSE_CHUNK = 4096;

/** A query for nearestByViews: a vector, the lowest raw cosine worth keeping, and photos to leave out. */
export interface ViewScanQuery {
  vector: ArrayLike<number>;
  rawFloor: number;
  exclude?: ReadonlySet<number>;
}

/**
 * For each query, the photos one of whose corner views is nearest its vector: the other way round from a view
 * query, so that a copy cropped from a library photo finds that photo (the crop's own vector is close to the
 * photo's view, not to the photo's vector). Each photo counts at its best view, by cosine of the 8-bit rows (the
 * query quantised like them); the k best at or above the query's `rawFloor`, best first. The views are read once
 * for all the queries and scanned in chunks on usearch's native kernel.
 */
export function nearestByViews(
  forEachViewBytes: (fn: (photoId: number, bytes: Int8Array) => void) => void,
  queries: readonly ViewScanQuery[],
  k: number,
): { id: number; score: number }[][] {
  const count = queries.length;
  if (count === 0 || k <= 0) return queries.map(() => []);
  const dim = queries[0]!.vector.length;
  const q = new Int8Array(count * dim);
  queries.forEach((query, i) => quantiseRow(query.vector, q, i * dim, dim));
  const leftOut = Math.max(...queries.map((query) => query.exclude?.size ?? 0));
  let best = queries.map(() => new Map<number, number>());
  const cut = queries.map((query) => query.rawFloor);
  let rows = new Int8Array(REVERSE_CHUNK * 4 * dim);
  let owners: number[] = [];
  let used = 0;
  const flush = (): void => {
    const rowCount = used / dim;
    if (rowCount === 0) return;
    // Enough hits that k distinct photos are among them even when each (and each left-out one) has all 4 views near.
    const want = Math.min(rowCount, 4 * (k + leftOut));
    const scores = new Float32Array(count * want);
    const hits = nearestRows(rows.subarray(0, used), q, dim, want, 1, scores);
    best = best.map((found, i) => {
      for (let j = i * want; j < (i + 1) * want; j++) {
        const row = hits[j]!;
        if (row < 0 || scores[j]! < cut[i]!) continue;
        const id = owners[row]!;
        if (queries[i]!.exclude?.has(id)) continue;
        found.set(id, Math.max(found.get(id) ?? -Infinity, scores[j]!));
      }
      if (found.size < k) return found;
      const kept = [...found].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
      cut[i] = Math.max(cut[i]!, kept[kept.length - 1]![1]);
      return new Map(kept);
    });
    used = 0;
    owners = [];
  };
  forEachViewBytes((photoId, bytes) => {
    if (bytes.length % dim !== 0) return;
    if (used + bytes.length > rows.length) flush();
    if (bytes.length > rows.length) rows = new Int8Array(bytes.length);
    rows.set(bytes, used);
    for (let at = 0; at < bytes.length; at += dim) owners.push(photoId);
    used += bytes.length;
  });
  flush();
  return best.map((found) =>
    [...found]
      .map(([id, score]) => ({ id, score }))
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .slice(0, k),
  );
}
