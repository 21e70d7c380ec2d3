// One similarity scale for every place a user reads or types one (CLI, Settings, Find similar, Duplicates): the
// cosine of two photos' codes as a percentage with two decimals, 100.00% for identical codes. JSON output and the
// API keep the cosine itself (-1 to 1).

/** What the percentage means, for help texts. */
export const SIMILARITY_MEANING = "cosine similarity of the two photos' codes, as a percentage (100% = identical)";

/** A cosine as users read it: `97.86%`. */
export function formatSimilarity(cosine: number): string {
  return `${(cosine * 100).toFixed(2)}%`;
}

/** A percentage (to two decimals) as the cosine it stands for: 95.12 -> 0.9512, exactly as that literal parses. */
export function percentToCosine(percent: number): number {
  return Math.round(percent * 100) / 10000;
}

/** A cosine as the percentage a form shows (two decimals). */
export function cosineToPercent(cosine: number): number {
  return Number((cosine * 100).toFixed(2));
}

/**
 * A similarity as a user types it: a percentage (`95.12%`, `95.12 %`) or a cosine from -1 to 1 (`0.9512`). Null
 * when it is neither, or out of range: a bare `95` is refused rather than guessed at (95% or a typo?).
 */
export function parseSimilarity(text: string): number | null {
  const t = text.trim();
  const pct = /^(-?\d+(?:\.\d+)?)\s*%$/.exec(t);
  const n = pct ? Number(pct[1]) : t === '' ? NaN : Number(t);
  if (!Number.isFinite(n)) return null;
  const cosine = pct ? percentToCosine(n) : n;
  return cosine >= -1 && cosine <= 1 ? cosine : null;
}
