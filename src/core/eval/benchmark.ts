// The retrieval benchmark behind `doppel eval`. A library of originals + distractors is indexed; every attacked copy
// of every original (made in memory, see attacks.ts) is a query whose right answer is its original. Reported per
// method (each model, and the dHash/pHash baselines): recall@1 and recall@k per attack, and how well one duplicate
// threshold separates original/copy pairs from distinct pairs. Everything but the date and the rates is a pure
// function of the input files: files are visited in sorted order, rankings break ties by the smaller library id.
import fs from 'node:fs';
import os from 'node:os';
import { DoppelError } from '../../shared/api.js';
import { imageToModelInput, imageToModelInputViews, type ModelInputSpec } from '../imaging/analyze.js';
import { scanFolder } from '../library/scan.js';
import type { Autoencoder } from '../model/autoencoder.js';
import { viewFloor, viewScore, viewStretch } from '../search/crop-views.js';
import { hasViewPredictor } from '../model/view-predictor.js';
import { VectorIndex } from '../search/vector-index.js';
import { dot, normalise } from '../vectors.js';
import { ATTACKS, decodeOriginal, type Attack } from './attacks.js';
import { HammingIndex, imageHashes, type ImageHashes } from './hashes.js';

export interface EvalProgress {
  phase: 'library' | 'queries' | 'encode' | 'search';
  done: number;
  total: number;
}

export interface EvalOptions {
  /** Folder of originals (searched recursively); every one is attacked and queried. */
  originals: string;
  /** Folder of distractors (searched recursively), of which the first `distractorsLimit` in sorted order are used. */
  distractors: string;
  distractorsLimit: number;
  models: Autoencoder[];
  /** Also evaluate the dHash and pHash baselines. */
  hashes: boolean;
  /** Depth of the recall@k measure (default 10). */
  k?: number;
  /** Precision the calibrated threshold must keep (default 0.99). */
  minPrecision?: number;
  attacks?: readonly Attack[];
  /** Images decoded at once (default: 2 to 4, by core count). */
  concurrency?: number;
  onLog?: (message: string) => void;
  onProgress?: (p: EvalProgress) => void;
}

export interface RecallSummary {
  perAttack: Record<string, number>;
  /** Mean over the attacks. */
  mean: number;
}

/** Precision the "similar" tier's threshold is calibrated for (looser than the near-duplicate tier's). */
export const SIMILAR_PRECISION = 0.9;

export interface ThresholdReport {
  /** Cosine similarity (a duplicate scores >= value) for models; Hamming distance (<= value) for hashes. */
  value: number | null;
  /** Null when no pair is called a duplicate at this threshold. */
  precision: number | null;
  recall: number;
}

export interface MethodReport {
  method: string;
  kind: 'model' | 'hash';
  recallAt1: RecallSummary;
  recallAt10: RecallSummary;
  /** The threshold with the highest recall whose precision is at least minPrecision (value null when none is). */
  threshold: ThresholdReport;
  /** A looser cut for the "similar" tier: the highest recall with precision at least SIMILAR_PRECISION. */
  similarThreshold: ThresholdReport;
  /** Precision and recall at the model card's near-duplicate threshold, or at imagededup's default of 10 bits. */
  referenceThreshold?: ThresholdReport & { source: 'card' | 'imagededup-default' };
  /** Model inputs encoded per second by this model in this run (decoding excluded). */
  encodeRate?: number;
  /**
   * For a model with corner views: the view similarity calibrated to count as the near threshold (the card's, or
   * this run's whole-photo one), with the precision and recall of "whole photo >= near or a view >= value" on the
   * pairs. The recall and thresholds above use view similarities put on the common scale with it (crop-views.ts).
   */
  viewThreshold?: ThresholdReport & { near: number };
  /**
   * For a model that predicts its views: the threshold for views encoded from crops, which re-score the pairs
   * whose predicted view reaches the look-alike threshold (`candidate`) but not the near one (the duplicate scan's
   * second stage), with the precision and recall of the whole rule (see calibrateEncodedViewThreshold).
   */
  encodedViewThreshold?: ThresholdReport & { near: number; candidate: number };
}

