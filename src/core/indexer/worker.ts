// The indexing worker thread: its own model and its own connection to the library database. It runs
// indexFolders (./indexer.ts) off the caller's thread, so decoding and encoding never block the app or CLI,
// and writes each batch in one transaction while the caller's connection keeps answering queries (WAL).
import { parentPort, workerData } from 'node:worker_threads';
import { DoppelError, type DoppelErrorData } from '../../shared/api.js';
import { LazyModel, ModelInfo } from '../model/card.js';
import { EncoderThread, encoderThreadAvailable } from './encoder-client.js';
import { Store } from '../store/repository.js';
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
/**
 * For runs that make corner views ("find cropped copies": five model inputs a photo), the model on a thread of its
 * own (encoder.ts), so that this thread's work on the next files goes on while a batch is encoded. Measured side
 * by side (160 12-megapixel JPEGs, 3 runs each): with views 6.49 s against 7.24 s; without views no faster (4.47
 * against 4.45 s) for ~0.6 s more CPU, so plain runs keep the model on this thread.
 */
let viewsModel: EncoderThread | LazyModel | null = null;
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
      const useModel =
        msg.opts.cropViews === undefined
          ? model
          : (viewsModel ??=
              encoderThreadAvailable() && process.env.DOPPEL_ENCODER_THREAD !== '0' ? new EncoderThread(info) : model);
      indexFolders(store, useModel, msg.folders, {
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
          post({ type: 'done', summary });
        },
        (err: unknown) => {
          run = null;
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
      store.close();
      void Promise.all([model.dispose(), viewsModel !== model ? viewsModel?.dispose() : undefined]).finally(() =>
        port.close(),
      );
      break;
  }
});

post({ type: 'ready' });
