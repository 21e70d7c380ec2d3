// The model as the indexing worker uses it: encoding on a thread of its own (encoder.ts), asked batch by batch.
// Everything but the weights (the card: name, size, input) is known at once, as with LazyModel.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DoppelError } from '../../shared/api.js';
import { ModelOfInfo } from '../model/card.js';

export interface EncoderInit {
  modelsDir: string;
  model: string;
}

export type ToEncoder =
  { type: 'encode'; id: number; size: number; count: number; inputs: ArrayBuffer } | { type: 'close' };

export type FromEncoder =
  { type: 'encoded'; id: number; dim: number; vectors: ArrayBuffer } | { type: 'failed'; id: number; message: string };

/**
 * The encoder's script beside this module (a bundle puts it beside its entry or one level up), or encoder.ts from
 * the sources (run through tsx, as under vitest); null when there is none.
 */
function encoderScript(from = import.meta.url): { url: URL; typescript: boolean } | null {
  for (const rel of ['./encoder.js', '../encoder.js']) {
    const js = new URL(rel, from);
    if (fs.existsSync(fileURLToPath(js))) return { url: js, typescript: false };
  }
  const ts = new URL('./encoder.ts', from);
  if (fs.existsSync(fileURLToPath(ts))) return { url: ts, typescript: true };
  return null;
}

/** Whether an encoder thread can be started from here. */
export function encoderThreadAvailable(): boolean {
  return encoderScript() !== null;
}

export class EncoderThread extends ModelOfInfo {
  private worker: Worker | null = null;
  private next = 0;
  private failure: Error | null = null;
  private readonly pending = new Map<number, { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }>();

  /** Starts the thread, which loads TensorFlow.js and the weights while the first files decode. */
  prepare(): void {
    this.thread();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const script = encoderScript();
    if (!script) throw new DoppelError('internal', 'The encoder thread is missing');
    const init: EncoderInit = { modelsDir: path.dirname(this.info.dir), model: this.info.name };
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(script.url.href)}); })`;
    const worker = script.typescript
      ? new Worker(boot, { eval: true, workerData: init })
      : new Worker(script.url, { workerData: init });
    worker.on('message', (msg: FromEncoder) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'failed') return p.reject(new DoppelError('model', msg.message));
      const all = new Float32Array(msg.vectors);
      const count = msg.dim > 0 ? all.length / msg.dim : 0;
      p.resolve(Array.from({ length: count }, (_, i) => all.slice(i * msg.dim, (i + 1) * msg.dim)));
    });
    const fail = (err: Error): void => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(new DoppelError('internal', `Encoder thread failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new DoppelError('internal', `Encoder thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  encode(inputs: readonly Uint8Array[]): Promise<Float32Array[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    if (this.failure) return Promise.reject(this.failure);
    const size = inputs[0]!.length;
    const packed = new Uint8Array(inputs.length * size);
    inputs.forEach((input, i) => {
      if (input.length !== size) throw new DoppelError('invalid-argument', 'Model inputs differ in size');
      packed.set(input, i * size);
    });
    const id = this.next++;
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: ToEncoder = { type: 'encode', id, size, count: inputs.length, inputs: packed.buffer };
      this.thread().postMessage(msg, [packed.buffer]);
    });
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies ToEncoder);
      // A thread stuck in a long encode is stopped rather than waited for.
      setTimeout(() => void worker.terminate().then(() => resolve()), 5000).unref();
    });
  }
}
