// Messages between the indexing worker thread (worker.ts) and the thread that owns it (worker-client.ts).
import type { DoppelErrorData, FolderInfo, IndexProgress, IndexSummary } from '../../shared/api.js';
import type { IndexOptions } from './indexer.js';

export interface WorkerInit {
  dbPath: string;
  modelsDir: string;
  model?: string;
}

/** IndexOptions less the callbacks and the signal, which stay with the caller (worker-client.ts). */
export type RunOptions = Omit<IndexOptions, 'signal' | 'whenRunnable' | 'onProgress' | 'onBatch'>;

export type ToWorker =
  | { type: 'index'; folders: FolderInfo[]; opts: RunOptions }
  /** The answer to 'runnable': go on with the next batch. */
  | { type: 'go' }
  | { type: 'cancel' }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; error: DoppelErrorData }
  | { type: 'progress'; progress: IndexProgress }
  /** A batch was committed: the search index may catch up. */
  | { type: 'batch' }
  /** Between batches: may the run go on? (Answered with 'go' once it is not paused.) */
  | { type: 'runnable' }
  | { type: 'done'; summary: IndexSummary }
  /**
   * Reads the worker gave up on that are still waiting for their drive (read-file.ts unansweredReads), sent
   * before each run's end and before closing: while any is, the process cannot exit normally.
   */
  | { type: 'unanswered'; count: number }
  | { type: 'error'; error: DoppelErrorData };
