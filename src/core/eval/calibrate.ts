// Duplicate-threshold calibration on scored pairs (positives: copy and original; negatives: distinct photos): the
// threshold with the highest recall at a precision, with corner views or encoded views as a second rule, and the
// precision and recall at a given threshold.

export interface ThresholdReport {
  /** Cosine similarity (a duplicate scores >= value) for models; Hamming distance (<= value) for hashes. */
  value: number | null;
  /** Null when no pair is called a duplicate at this threshold. */
  precision: number | null;
  recall: number;
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
