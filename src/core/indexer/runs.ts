// Indexing runs: one at a time, in the indexing worker thread when it starts (else in this thread), with pause,
// resume and cancel between batches, and their progress for the status.
import type { FolderInfo, IndexProgress, IndexSummary } from '../../shared/api.js';
import type { LazyModel } from '../model/lazy-model.js';
import type { Store } from '../store/repository.js';
import { indexFolders, type IndexOptions } from './indexer.js';
import { IndexWorker } from './worker-client.js';

export interface IndexRunsOptions {
  store: Store;
  model: LazyModel;
  dbPath: string;
  modelsDir: string;
  /** A worker started early (while the model loads), or null. */
  worker: Promise<IndexWorker | null> | null;
  onProgress: (p: IndexProgress) => void;
  /** The run's state changed (started, paused, resumed, cancelled, ended). */
  onStateChange: () => void;
  /** What every run is given besides its folders (thumbnails, corner views, a search index to keep in step). */
  runOptions: () => Omit<IndexOptions, 'whenRunnable' | 'onProgress' | 'signal' | 'exclude'>;
  /** After a run that ended (not one that failed or was cancelled). */
  afterRun: (summary: IndexSummary) => void;
}

interface RunControl {
  abort: AbortController;
  paused: boolean;
  wake: (() => void) | null;
}

export class IndexRuns {
  private indexing: Promise<IndexSummary> | null = null;
  private control: RunControl | null = null;
  /** Callers of whenParked, told when a paused run reaches the point between batches where it waits. */
  private readonly parkedWaiters = new Set<() => void>();
  private lastProgress: IndexProgress | null = null;
  /** The indexing worker thread, started on first use and kept for later runs. */
  private worker: Promise<IndexWorker | null> | null;
  /** The worker's unanswered reads as it said when it was closed. */
  private workerUnanswered = 0;

  constructor(private readonly opts: IndexRunsOptions) {
    this.worker =
      opts.worker?.then((w) => {
        if (!w) this.worker = null;
        return w;
      }) ?? null;
  }

  /** idle, running or paused, with the running run's last progress. */
  state(): { state: 'idle' | 'running' | 'paused'; progress: IndexProgress | null } {
    const run = this.control;
    return {
      state: run === null ? 'idle' : run.paused ? 'paused' : 'running',
      progress: run === null ? null : this.lastProgress,
    };
  }

  get running(): boolean {
    return this.control !== null;
  }

  /** Resolves when no run is going on (at once when none is). */
  async whenIdle(): Promise<void> {
    while (this.indexing) await this.indexing.catch(() => undefined);
  }

  pause(): void {
    if (this.control) this.control.paused = true;
  }

  /**
   * Resolves once the running run, paused, waits between two batches (at once if it already does): from then until
   * it is resumed or cancelled, no batch completes. For hosts and tests that must know a pause took.
   */
  whenParked(): Promise<void> {
    if (this.control?.paused && this.control.wake) return Promise.resolve();
    return new Promise<void>((resolve) => this.parkedWaiters.add(resolve));
  }

  resume(): void {
    const run = this.control;
    if (run) {
      run.paused = false;
      run.wake?.();
    }
  }

  cancel(): void {
    const run = this.control;
    if (run) {
      run.abort.abort();
      run.paused = false;
      run.wake?.();
    }
  }

  /**
   * Indexes some folders after any run going on. Each folder is scanned with its saved settings (following links
   * or not), read again from the library here, so a record from before a change of them scans as saved.
   */
  async run(
    requested: readonly FolderInfo[],
    opts: Pick<IndexOptions, 'exclude' | 'signal'> = {},
  ): Promise<IndexSummary> {
    await this.whenIdle();
    const folders = requested.map((f) => this.opts.store.getFolder(f.id) ?? f);
    const control: RunControl = { abort: new AbortController(), paused: false, wake: null };
    const signal = opts.signal ? AbortSignal.any([opts.signal, control.abort.signal]) : control.abort.signal;
    this.control = control;
    this.lastProgress = null;
    const run = this.runIndexing(folders, {
      ...this.opts.runOptions(),
      ...opts,
      signal,
      whenRunnable: async () => {
        while (control.paused && !signal.aborted) {
          const woken = new Promise<void>((resolve) => (control.wake = resolve));
          for (const parked of this.parkedWaiters) parked();
          this.parkedWaiters.clear();
          await woken;
        }
        control.wake = null;
      },
      onProgress: (p) => {
        this.lastProgress = p;
        this.opts.onProgress(p);
      },
    });
    this.indexing = run;
    this.opts.onStateChange();
    try {
      const summary = await run;
      this.opts.afterRun(summary);
      return summary;
    } finally {
      this.indexing = null;
      this.control = null;
      this.lastProgress = null;
      this.opts.onStateChange();
    }
  }

  /**
   * The indexing worker for this library, started on first use (null for an in-memory library, which another
   * thread cannot open).
   */
  private startWorker(): Promise<IndexWorker | null> {
    const { dbPath, modelsDir, model } = this.opts;
    if (dbPath === ':memory:') return Promise.resolve(null);
    this.worker ??= IndexWorker.start({ dbPath, modelsDir, model: model.name }).catch((err: unknown) => {
      // Without a worker (its script missing from a build, threads unavailable) this thread indexes.
      process.stderr.write(`doppel: indexing in the main thread: ${(err as Error).message}\n`);
      this.worker = null;
      return null;
    });
    return this.worker;
  }

  /** indexFolders in the worker thread; in this thread for an in-memory library or when no worker starts. */
  private async runIndexing(folders: readonly FolderInfo[], opts: IndexOptions): Promise<IndexSummary> {
    let worker = await this.startWorker();
    if (worker && !worker.alive) {
      this.worker = null;
      worker = await this.startWorker();
    }
    return worker ? worker.run(folders, opts) : indexFolders(this.opts.store, this.opts.model, folders, opts);
  }

  /** Reads the closed worker left waiting on a drive that stopped answering. */
  get unansweredReads(): number {
    return this.workerUnanswered;
  }

  /** Cancels a run going on (finished batches are kept), waits for it, and stops the worker. */
  async close(): Promise<void> {
    if (this.control) this.cancel();
    await this.indexing?.catch(() => undefined);
    const worker = await this.worker?.catch(() => null);
    this.worker = null;
    await worker?.close();
    this.workerUnanswered = worker?.unansweredReads ?? 0;
  }
}
