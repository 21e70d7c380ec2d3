// The indexing worker thread: its own model and its own connection to the library database. It runs
// indexFolders (./indexer.ts) off the caller's thread, so decoding and encoding never block the app or CLI,
// and writes each batch in one transaction while the caller's connection keeps answering queries (WAL).
import { parentPort, workerData } from 'node:worker_threads';
import { DoppelError, type DoppelErrorData } from '../../shared/api.js';
import { ModelInfo } from '../model/card.js';
import { LazyModel } from '../model/lazy-model.js';
import { Store } from '../store/repository.js';
import { unansweredReads } from '../library/read-file.js';
import { indexFolders } from './indexer.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread');
const post = (msg: FromWorker) => port.postMessage(msg);

function errorData(err: unknown): DoppelErrorData {
  if (err instanceof DoppelError) return err.toData();
  return { kind: 'internal', message: (err as Error)?.message ?? String(err) };
}

const init = workerData as WorkerInit;
// The model's card now; TensorFlow.js and the weights once the first files are being decoded (indexFolders
// calls prepare()), so that decoding starts without waiting for them.
let info: ModelInfo;
let model: LazyModel;
let store: Store;
try {
  info = ModelInfo.read(init.modelsDir, init.model);
  model = new LazyModel(info);
  store = Store.open(init.dbPath);
} catch (err) {
  post({ type: 'failed', error: errorData(err) });
  port.close();
  throw err;
}

let run: { abort: AbortController; go: (() => void) | null } | null = null;

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'index': {
      const control: NonNullable<typeof run> = { abort: new AbortController(), go: null };
      run = control;
      indexFolders(store, model, msg.folders, {
        ...msg.opts,
        signal: control.abort.signal,
        whenRunnable: () =>
          new Promise<void>((resolve) => {
            control.go = resolve;
            post({ type: 'runnable' });
          }),
        onProgress: (progress) => post({ type: 'progress', progress }),
        onBatch: () => post({ type: 'batch' }),
      }).then(
        (summary) => {
          run = null;
          post({ type: 'unanswered', count: unansweredReads() });
          post({ type: 'done', summary });
        },
        (err: unknown) => {
          run = null;
          post({ type: 'unanswered', count: unansweredReads() });
          post({ type: 'error', error: errorData(err) });
        },
      );
      break;
    }
    case 'go': {
      const go = run?.go;
      if (run) run.go = null;
      go?.();
      break;
    }
    case 'cancel':
      run?.abort.abort();
      run?.go?.();
      break;
    case 'close':
      post({ type: 'unanswered', count: unansweredReads() });
      store.close();
      void model.dispose().finally(() => port.close());
      break;
  }
});

post({ type: 'ready' });