export interface EvalReport {
  originals: number;
  distractors: number;
  library: number;
  queries: number;
  attacks: string[];
  attackLabels: Record<string, string>;
  k: number;
  minPrecision: number;
  /** Positive pairs (copy, its original) and negative pairs (copy or original, its best-ranked other photo). */
  pairs: { positive: number; negative: number };
  methods: MethodReport[];
  models: { name: string; architecture: string }[];
  /** Files that could not be read or decoded; they take no part. */
  errors: { path: string; reason: string }[];
  date: string;
  durationMs: number;
}

/** imagededup's default max_distance_threshold for its hash methods. */
export const IMAGEDEDUP_DEFAULT_DISTANCE = 10;

interface LibraryItem {
  id: number;
  path: string;
  original: boolean;
}

async function listImages(root: string, limit: number, onError: (path: string, reason: string) => void) {
  const out: string[] = [];
  if (limit <= 0) return out;
  for await (const e of scanFolder(root)) {
    if (e.type === 'error') onError(e.path, e.reason);
    else out.push(e.path);
    if (out.length >= limit) break;
  }
  return out;
}

async function forEachPool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/**
 * Features of one image for every method: a model input per distinct input spec, the four corner views of a
 * library photo per distinct (spec, cropViews) of the models that use views, and the two hashes.
 */
interface Features {
  inputs: Map<string, Uint8Array>;
  views: Map<string, Uint8Array[]>;
  hashes?: ImageHashes;
}

const specKey = (spec: ModelInputSpec): string => `${spec.size}:${spec.trimBorders ? 'trim' : 'full'}`;
const viewsKey = (spec: ModelInputSpec, fraction: number): string => `${specKey(spec)}:${fraction}`;
const cropViewsOf = (model: Autoencoder): number | undefined => model.card.preprocess?.cropViews;
/** Whether a model's views come from its card's view predictor (model/view-predictor.ts), fitted for its fraction. */
const predictsViews = (model: Autoencoder): boolean =>
  hasViewPredictor(model.card) && model.card.cropViews?.fraction === cropViewsOf(model);

async function features(
  bytes: Uint8Array,
  specs: readonly ModelInputSpec[],
  viewSpecs: readonly { spec: ModelInputSpec; fraction: number }[],
  withHashes: boolean,
): Promise<Features> {
  const inputs = new Map<string, Uint8Array>();
  const views = new Map<string, Uint8Array[]>();
  for (const { spec, fraction } of viewSpecs) {
    const made = await imageToModelInputViews(bytes, spec, fraction); // the photo's own input from the same decode
    inputs.set(specKey(spec), made.input);
    views.set(viewsKey(spec, fraction), made.views);
  }
  for (const spec of specs) {
    if (!inputs.has(specKey(spec))) inputs.set(specKey(spec), await imageToModelInput(bytes, spec));
  }
  return { inputs, views, hashes: withHashes ? await imageHashes(bytes) : undefined };
}

/** A scored neighbour; for hashes the score is minus the Hamming distance, so higher is better everywhere. */
interface Hit {
  id: number;
  score: number;
}

/** What the evaluation needs from a method, over library ids and query indices. */
interface Ranker {
  search(query: number, k: number): Hit[];
  score(query: number, id: number): number;
  /** The library photo nearest to library photo `id`, other than itself. */
  nearestOther(id: number): Hit | undefined;
}

