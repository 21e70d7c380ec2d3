// How far a duplicate scan is, in words: the Duplicates view and `doppel dupes` on a terminal say it alike.
import type { DuplicateScanProgress } from './api.js';

const STEP_WORDS: Record<Exclude<DuplicateScanProgress['step'], 'done'>, string> = {
  views: 'looking for cropped copies',
  encode: 'reading cropped views',
  turns: 'looking for rotated copies',
  verify: 'comparing pairs picture by picture',
};

/** "comparing pairs picture by picture: 2,000 of 28,051 pairs"; null once the scan is done. */
export function scanProgressText(p: DuplicateScanProgress): string | null {
  if (p.step === 'done') return null;
  const unit = p.step === 'verify' ? 'pairs' : 'photos';
  return `${STEP_WORDS[p.step]}: ${p.done.toLocaleString()} of ${p.total.toLocaleString()} ${unit}`;
}
