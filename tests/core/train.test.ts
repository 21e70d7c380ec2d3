import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Autoencoder } from '../../src/core/model/autoencoder.js';
import { train, type TrainOptions } from '../../src/core/training/train.js';

const DATA = path.resolve(import.meta.dirname, '../../../shared/data/photos/CSet14');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-train-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A models folder of its own holding copies of these shipped models. */
function withShipped(dir: string, ...names: string[]): string {
  const modelsDir = path.join(tmp, dir);
  for (const name of names) {
    fs.cpSync(path.resolve(import.meta.dirname, '../../models', name), path.join(modelsDir, name), { recursive: true });
  }
  return modelsDir;
}

function options(over: Partial<TrainOptions>): TrainOptions {
  return {
    name: 'tiny',
    modelsDir: path.join(tmp, 'models'),
    architecture: 'seed-conv-ae-32',
    data: [DATA],
    epochs: 1,
    samplesPerEpoch: 8,
    batchSize: 4,
    learningRate: 1e-3,
    validationFraction: 0.2,
    maxValidation: 4,
    seed: 3,
    checkpointDir: path.join(tmp, 'ckpt'),
    fresh: false,
    checkpointEverySec: 3600,
    command: 'test',
    ...over,
  };
}

describe('train', () => {
  it('stops with a checkpoint mid-epoch and resumes where it stopped, then exports a loadable model', async () => {
    const stopped = await train(options({ epochs: 2, stopAfterSteps: 1 }));
    expect(stopped).toMatchObject({ status: 'stopped', epochsDone: 0, modelDir: null });
    const state = JSON.parse(fs.readFileSync(path.join(tmp, 'ckpt', 'state.json'), 'utf8')) as {
      epoch: number;
      step: number;
      samplesSeen: number;
    };
    expect(state).toMatchObject({ epoch: 0, step: 1, samplesSeen: 4 });

    const logs: string[] = [];
    const done = await train(options({ epochs: 2, onLog: (m) => logs.push(m) }));
    expect(logs.some((l) => l.includes('resumed at epoch 1, step 1 (4 samples seen)'))).toBe(true);
    expect(done.status).toBe('finished');
    expect(done.epochsDone).toBe(2);
    // 2 epochs of 8 samples in all: the resumed run did not repeat the first step.
    expect(done.card!.training.samplesSeen).toBe(16);
    expect(done.card!.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(done.card).toMatchObject({ inputSize: 32, dim: 512, codeShape: [8, 8, 8] });
    for (const f of ['model.json', 'weights.bin', 'card.json', 'CARD.md']) {
      expect(fs.existsSync(path.join(tmp, 'models', 'tiny', f))).toBe(true);
    }
    const model = await Autoencoder.load(path.join(tmp, 'models'), 'tiny');
    expect(model.dim).toBe(512);
    expect(model.encode([new Uint8Array(32 * 32 * 3).fill(128)])[0]).toHaveLength(512);
    model.dispose();
  }, 120_000);

  it('stops with a checkpoint when its signal is aborted while it runs', async () => {
    const controller = new AbortController();
    const dir = path.join(tmp, 'ckpt-abort');
    setTimeout(() => controller.abort(), 1500);
    const result = await train(
      options({ name: 'abort', checkpointDir: dir, epochs: 1000, samplesPerEpoch: 8, signal: controller.signal }),
    );
    expect(result.status).toBe('stopped');
    expect(result.epochsDone).toBeLessThan(1000);
    expect(fs.existsSync(path.join(dir, 'state.json'))).toBe(true);
  }, 60_000);

  it('fine-tunes a shipped model with the contrastive term, then refits only its decoder', async () => {
    const modelsDir = withShipped('models-ft', 'doppel-ae32');
    const invariant = { modelsDir, architecture: 'doppel-ae32-inv', epochs: 1, samplesPerEpoch: 8, batchSize: 4 };
    const tuned = await train(
      options({
        ...invariant,
        name: 'tuned',
        init: 'doppel-ae32',
        contrastive: 1,
        checkpointDir: path.join(tmp, 'c1'),
      }),
    );
    expect(tuned.card!.training.augmentation).toMatch(
      /contrastive term .* x 1; started from the weights of doppel-ae32/,
    );
    const refit = await train(
      options({ ...invariant, name: 'refit', init: 'tuned', decoderOnly: true, checkpointDir: path.join(tmp, 'c2') }),
    );
    expect(refit.card!.training.augmentation).toMatch(/^decoder only.*encoder frozen: the weights of tuned/);

    const [base, a, b] = await Promise.all(
      ['doppel-ae32', 'tuned', 'refit'].map((name) => Autoencoder.load(modelsDir, name)),
    );
    const input = new Uint8Array(32 * 32 * 3).map((_, i) => (i * 37) % 256);
    const [vBase, vA, vB] = [base!, a!, b!].map((m) => m.encode([input])[0]!) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    // Contrastive fine-tuning moved the encoder; the decoder refit left it exactly where it was.
    expect(Array.from(vA)).not.toEqual(Array.from(vBase));
    expect(Array.from(vB)).toEqual(Array.from(vA));
    expect(Array.from(b!.reconstruct(input).output)).not.toEqual(Array.from(a!.reconstruct(input).output));
    for (const m of [base, a, b]) m!.dispose();
  }, 120_000);

  it('trains a detail branch and decoder around the frozen encoder of an invariant model: vectors unchanged', async () => {
    const modelsDir = withShipped('models-detail', 'doppel-ae32c', 'seed-ae32');
    const detail = { modelsDir, architecture: 'doppel-ae32-detail', epochs: 1, samplesPerEpoch: 8, batchSize: 4 };
    const run = await train(
      options({ ...detail, name: 'detailed', init: 'doppel-ae32c', checkpointDir: path.join(tmp, 'c4') }),
    );
    expect(run.card).toMatchObject({
      dim: 512,
      codeShape: [8, 8, 8],
      preprocess: { mirrorInvariant: true },
      vectorsOf: 'doppel-ae32c',
    });
    expect(run.card!.training.augmentation).toMatch(
      /^detail branch.*search encoder frozen: the weights of doppel-ae32c/,
    );
    const [base, detailed] = await Promise.all(
      ['doppel-ae32c', 'detailed'].map((name) => Autoencoder.load(modelsDir, name)),
    );
    const inputs = [0, 1, 2].map((k) => new Uint8Array(32 * 32 * 3).map((_, i) => (i * (37 + k)) % 256));
    const before = base!.encode(inputs).map((v) => Array.from(v));
    expect(detailed!.encode(inputs).map((v) => Array.from(v))).toEqual(before);
    // The decoder reads the detail code too: the reconstruction is another one.
    expect(Array.from(detailed!.reconstruct(inputs[0]!).output)).not.toEqual(
      Array.from(base!.reconstruct(inputs[0]!).output),
    );
    base!.dispose();
    detailed!.dispose();

    // It needs an invariant model to start from, and only that.
    await expect(train(options({ ...detail, name: 'x', checkpointDir: path.join(tmp, 'c5') }))).rejects.toThrow(
      /frozen encoder of an --init doppel-ae32-inv model/,
    );
    await expect(
      train(options({ ...detail, name: 'y', init: 'seed-ae32', checkpointDir: path.join(tmp, 'c6') })),
    ).rejects.toThrow(/not "doppel-ae32-inv"/);
  }, 120_000);

  it('goes on with another learning rate when resumed with one, and the card says which epochs had which', async () => {
    const dir = path.join(tmp, 'c-lr');
    const first = await train(options({ name: 'lr', checkpointDir: dir, epochs: 1 }));
    expect(first.card!.training.learningRates).toBeUndefined();
    const second = await train(options({ name: 'lr', checkpointDir: dir, epochs: 2, learningRate: 2e-4 }));
    expect(second.card!.training).toMatchObject({
      epochs: 2,
      learningRate: 2e-4,
      learningRates: [
        { fromEpoch: 1, rate: 1e-3 },
        { fromEpoch: 2, rate: 2e-4 },
      ],
    });
    expect(fs.readFileSync(path.join(tmp, 'models', 'lr', 'CARD.md'), 'utf8')).toContain(
      'Adam lr 0.001 from epoch 1, 0.0002 from epoch 2',
    );
  }, 120_000);

  it('refuses a decoder refit without a model to start from', async () => {
    await expect(
      train(options({ architecture: 'doppel-ae32-inv', decoderOnly: true, checkpointDir: path.join(tmp, 'c3') })),
    ).rejects.toThrow(/decoder-only/);
  }, 60_000);

  it('refuses to resume a checkpoint of a different run', async () => {
    await expect(train(options({ epochs: 3, batchSize: 2 }))).rejects.toThrow(/different run/);
  }, 60_000);
});