function vectorRanker(index: VectorIndex, queries: Float32Array[]): Ranker {
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
function viewsRanker(index: VectorIndex, views: VectorIndex, queries: Float32Array[], stretch = 1): ViewsRanker {
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

interface ViewsRanker extends Ranker {
  parts(query: number, id: number): { full: number; view: number };
  /** Two library photos: their own vectors' similarity, and the best of either one's views against the other. */
  libraryParts(a: number, b: number): { full: number; view: number };
  withStretch(stretch: number): ViewsRanker;
}

/** The pair scores the duplicate threshold is calibrated on: each copy with its original and with its best-ranked
 * other photo, and each original with its nearest other. */
function pairScores(
  r: Ranker,
  nQueries: number,
  queryOriginal: readonly number[],
  originals: readonly LibraryItem[],
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
function calibrateViews(pairs: ViewPairs, r: ViewsRanker, near: number, minPrecision: number) {
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
function viewPairs(
  r: ViewsRanker,
  nQueries: number,
  queryOriginal: readonly number[],
  originals: readonly LibraryItem[],
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
function calibrateEncodedViews(
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

function hashRanker(index: HammingIndex, library: Map<number, bigint>, queries: bigint[]): Ranker {
  const hit = (h: { id: number; distance: number }): Hit => ({ id: h.id, score: -h.distance });
  return {
    search: (q, k) => index.search(queries[q]!, k).map(hit),
    score: (q, id) => -index.distance(id, queries[q]!)!,
    nearestOther: (id) => index.search(library.get(id)!, 1, new Set([id])).map(hit)[0],
  };
}

/** Precision and recall of "score >= t" on the pairs. */
export function precisionRecallAt(positives: readonly number[], negatives: readonly number[], t: number) {
  const tp = positives.filter((s) => s >= t).length;
  const fp = negatives.filter((s) => s >= t).length;
  return { precision: tp + fp > 0 ? tp / (tp + fp) : null, recall: positives.length ? tp / positives.length : 0 };
}

/**
 * The threshold t ("score >= t" is a duplicate) with the highest recall whose precision is at least `minPrecision`;
 * among thresholds of equal recall, the highest. Candidates are the observed scores. Null when no threshold has
 * that precision.
 */
export function calibrateThreshold(
  positives: readonly number[],
  negatives: readonly number[],
  minPrecision: number,
): { value: number | null; precision: number | null; recall: number } {
  const pairs = [...positives.map((s) => ({ s, pos: true })), ...negatives.map((s) => ({ s, pos: false }))].sort(
    (a, b) => b.s - a.s,
  );
  let best: { value: number | null; precision: number | null; recall: number } = {
    value: null,
    precision: null,
    recall: 0,
  };
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < pairs.length;) {
    const s = pairs[i]!.s;
    for (; i < pairs.length && pairs[i]!.s === s; i++) {
      if (pairs[i]!.pos) tp++;
      else fp++;
    }
    const precision = tp / (tp + fp);
    const recall = positives.length ? tp / positives.length : 0;
    if (precision >= minPrecision && recall > best.recall) best = { value: s, precision, recall };
  }
  return best;
}

/**
 * The lowest view threshold whose rule "whole-photo similarity >= near, or view similarity >= t" keeps precision
 * >= minPrecision on the pairs (each a whole-photo and a best-view similarity), which is the one with the highest
 * recall; value null when no threshold keeps that precision (1 when only views scoring 1 may count).
 */
export function calibrateViewThreshold(
  positives: readonly { full: number; view: number }[],
  negatives: readonly { full: number; view: number }[],
  near: number,
  minPrecision: number,
): { value: number | null; precision: number | null; recall: number } {
  // Pairs the whole-photo rule already calls duplicates count whatever t is: they score above every view.
  const score = (p: { full: number; view: number }): number => (p.full >= near ? Infinity : p.view);
  const best = calibrateThreshold(positives.map(score), negatives.map(score), minPrecision);
  return best.value === Infinity ? { ...best, value: 1 } : best;
}

/**
 * The lowest encoded-view threshold t for which "whole >= near, or predicted view >= view, or (predicted view >=
 * rawCandidate and encoded view >= t)" keeps precision >= minPrecision on the pairs; value null when none does.
 */
export function calibrateEncodedViewThreshold(
  positives: readonly { full: number; view: number; encoded: number }[],
  negatives: readonly { full: number; view: number; encoded: number }[],
  t: { near: number; view: number; rawCandidate: number; minPrecision: number },
): { value: number | null; precision: number | null; recall: number } {
  const score = (p: { full: number; view: number; encoded: number }): number =>
    p.full >= t.near || p.view >= t.view ? Infinity : p.view >= t.rawCandidate ? p.encoded : -Infinity;
  const best = calibrateThreshold(positives.map(score), negatives.map(score), t.minPrecision);
  return best.value === Infinity ? { ...best, value: 1 } : best;
}

export async function runRetrievalBenchmark(opts: EvalOptions): Promise<EvalReport> {
  const started = Date.now();
  const k = opts.k ?? 10;
  const minPrecision = opts.minPrecision ?? 0.99;
  const attacks = opts.attacks ?? ATTACKS;
  const concurrency = opts.concurrency ?? Math.max(2, Math.min(4, os.availableParallelism()));
  const log = opts.onLog ?? (() => {});
  const progress = opts.onProgress ?? (() => {});
  const errors: { path: string; reason: string }[] = [];
  const onError = (p: string, r: string): void => {
    errors.push({ path: p, reason: r });
    log(`skipped ${p}: ${r}`);
  };
  if (opts.models.length === 0 && !opts.hashes) {
    throw new DoppelError('invalid-argument', 'Nothing to evaluate: no model and no hashes');
  }

  const originalPaths = await listImages(opts.originals, Infinity, onError);
  const distractorPaths = await listImages(opts.distractors, opts.distractorsLimit, onError);
  if (originalPaths.length === 0) throw new DoppelError('not-found', `No images in ${opts.originals}`);
  const candidates = [
    ...originalPaths.map((p) => ({ path: p, original: true })),
    ...distractorPaths.map((p) => ({ path: p, original: false })),
  ];
  const sizes = [...new Map(opts.models.map((m) => [specKey(m.inputSpec), m.inputSpec])).values()];
  const viewSpecs = [
    ...new Map(
      opts.models.flatMap((m) => {
        const fraction = cropViewsOf(m);
        return fraction === undefined ? [] : [[viewsKey(m.inputSpec, fraction), { spec: m.inputSpec, fraction }]];
      }),
    ).values(),
  ];
  log(
    `library: ${originalPaths.length} originals + ${distractorPaths.length} distractors; ` +
      `${attacks.length} attacks; methods: ${[...opts.models.map((m) => m.name), ...(opts.hashes ? ['dHash', 'pHash'] : [])].join(', ')}`,
  );

  // 1. Library features, one decode per input spec (the indexer's own path) and one for the hashes.
  const libFeatures: (Features | undefined)[] = new Array(candidates.length);
  let done = 0;
  await forEachPool(candidates, concurrency, async (c, i) => {
    try {
      libFeatures[i] = await features(fs.readFileSync(c.path), sizes, viewSpecs, opts.hashes);
    } catch (err) {
      onError(c.path, reason(err));
    }
    progress({ phase: 'library', done: ++done, total: candidates.length });
  });
  const library: LibraryItem[] = [];
  const libFeat: Features[] = [];
  candidates.forEach((c, i) => {
    const f = libFeatures[i];
    if (!f) return;
    library.push({ id: library.length, path: c.path, original: c.original });
    libFeat.push(f);
  });
  const originals = library.filter((l) => l.original);
  const nDistractors = library.length - originals.length;
  if (originals.length === 0) throw new DoppelError('decode-failed', 'No original could be decoded');

  // 2. Queries: every attack of every original, made in memory and run through the same preprocessing.
  const nQueries = originals.length * attacks.length;
  const queryFeat: Features[] = new Array(nQueries);
  const queryOriginal: number[] = new Array(nQueries);
  const queryAttack: number[] = new Array(nQueries);
  done = 0;
  await forEachPool(originals, concurrency, async (o, oi) => {
    const raw = await decodeOriginal(fs.readFileSync(o.path));
    for (let a = 0; a < attacks.length; a++) {
      const q = oi * attacks.length + a;
      const copy = await attacks[a]!.apply(raw);
      queryFeat[q] = await features(copy, sizes, [], opts.hashes);
      queryOriginal[q] = o.id;
      queryAttack[q] = a;
    }
    progress({ phase: 'queries', done: ++done, total: originals.length });
  });

  // 3. Rankers: a vector index per model (encoding timed), a Hamming index per hash.
  const rankers: {
    method: string;
    kind: 'model' | 'hash';
    ranker: Ranker;
    model?: Autoencoder;
    rate?: number;
    viewThreshold?: ThresholdReport & { near: number };
    encodedViewThreshold?: ThresholdReport & { near: number; candidate: number };
  }[] = [];
  for (const model of opts.models) {
    const encodeAll = (inputs: Uint8Array[]): { vectors: Float32Array[]; ms: number } => {
      const vectors: Float32Array[] = [];
      let ms = 0;
      const CHUNK = 256;
      for (let s = 0; s < inputs.length; s += CHUNK) {
        const t0 = performance.now();
        vectors.push(...model.encode(inputs.slice(s, s + CHUNK)));
        ms += performance.now() - t0;
        progress({ phase: 'encode', done: Math.min(s + CHUNK, inputs.length), total: inputs.length });
      }
      return { vectors, ms };
    };
    const inputsOf = (feats: Features[]) => feats.map((f) => f.inputs.get(specKey(model.inputSpec))!);
    log(`encoding with ${model.name}`);
    // One untimed batch first: the backend compiles its kernels on first use.
    if (libFeat[0]) model.encode([libFeat[0].inputs.get(specKey(model.inputSpec))!]);
    const lib = encodeAll(inputsOf(libFeat));
    const qs = encodeAll(inputsOf(queryFeat));
    const index = new VectorIndex(model.dim, library.length);
    lib.vectors.forEach((v, id) => index.upsert(id, v));
    const rate = (lib.vectors.length + qs.vectors.length) / ((lib.ms + qs.ms) / 1000);
    const fraction = cropViewsOf(model);
    let ranker = vectorRanker(index, qs.vectors);
    let viewThreshold: (ThresholdReport & { near: number }) | undefined;
    let encodedViewThreshold: (ThresholdReport & { near: number; candidate: number }) | undefined;
    if (fraction !== undefined) {
      const viewIndex = (vectors: Float32Array[]): VectorIndex => {
        const views = new VectorIndex(model.dim, library.length * 4);
        vectors.forEach((v, row) => views.upsert(row, v));
        return views;
      };
      const encoded = viewIndex(
        encodeAll(libFeat.flatMap((f) => f.views.get(viewsKey(model.inputSpec, fraction))!)).vectors,
      );
      const predicted = predictsViews(model) ? viewIndex(model.encodeWithViews(inputsOf(libFeat)).views.flat()) : null;
      const plain = viewsRanker(index, predicted ?? encoded, qs.vectors);
      // The views must fit the near threshold that this run calibrates for the photos' own vectors (what
      // --write-card stores beside the view threshold).
      const own = vectorRanker(index, qs.vectors);
      const ownPairs = pairScores(own, nQueries, queryOriginal, originals);
      const near = calibrateThreshold(ownPairs.positives, ownPairs.negatives, minPrecision).value ?? 1;
      log(`calibrating the corner views of ${model.name}`);
      const pairs = viewPairs(plain, nQueries, queryOriginal, originals);
      viewThreshold = calibrateViews(pairs, plain, near, minPrecision);
      ranker = plain.withStretch(viewStretch(near, viewThreshold.value ?? 1));
      if (predicted && viewThreshold.value !== null) {
        const similar = calibrateThreshold(ownPairs.positives, ownPairs.negatives, SIMILAR_PRECISION).value ?? near;
        const byCrops = viewsRanker(index, encoded, qs.vectors);
        const t = { near, view: viewThreshold.value, candidate: Math.min(similar, near) };
        encodedViewThreshold = calibrateEncodedViews(pairs, plain, byCrops, t, minPrecision);
      }
    }
    rankers.push({ method: model.name, kind: 'model', ranker, model, rate, viewThreshold, encodedViewThreshold });
  }
  if (opts.hashes) {
    for (const which of ['dHash', 'pHash'] as const) {
      const index = new HammingIndex();
      const hashes = new Map<number, bigint>();
      libFeat.forEach((f, id) => {
        const h = f.hashes![which];
        index.add(id, h);
        hashes.set(id, h);
      });
      rankers.push({
        method: which,
        kind: 'hash',
        ranker: hashRanker(
          index,
          hashes,
          queryFeat.map((f) => f.hashes![which]),
        ),
      });
    }
  }

  // 4. Rankings, recall and the pairs for the duplicate threshold.
  const methods: MethodReport[] = [];
  let pairs = { positive: 0, negative: 0 };
  for (const r of rankers) {
    log(`searching: ${r.method}`);
    const hits1 = new Array<number>(attacks.length).fill(0);
    const hitsK = new Array<number>(attacks.length).fill(0);
    const perAttack = new Array<number>(attacks.length).fill(0);
    const positives: number[] = [];
    const negatives: number[] = [];
    for (let q = 0; q < nQueries; q++) {
      const target = queryOriginal[q]!;
      const a = queryAttack[q]!;
      perAttack[a]!++;
      const hits = r.ranker.search(q, k + 1);
      const rank = hits.findIndex((h) => h.id === target);
      if (rank === 0) hits1[a]!++;
      if (rank >= 0 && rank < k) hitsK[a]!++;
      positives.push(rank >= 0 ? hits[rank]!.score : r.ranker.score(q, target));
      const hardest = hits.find((h) => h.id !== target);
      if (hardest) negatives.push(hardest.score);
      if (q % 200 === 0) progress({ phase: 'search', done: q, total: nQueries });
    }
    for (const o of originals) {
      const n = r.ranker.nearestOther(o.id);
      if (n) negatives.push(n.score);
    }
    pairs = { positive: positives.length, negative: negatives.length };

    const summary = (hits: number[]): RecallSummary => {
      const per: Record<string, number> = {};
      attacks.forEach((at, i) => (per[at.id] = perAttack[i]! ? hits[i]! / perAttack[i]! : 0));
      const values = Object.values(per);
      return { perAttack: per, mean: values.reduce((x, y) => x + y, 0) / values.length };
    };
    const calibrated = calibrateThreshold(positives, negatives, minPrecision);
    const similar = calibrateThreshold(positives, negatives, SIMILAR_PRECISION);
    const sign = r.kind === 'hash' ? -1 : 1; // hash scores are minus distances
    const report: MethodReport = {
      method: r.method,
      kind: r.kind,
      recallAt1: summary(hits1),
      recallAt10: summary(hitsK),
      threshold: { ...calibrated, value: calibrated.value === null ? null : sign * calibrated.value },
      similarThreshold: { ...similar, value: similar.value === null ? null : sign * similar.value },
    };
    if (r.kind === 'hash') {
      report.referenceThreshold = {
        value: IMAGEDEDUP_DEFAULT_DISTANCE,
        ...precisionRecallAt(positives, negatives, -IMAGEDEDUP_DEFAULT_DISTANCE),
        source: 'imagededup-default',
      };
    } else {
      const near = r.model?.card.thresholds?.near;
      if (near !== undefined) {
        report.referenceThreshold = { value: near, ...precisionRecallAt(positives, negatives, near), source: 'card' };
      }
      report.encodeRate = r.rate;
      if (r.viewThreshold) report.viewThreshold = r.viewThreshold;
      if (r.encodedViewThreshold) report.encodedViewThreshold = r.encodedViewThreshold;
    }
    methods.push(report);
  }

  return {
    originals: originals.length,
    distractors: nDistractors,
    library: library.length,
    queries: nQueries,
    attacks: attacks.map((a) => a.id),
    attackLabels: Object.fromEntries(attacks.map((a) => [a.id, a.label])),
    k,
    minPrecision,
    pairs,
    methods,
    models: opts.models.map((m) => ({ name: m.name, architecture: m.card.architecture.id })),
    errors,
    date: new Date().toISOString(),
    durationMs: Date.now() - started,
  };
}
