// Runs indexing in a worker thread (worker.ts) and gives the caller the same callbacks as indexFolders.
import type { Worker } from 'node:worker_threads';
import { DoppelError, type FolderInfo, type IndexSummary } from '../../shared/api.js';
import { spawnWorker } from '../threads.js';
import type { IndexOptions } from './indexer.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

function spawn(init: WorkerInit): Worker {
  return spawnWorker('worker', import.meta.url, init);
}

type Pending = {
  opts: Omit<IndexOptions, 'thumbnailDir'>;
  resolve: (s: IndexSummary) => void;
  reject: (e: unknown) => void;
};

export class IndexWorker {
  private pending: Pending | null = null;
  private exited = false;
  /** The worker's reads given up on and still waiting for their drive, as it last said. */
  private unanswered = 0;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.fail(new DoppelError('internal', `Indexing worker failed: ${err.message}`)));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new DoppelError('internal', `Indexing worker stopped (exit code ${code})`));
    });
  }

  /** Starts a worker and waits until its model and database are open. */
  static async start(init: WorkerInit): Promise<IndexWorker> {
    const worker = spawn(init);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'ready') done(null);
        else if (msg.type === 'failed') done(new DoppelError(msg.error.kind, msg.error.message));
      };
      const onError = (err: Error) => done(err);
      const onExit = (code: number) => done(new DoppelError('internal', `Indexing worker exited (code ${code})`));
      const done = (err: Error | null) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (err) {
          void worker.terminate();
          reject(err);
        } else resolve();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    return new IndexWorker(worker);
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Reads the worker gave up on that are still waiting for their drive (as of its last run, or its close). */
  get unansweredReads(): number {
    return this.unanswered;
  }

  private send(msg: ToWorker): void {
    if (!this.exited) this.worker.postMessage(msg);
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(err);
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'unanswered') {
      this.unanswered = msg.count;
      return;
    }
    const p = this.pending;
    if (!p) return;
    switch (msg.type) {
      case 'progress':
        p.opts.onProgress?.(msg.progress);
        break;
      case 'batch':
        p.opts.onBatch?.();
        break;
      case 'runnable':
        void (async () => {
          try {
            await p.opts.whenRunnable?.();
          } finally {
            this.send({ type: 'go' });
          }
        })();
        break;
      case 'done':
        this.pending = null;
        p.resolve(msg.summary);
        break;
      case 'error':
        this.pending = null;
        p.reject(new DoppelError(msg.error.kind, msg.error.message));
        break;
    }
  }

  /** indexFolders in the worker; one run at a time. */
  run(folders: readonly FolderInfo[], opts: IndexOptions): Promise<IndexSummary> {
    if (this.pending) return Promise.reject(new DoppelError('internal', 'The indexing worker is busy'));
    if (this.exited) return Promise.reject(new DoppelError('internal', 'The indexing worker has stopped'));
    const { signal, onProgress, onBatch, whenRunnable, ...rest } = opts;
    return new Promise<IndexSummary>((resolve, reject) => {
      const onAbort = () => this.send({ type: 'cancel' });
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          signal?.removeEventListener('abort', onAbort);
          fn(v);
        };
      this.pending = {
        opts: { onProgress, onBatch, whenRunnable },
        resolve: settle(resolve),
        reject: settle(reject),
      };
      this.send({ type: 'index', folders: [...folders], opts: rest });
      if (signal?.aborted) onAbort();
    });
  }

  /**
   * Lets the worker close its database and model, then ends it. A worker still waiting on a read that never
   * answers may never end: after the time to close, and as long again after being terminated, it is left.
   */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.send({ type: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const waited = (ms: number) => new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      if (await Promise.race([exited.then(() => true), waited(5000)])) return;
      void this.worker.terminate();
      await Promise.race([exited, waited(5000)]);
    } finally {
      clearTimeout(timer);
    }
  }
}
