// Messages between the verifier pool (verify-pool.ts) and its worker threads (verify-worker.ts).
import type { PairMeasure } from './verify.js';

/** Two cached thumbnails to compare; `a` and `b` are file paths. */
export interface VerifyJob {
  a: string;
  b: string;
}

export type ToVerifier = { type: 'verify'; id: number; jobs: VerifyJob[] };

export type FromVerifier =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; results: (PairMeasure | { error: string })[] };
