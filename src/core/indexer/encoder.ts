// The encoder thread: the model, on a thread of its own, for the indexing worker (encoder-client.ts). While it
// encodes a batch, the indexing worker's thread goes on with the JavaScript work of the next files (resampling,
// trimming, hashing, writing), so encoding no longer waits behind it, nor it behind encoding.
import { parentPort, workerData } from 'node:worker_threads';
import { LazyModel, ModelInfo } from '../model/card.js';
import type { EncoderInit, FromEncoder, ToEncoder } from './encoder-client.js';

const port = parentPort;
if (!port) throw new Error('encoder.ts runs as a worker thread');
const init = workerData as EncoderInit;
const model = new LazyModel(ModelInfo.read(init.modelsDir, init.model));
model.prepare();

port.on('message', (msg: ToEncoder) => {
  if (msg.type === 'close') {
    void model.dispose().finally(() => port.close());
    return;
  }
  const { id, size, count } = msg;
  const bytes = new Uint8Array(msg.inputs);
  const inputs = Array.from({ length: count }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  model.encode(inputs).then(
    (vectors) => {
      const dim = vectors[0]?.length ?? 0;
      const out = new Float32Array(count * dim);
      vectors.forEach((v, i) => out.set(v, i * dim));
      const reply: FromEncoder = { type: 'encoded', id, dim, vectors: out.buffer };
      port.postMessage(reply, [out.buffer]);
    },
    (err: unknown) => {
      const reply: FromEncoder = { type: 'failed', id, message: (err as Error)?.message ?? String(err) };
      port.postMessage(reply);
    },
  );
});
