// The retrieval benchmark behind `doppel eval`. A library of originals + distractors is indexed; every attacked copy
// of every original (made in memory, see attacks.ts) is a query whose right answer is its original. Reported per
// method (each model, and the dHash/pHash baselines): recall@1 and recall@k per attack, and how well one duplicate
// threshold separates original/copy pairs from distinct pairs. Everything but the date and the rates is a pure
// function of the input files: files are visited in sorted order, rankings break ties by the smaller library id.
//
// Beside it: features.ts (what is extracted from each image), rankers.ts (each method's search and scores, and the
// pairs calibrated on), calibrate.ts (the thresholds), report.ts (the report and each method's figures).
import fs from 'node:fs';
import os from 'node:os';
import { DoppelError } from '../../shared/api.js';
import { scanFolder } from '../library/scan.js';
import type { Autoencoder } from '../model/autoencoder.js';
import { viewStretch } from '../search/crop-views.js';
import { VectorIndex } from '../search/vector-index.js';
import { ATTACKS, decodeOriginal, type Attack } from './attacks.js';
import { calibrateThreshold, type ThresholdReport } from './calibrate.js';
import { cropViewsOf, features, predictsViews, specKey, viewsKey, type Features } from './features.js';
import { HammingIndex } from './hashes.js';
import { methodReport, SIMILAR_PRECISION, type EvalReport, type MethodRanker, type MethodReport } from './report.js';
import {
  calibrateEncodedViews,
  calibrateViews,
  hashRanker,
  pairScores,
  vectorRanker,
  viewPairs,
  viewsRanker,
} from './rankers.js';

export {
  calibrateEncodedViewThreshold,
  calibrateThreshold,
  calibrateViewThreshold,
  precisionRecallAt,
  type ThresholdReport,
} from './calibrate.js';
export {
  IMAGEDEDUP_DEFAULT_DISTANCE,
  SIMILAR_PRECISION,
  type EvalReport,
  type MethodReport,
  type RecallSummary,
} from './report.js';

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
  const rankers: MethodRanker[] = [];
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
  const queries = { nQueries, queryOriginal, queryAttack, originals, attacks, k, minPrecision, progress };
  for (const r of rankers) {
    log(`searching: ${r.method}`);
    const measured = methodReport(r, queries);
    pairs = measured.pairs;
    methods.push(measured.report);
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
