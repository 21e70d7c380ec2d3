// The retrieval benchmark's rankers: each method (a model's vectors, with or without corner views, or a hash) as
// search and score over library ids and query indices, and the pairs its duplicate thresholds are calibrated on.
import { viewFloor, viewScore, viewStretch } from '../search/crop-views.js';
import type { VectorIndex } from '../search/vector-index.js';
import { dot, normalise } from '../vectors.js';
import { calibrateEncodedViewThreshold, calibrateViewThreshold, type ThresholdReport } from './calibrate.js';
import type { HammingIndex } from './hashes.js';

/** A scored neighbour; for hashes the score is minus the Hamming distance, so higher is better everywhere. */
export interface Hit {
  id: number;
  score: number;
}

/** What the evaluation needs from a method, over library ids and query indices. */
export interface Ranker {
  search(query: number, k: number): Hit[];
  score(query: number, id: number): number;
  /** The library photo nearest to library photo `id`, other than itself. */
  nearestOther(id: number): Hit | undefined;
}

/** A model's ranker over its photos' own vectors. */
export function vectorRanker(index: VectorIndex, queries: Float32Array[]): Ranker {
  const normalised = queries.map((q) => normalise(q));
  return {
    search: (q, k) => index.search(queries[q]!, k),
    // The same arithmetic (normalised float32 vectors, one double sum in order) as VectorIndex.search.
    score: (q, id) => dot(normalised[q]!, index.get(id)!),
    nearestOther: (id) => index.search(index.get(id)!, 1, new Set([id]))[0],
  };
}

/**
 * Library photos with four corner views each (rows id * 4 + v of `views`): a photo scores its best match over its
 * own vector and its views, a view's similarity counted as viewScore(v, stretch). Exact: a photo among the k best
 * by that score is among the k best by its own vector, or has a view among the 4k best views (the map keeps the
 * order of view similarities).
 */
export function viewsRanker(index: VectorIndex, views: VectorIndex, queries: Float32Array[], stretch = 1): ViewsRanker {
  const normalised = queries.map((q) => normalise(q));
  const best = (hits: Hit[], k: number): Hit[] => {
    const byId = new Map<number, number>();
    for (const h of hits) byId.set(h.id, Math.max(byId.get(h.id) ?? -Infinity, h.score));
    return [...byId]
      .map(([id, score]) => ({ id, score }))
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .slice(0, k);
  };
  const viewHits = (q: Float32Array, k: number, exclude?: number): Hit[] =>
    views
      .search(q, 4 * k + (exclude === undefined ? 0 : 4))
      .map((h) => ({ id: Math.floor(h.id / 4), score: viewScore(h.score, stretch) }))
      .filter((h) => h.id !== exclude);
  /** A query's similarity to a photo's own vector, and to its best view. */
  const parts = (q: Float32Array, id: number): { full: number; view: number } => {
    let view = -Infinity;
    for (let v = 0; v < 4; v++) view = Math.max(view, dot(q, views.get(id * 4 + v)!));
    return { full: dot(q, index.get(id)!), view };
  };
  const combined = (p: { full: number; view: number }): number => Math.max(p.full, viewScore(p.view, stretch));
  return {
    search: (q, k) => best([...index.search(queries[q]!, k), ...viewHits(queries[q]!, k)], k),
    score: (q, id) => combined(parts(normalised[q]!, id)),
    parts: (q, id) => parts(normalised[q]!, id),
    // A pair of library photos: either one's own vector against the other's vector or views.
    nearestOther: (id) => {
      const own = index.get(id)!;
      const hits = [...index.search(own, 1, new Set([id])), ...viewHits(own, 1, id)];
      for (let v = 0; v < 4; v++) {
        hits.push(
          ...index
            .search(views.get(id * 4 + v)!, 1, new Set([id]))
            .map((h) => ({ ...h, score: viewScore(h.score, stretch) })),
        );
      }
      return best(hits, 1)[0];
    },
    libraryParts: (a, b) => {
      const pa = parts(index.get(a)!, b);
      const pb = parts(index.get(b)!, a);
      return { full: pa.full, view: Math.max(pa.view, pb.view) };
    },
    withStretch: (s) => viewsRanker(index, views, queries, s),
  };
}

