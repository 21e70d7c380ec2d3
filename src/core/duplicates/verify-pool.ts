// Verifier threads (verify-worker.ts), one per core up to a few: the duplicate scan hands them candidate pairs in
// chunks and awaits the measures, so the caller's thread (the app's main process) never runs the comparisons.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { DoppelError } from '../../shared/api.js';
import { spawnWorker } from '../threads.js';
import type { PairMeasure } from './verify.js';
import type { FromVerifier, ToVerifier, VerifyJob } from './verify-protocol.js';

/** Pairs sent to a thread at a time: small enough to spread the work, large enough to reuse features. */
const CHUNK = 32;

interface Thread {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, (r: (PairMeasure | { error: string })[]) => void>;
}

export class VerifierPool {
  private threads: Thread[] | null = null;
  private nextId = 1;
  private failure: Error | null = null;

  constructor(private readonly size = Math.max(1, Math.min(4, os.availableParallelism()))) {}

  private start(): Thread[] {
    this.threads ??= Array.from({ length: this.size }, () => {
      const worker = spawnWorker('verify-worker', import.meta.url, null);
      worker.unref();
      const pending = new Map<number, (r: (PairMeasure | { error: string })[]) => void>();
      let resolveReady!: () => void;
      let rejectReady!: (e: Error) => void;
      const ready = new Promise<void>((res, rej) => {
        resolveReady = res;
        rejectReady = rej;
      });
      ready.catch(() => undefined);
      const fail = (message: string) => {
        const err = new DoppelError('internal', `The duplicate verifier failed: ${message}`);
        this.failure ??= err;
        rejectReady(err);
        for (const done of pending.values()) done(Array.from({ length: CHUNK }, () => ({ error: message })));
        pending.clear();
      };
      worker.on('message', (msg: FromVerifier) => {
        if (msg.type === 'ready') resolveReady();
        else if (msg.type === 'failed') fail(msg.message);
        else {
          const done = pending.get(msg.id);
          pending.delete(msg.id);
          done?.(msg.results);
        }
      });
      worker.on('error', (err) => fail(err.message));
      worker.on('exit', (code) => {
        if (code !== 0 || pending.size > 0) fail(`its thread exited (${code})`);
      });
      return { worker, ready, pending };
    });
    return this.threads;
  }

  /** Measures every pair; a pair whose thumbnails cannot be read gets `{ error }`. Rejects when OpenCV cannot load. */
  async verify(jobs: readonly VerifyJob[]): Promise<(PairMeasure | { error: string })[]> {
    if (jobs.length === 0) return [];
    const threads = this.start();
    await Promise.all(threads.map((t) => t.ready));
    const out: (PairMeasure | { error: string })[] = new Array(jobs.length);
    let next = 0;
    const run = async (t: Thread): Promise<void> => {
      while (next < jobs.length) {
        const start = next;
        next += CHUNK;
        const chunk = jobs.slice(start, start + CHUNK);
        const id = this.nextId++;
        t.worker.ref();
        const results = await new Promise<(PairMeasure | { error: string })[]>((resolve) => {
          t.pending.set(id, resolve);
          t.worker.postMessage({ type: 'verify', id, jobs: chunk } satisfies ToVerifier);
        });
        if (t.pending.size === 0) t.worker.unref();
        if (this.failure) throw this.failure;
        results.slice(0, chunk.length).forEach((r, i) => (out[start + i] = r));
      }
    };
    await Promise.all(threads.map(run));
    return out;
  }

  async close(): Promise<void> {
    const threads = this.threads ?? [];
    this.threads = null;
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}
