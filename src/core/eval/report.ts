// The retrieval benchmark's report: its shape, and each method's recall per attack and calibrated thresholds from
// its rankings.
import type { Autoencoder } from '../model/autoencoder.js';
import type { Attack } from './attacks.js';
import { calibrateThreshold, precisionRecallAt, type ThresholdReport } from './calibrate.js';
import type { Ranker } from './rankers.js';

export type { ThresholdReport } from './calibrate.js';

export interface RecallSummary {
  perAttack: Record<string, number>;
  /** Mean over the attacks. */
  mean: number;
}

/** Precision the "similar" tier's threshold is calibrated for (looser than the near-duplicate tier's). */
export const SIMILAR_PRECISION = 0.9;

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

/** A method to report on: its ranker, and what was measured when it was made (a model's encode rate, views). */
export interface MethodRanker {
  method: string;
  kind: 'model' | 'hash';
  ranker: Ranker;
  model?: Autoencoder;
  rate?: number;
  viewThreshold?: ThresholdReport & { near: number };
  encodedViewThreshold?: ThresholdReport & { near: number; candidate: number };
}

/** The queries a method is measured on: query q is attack queryAttack[q] of the original queryOriginal[q]. */
export interface Queries {
  nQueries: number;
  queryOriginal: readonly number[];
  queryAttack: readonly number[];
  originals: readonly { id: number }[];
  attacks: readonly Attack[];
  k: number;
  minPrecision: number;
  progress: (p: { phase: 'search'; done: number; total: number }) => void;
}

/**
 * One method's rankings: recall@1 and recall@k per attack, and the duplicate thresholds calibrated on its pairs
 * (each copy with its original and with its hardest other photo, each original with its nearest other).
 */
export function methodReport(
  r: MethodRanker,
  { nQueries, queryOriginal, queryAttack, originals, attacks, k, minPrecision, progress }: Queries,
): { report: MethodReport; pairs: { positive: number; negative: number } } {
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
  const pairs = { positive: positives.length, negative: negatives.length };

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
  return { report, pairs };
}