export interface ViewsRanker extends Ranker {
  parts(query: number, id: number): { full: number; view: number };
  /** Two library photos: their own vectors' similarity, and the best of either one's views against the other. */
  libraryParts(a: number, b: number): { full: number; view: number };
  withStretch(stretch: number): ViewsRanker;
}

/** The pair scores the duplicate threshold is calibrated on: each copy with its original and with its best-ranked
 * other photo, and each original with its nearest other. */
export function pairScores(
  r: Ranker,
  nQueries: number,
  queryOriginal: readonly number[],
  originals: readonly { id: number }[],
): { positives: number[]; negatives: number[] } {
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let q = 0; q < nQueries; q++) {
    const target = queryOriginal[q]!;
    positives.push(r.score(q, target));
    const other = r.search(q, 2).find((h) => h.id !== target);
    if (other) negatives.push(other.score);
  }
  for (const o of originals) {
    const n = r.nearestOther(o.id);
    if (n) negatives.push(n.score);
  }
  return { positives, negatives };
}

/**
 * The view threshold for a views ranker (see calibrateViewThreshold), on the pairs a plain ranking gives: each
 * copy with its original and with its best-ranked other photo, and each original with its nearest other.
 */
export function calibrateViews(pairs: ViewPairs, r: ViewsRanker, near: number, minPrecision: number) {
  const parts = (p: ViewPair) => partsOf(r, p);
  return {
    ...calibrateViewThreshold(pairs.positives.map(parts), pairs.negatives.map(parts), near, minPrecision),
    near,
  };
}

/** A pair for the view calibrations: a query and a library photo, or two library photos. */
type ViewPair = { q: number; id: number } | { a: number; b: number };
interface ViewPairs {
  positives: ViewPair[];
  negatives: ViewPair[];
}

const partsOf = (r: ViewsRanker, p: ViewPair): { full: number; view: number } =>
  'q' in p ? r.parts(p.q, p.id) : r.libraryParts(p.a, p.b);

/**
 * The pairs a plain ranking gives: each copy with its original and with its best-ranked other photo, and each
 * original with its nearest other.
 */
export function viewPairs(
  r: ViewsRanker,
  nQueries: number,
  queryOriginal: readonly number[],
  originals: readonly { id: number }[],
): ViewPairs {
  const positives: ViewPair[] = [];
  const negatives: ViewPair[] = [];
  for (let q = 0; q < nQueries; q++) {
    const target = queryOriginal[q]!;
    positives.push({ q, id: target });
    const other = r.search(q, 2).find((h) => h.id !== target);
    if (other) negatives.push({ q, id: other.id });
  }
  for (const o of originals) {
    const n = r.nearestOther(o.id);
    if (n) negatives.push({ a: o.id, b: n.id });
  }
  return { positives, negatives };
}

/**
 * The encoded-view threshold of the duplicate scan's second stage, on the same pairs: the lowest t for which
 * "whole photo >= near, or predicted view >= viewThreshold, or (predicted view on the common scale >= candidate and
 * encoded view >= t)" keeps precision >= minPrecision (the whole rule's precision and recall are reported).
 */
export function calibrateEncodedViews(
  pairs: ViewPairs,
  predicted: ViewsRanker,
  encoded: ViewsRanker,
  t: { near: number; view: number; candidate: number },
  minPrecision: number,
): ThresholdReport & { near: number; candidate: number } {
  const parts = (p: ViewPair) => ({ ...partsOf(predicted, p), encoded: partsOf(encoded, p).view });
  const rawCandidate = viewFloor(t.candidate, viewStretch(t.near, t.view));
  const best = calibrateEncodedViewThreshold(pairs.positives.map(parts), pairs.negatives.map(parts), {
    ...t,
    rawCandidate,
    minPrecision,
  });
  return { ...best, near: t.near, candidate: t.candidate };
}

/** A hash's ranker: library photos by Hamming distance to the query's hash (scores are minus the distance). */
export function hashRanker(index: HammingIndex, library: Map<number, bigint>, queries: bigint[]): Ranker {
  const hit = (h: { id: number; distance: number }): Hit => ({ id: h.id, score: -h.distance });
  return {
    search: (q, k) => index.search(queries[q]!, k).map(hit),
    score: (q, id) => -index.distance(id, queries[q]!)!,
    nearestOther: (id) => index.search(library.get(id)!, 1, new Set([id])).map(hit)[0],
  };
}
