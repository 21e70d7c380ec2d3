// `doppel train`: trains an autoencoder on folders of images with checkpoints and resume.
// A checkpoint (weights, optimiser state, position in the epoch) is written every few minutes, at each
// epoch's end and when the run is stopped; the next run with the same checkpoint folder continues
// from it. After every completed epoch the model is exported to models/<name>/ with its card.
// One file though long: train() is one loop whose batches, validation, checkpoints and exports share its state
// (model, optimiser, position in the epoch); the batches, augmentation and files are already in files of their own.
import fs from 'node:fs';
import path from 'node:path';
import { ARCHITECTURES, encoderLayers } from './architectures.js';
import { ModelInfo, writeCard, type ModelCard } from '../model/card.js';
import { rng } from '../random.js';
import { loadDataset, shuffled, type Dataset } from './dataset.js';
import { attack, halve } from './augment.js';
import { writeFileAtomic } from '../atomic.js';
import { loadLayersModel, loadTensors, saveLayersModel, saveTensors } from '../model/files.js';
import { initBackend, tf } from '../model/runtime.js';
import type { TF } from '../model/tfjs.js';

/** Weight of the (1 - cosine) term between the codes of an image and its attacked copy. */
const INVARIANCE_WEIGHT = 0.05;
/** Temperature of the contrastive term (TrainOptions.contrastive). */
const CONTRASTIVE_TEMPERATURE = 0.1;

export interface TrainOptions {
  name: string;
  modelsDir: string;
  architecture: string;
  data: string[];
  epochs: number;
  /** Samples drawn per epoch (default: the whole training split). */
  samplesPerEpoch?: number;
  batchSize: number;
  learningRate: number;
  validationFraction: number;
  /** Upper bound on validation images, to keep validation quick. */
  maxValidation: number;
  seed: number;
  checkpointDir: string;
  /** Ignore an existing checkpoint and start over. */
  fresh: boolean;
  /** Stop (with a checkpoint) after this many minutes. */
  budgetMinutes?: number;
  checkpointEverySec: number;
  /** Stop (with a checkpoint) after this many steps in this run. */
  stopAfterSteps?: number;
  /**
   * Weight of a contrastive term for invariant training (0: none): each attacked copy must be nearer (cosine)
   * to its own clean image than to the other images of the batch (InfoNCE, both ways, temperature 0.1).
   * The plain invariance term only pulls a copy towards its original; this one also pushes other photos away.
   */
  contrastive?: number;
  /** A model of the same architecture in modelsDir whose weights start the run (fine-tuning). */
  init?: string;
  /**
   * Train only the decoder (the layers after 'code') to reconstruct clean images; needs `init`. The encoder, so
   * every stored vector and the retrieval figures, stay exactly as they are: this only improves the
   * reconstructions the app shows, e.g. after a contrastive run traded some of them for retrieval.
   */
  decoderOnly?: boolean;
  /** How the run was started, for the card. */
  command: string;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  onLog?: (message: string) => void;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  samplesSeen: number;
  loss: number;
  /** Samples per second in this run. */
  rate: number;
  etaMs: number | null;
}

export interface TrainResult {
  status: 'finished' | 'stopped';
  epochsDone: number;
  modelDir: string | null;
  card: ModelCard | null;
}

interface CheckpointState {
  config: {
    architecture: string;
    data: string[];
    batchSize: number;
    seed: number;
    samplesPerEpoch: number | null;
    contrastive?: number;
    init?: string;
    decoderOnly?: boolean;
  };
  epoch: number;
  step: number;
  samplesSeen: number;
  epochLossSum: number;
  epochLossCount: number;
  trainSeconds: number;
  history: ModelCard['history'];
  /** The learning rate of each part of the run (a resumed run may lower it). */
  learningRates?: { fromEpoch: number; rate: number }[];
}

function sameConfig(a: CheckpointState['config'], b: CheckpointState['config']): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function makeBatch(ds: Dataset, indices: ArrayLike<number>, random: (() => number) | null): TF.Tensor4D {
  const s = ds.inputSize;
  const size = s * s * 3;
  const out = new Float32Array(indices.length * size);
  for (let b = 0; b < indices.length; b++) {
    const base = indices[b]! * size;
    const flip = random !== null && random() < 0.5;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const src = base + (y * s + (flip ? s - 1 - x : x)) * 3;
        const dst = b * size + (y * s + x) * 3;
        out[dst] = ds.pixels[src]! / 255;
        out[dst + 1] = ds.pixels[src + 1]! / 255;
        out[dst + 2] = ds.pixels[src + 2]! / 255;
      }
    }
  }
  return tf.tensor4d(out, [indices.length, s, s, 3]);
}

/** Clean model inputs: the stored images, or (for invariant training) their 2x2 box-filtered halves. */
function cleanBatch(ds: Dataset, indices: ArrayLike<number>, inputSize: number, random: (() => number) | null) {
  const x = makeBatch(ds, indices, random);
  return ds.inputSize === inputSize ? x : halve(x, inputSize);
}

function evaluate(model: TF.LayersModel, ds: Dataset, indices: Uint32Array, inputSize: number): number {
  let sum = 0;
  for (let i = 0; i < indices.length; i += 64) {
    const chunk = indices.subarray(i, i + 64);
    sum += tf.tidy(() => {
      const x = cleanBatch(ds, chunk, inputSize, null);
      return tf.losses.meanSquaredError(x, model.predict(x) as TF.Tensor).dataSync()[0]! * chunk.length;
    });
  }
  return sum / indices.length;
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.onLog ?? (() => undefined);
  const arch = ARCHITECTURES[opts.architecture];
  if (!arch)
    throw new Error(`Unknown architecture "${opts.architecture}" (known: ${Object.keys(ARCHITECTURES).join(', ')})`);
  const backend = await initBackend();
  log(`backend: ${backend}`);
  fs.mkdirSync(opts.checkpointDir, { recursive: true });

  log(`loading images from ${opts.data.join(', ')}`);
  // Invariant training cuts its attacked copies out of images stored at twice the input size; the models that
  // build on an invariant one are trained and validated on the same images.
  const storeSize = arch.training === 'plain' ? arch.inputSize : arch.inputSize * 2;
  const spec = { size: storeSize, trimBorders: arch.preprocess.trimBorders };
  const ds = await loadDataset(opts.data, spec, opts.checkpointDir, (done, total) =>
    log(`decoded ${done}/${total} images`),
  );
  const order = shuffled(ds.count, opts.seed);
  const valCount = Math.min(opts.maxValidation, Math.max(1, Math.round(ds.count * opts.validationFraction)));
  const valIdx = order.subarray(ds.count - valCount);
  const trainIdx = order.subarray(0, ds.count - valCount);
  log(`${ds.count} images (${ds.skipped} unreadable skipped): ${trainIdx.length} train, ${valIdx.length} validation`);

  const config: CheckpointState['config'] = {
    architecture: arch.id,
    data: opts.data.map((d) => path.resolve(d)),
    batchSize: opts.batchSize,
    seed: opts.seed,
    samplesPerEpoch: opts.samplesPerEpoch ?? null,
    ...(opts.contrastive ? { contrastive: opts.contrastive } : {}),
    ...(opts.init ? { init: opts.init } : {}),
    ...(opts.decoderOnly ? { decoderOnly: true } : {}),
  };
  if (opts.decoderOnly && (!opts.init || opts.contrastive)) {
    throw new Error('--decoder-only refits the decoder of an --init model, without --contrastive');
  }
  if (arch.training === 'detail' && (!opts.init || opts.contrastive || opts.decoderOnly)) {
    throw new Error(
      `"${arch.id}" trains a detail branch and decoder around the frozen encoder of an --init ${arch.searchEncoderOf} model, without --contrastive or --decoder-only`,
    );
  }
  if (opts.contrastive && arch.training !== 'invariant') {
    throw new Error(`--contrastive needs an architecture trained on attacked copies, not "${arch.id}"`);
  }
  // A detail model makes its --init model's vectors: libraries store them under that model's name.
  const vectorsOf = arch.training === 'detail' ? initVectorKey(opts.modelsDir, opts.init!) : undefined;
  const model = arch.build();
  // The same weights with the code as a second output, for the invariance term.
  const withCode = tf.model({
    inputs: model.inputs,
    outputs: [model.outputs[0]!, model.getLayer('code').output as TF.SymbolicTensor],
  });
  const optimizer = tf.train.adam(opts.learningRate);
  // A decoder refit and detail training leave the encoder, so every stored vector, as it is.
  const frozen = new Set(opts.decoderOnly || arch.training === 'detail' ? encoderLayers(model) : []);
  const trained =
    frozen.size > 0 ? model.layers.filter((l) => !frozen.has(l)).flatMap((l) => l.trainableWeights) : null;
  const vars = (trained ?? model.trainableWeights).map((w) => w.read() as TF.Variable);
  const stateFile = path.join(opts.checkpointDir, 'state.json');
  let state: CheckpointState = {
    config,
    epoch: 0,
    step: 0,
    samplesSeen: 0,
    epochLossSum: 0,
    epochLossCount: 0,
    trainSeconds: 0,
    history: [],
    learningRates: [{ fromEpoch: 1, rate: opts.learningRate }],
  };
  const resuming = !opts.fresh && fs.existsSync(stateFile);
  // A fine-tuning run starts from another model's weights; a resumed one from its checkpoint (the model it
  // started from is no longer needed then).
  if (opts.init && !resuming) {
    const initInfo = ModelInfo.read(opts.modelsDir, opts.init);
    const from = await loadLayersModel(initInfo.dir);
    try {
      if (arch.searchEncoderOf) {
        if (initInfo.card.architecture.id !== arch.searchEncoderOf) {
          throw new Error(`it is a "${initInfo.card.architecture.id}" model, not "${arch.searchEncoderOf}"`);
        }
        const weighted = (m: TF.LayersModel): TF.layers.Layer[] =>
          encoderLayers(m).filter((l) => l.getWeights().length > 0);
        const source = weighted(from);
        const target = weighted(model);
        if (source.length !== target.length) throw new Error('its encoder has other layers');
        target.forEach((layer, i) => layer.setWeights(source[i]!.getWeights()));
      } else {
        model.setWeights(from.getWeights());
      }
    } catch (err) {
      throw new Error(`--init ${opts.init}: its weights do not fit "${arch.id}" (${(err as Error).message})`);
    } finally {
      from.dispose();
    }
    log(`weights from ${opts.init}`);
  }
  if (resuming) {
    const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as CheckpointState;
    if (!sameConfig(saved.config, config)) {
      throw new Error(`The checkpoint in ${opts.checkpointDir} belongs to a different run; pass --fresh to start over`);
    }
    state = saved;
    model.setWeights(loadTensors(path.join(opts.checkpointDir, 'weights.bin')).map((t) => t.tensor));
    const slots = loadTensors(path.join(opts.checkpointDir, 'optimizer.bin'));
    if (slots.length > 0) await optimizer.setWeights(slots);
    log(`resumed at epoch ${state.epoch + 1}, step ${state.step} (${state.samplesSeen} samples seen)`);
    state.learningRates ??= [];
    if (state.learningRates.at(-1)?.rate !== opts.learningRate) {
      state.learningRates.push({ fromEpoch: state.epoch + 1, rate: opts.learningRate });
      log(`learning rate ${opts.learningRate} from epoch ${state.epoch + 1}`);
    }
  }

  const checkpoint = async (): Promise<void> => {
    saveTensors(
      path.join(opts.checkpointDir, 'weights.bin'),
      model.getWeights().map((tensor, i) => ({ name: `w${i}`, tensor })),
    );
    saveTensors(path.join(opts.checkpointDir, 'optimizer.bin'), await optimizer.getWeights());
    writeFileAtomic(stateFile, JSON.stringify(state, null, 1));
  };

  const perEpoch = Math.min(opts.samplesPerEpoch ?? trainIdx.length, trainIdx.length);
  const steps = Math.ceil(perEpoch / opts.batchSize);
  const started = Date.now();
  const deadline = opts.budgetMinutes !== undefined ? started + opts.budgetMinutes * 60_000 : Infinity;
  let lastCheckpoint = Date.now();
  let lastReport = 0;
  let samplesThisRun = 0;
  let stepsThisRun = 0;
  let card: ModelCard | null = null;
  const modelDir = path.join(opts.modelsDir, opts.name);

  while (state.epoch < opts.epochs) {
    const epochOrder = shuffled(trainIdx.length, opts.seed * 1000 + state.epoch + 1);
    while (state.step < steps) {
      // A step is synchronous: yield so that signal handlers and timers (stop requests) get to run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (opts.signal?.aborted || Date.now() >= deadline || stepsThisRun >= (opts.stopAfterSteps ?? Infinity)) {
        state.trainSeconds += (Date.now() - lastCheckpoint) / 1000;
        lastCheckpoint = Date.now();
        await checkpoint();
        log(`stopped at epoch ${state.epoch + 1}, step ${state.step}; run again to resume`);
        return { status: 'stopped', epochsDone: state.epoch, modelDir: card ? modelDir : null, card };
      }
      const from = state.step * opts.batchSize;
      const idx = epochOrder.subarray(from, Math.min(from + opts.batchSize, perEpoch)).map((i) => trainIdx[i]!);
      const random = rng(opts.seed * 7919 + state.epoch * 100_003 + state.step);
      const loss = tf.tidy(() => {
        if (arch.training !== 'invariant' || opts.decoderOnly) {
          const x =
            arch.training === 'plain' ? makeBatch(ds, idx, random) : cleanBatch(ds, idx, arch.inputSize, random);
          const value = optimizer.minimize(
            () => tf.losses.meanSquaredError(x, model.apply(x, { training: true }) as TF.Tensor) as TF.Scalar,
            true,
            vars,
          );
          return value!.dataSync()[0]!;
        }
        const src = makeBatch(ds, idx, random);
        const clean = halve(src, arch.inputSize);
        const x = tf.concat([clean, attack(src, { outSize: arch.inputSize, random })]);
        const target = tf.concat([clean, clean]);
        let reconstruction: TF.Scalar | undefined;
        optimizer.minimize(
          () => {
            const [out, code] = withCode.apply(x, { training: true }) as [TF.Tensor, TF.Tensor];
            const mse = tf.losses.meanSquaredError(target, out) as TF.Scalar;
            reconstruction = tf.keep(mse);
            const c = code.reshape([2, idx.length, -1]);
            const unit = c.div(c.norm('euclidean', 2, true).add(1e-6));
            const [a, b] = tf.unstack(unit) as [TF.Tensor, TF.Tensor];
            const invariance = tf.sub(1, a.mul(b).sum(1).mean());
            let total = mse.add(invariance.mul(INVARIANCE_WEIGHT));
            if (opts.contrastive) {
              const logits = tf.matMul(a, b, false, true).div(CONTRASTIVE_TEMPERATURE);
              const labels = tf.oneHot(tf.range(0, idx.length, 1, 'int32'), idx.length);
              const nce = tf.losses
                .softmaxCrossEntropy(labels, logits)
                .add(tf.losses.softmaxCrossEntropy(labels, logits.transpose()))
                .div(2);
              total = total.add(nce.mul(opts.contrastive));
            }
            return total as TF.Scalar;
          },
          false,
          vars,
        );
        return reconstruction!.dataSync()[0]!;
      });
      state.epochLossSum += loss * idx.length;
      state.epochLossCount += idx.length;
      state.samplesSeen += idx.length;
      samplesThisRun += idx.length;
      stepsThisRun++;
      state.step++;
      const now = Date.now();
      if (now - lastReport > 2000 || state.step === steps) {
        lastReport = now;
        const rate = samplesThisRun / Math.max(1e-3, (now - started) / 1000);
        const left = (opts.epochs - state.epoch - 1) * perEpoch + (perEpoch - Math.min(perEpoch, from + idx.length));
        opts.onProgress?.({
          epoch: state.epoch + 1,
          epochs: opts.epochs,
          step: state.step,
          steps,
          samplesSeen: state.samplesSeen,
          loss: state.epochLossSum / state.epochLossCount,
          rate,
          etaMs: rate > 0 ? (left / rate) * 1000 : null,
        });
      }
      if (now - lastCheckpoint > opts.checkpointEverySec * 1000) {
        state.trainSeconds += (now - lastCheckpoint) / 1000;
        lastCheckpoint = now;
        await checkpoint();
      }
    }
    const trainMse = state.epochLossSum / Math.max(1, state.epochLossCount);
    const validationMse = evaluate(model, ds, valIdx, arch.inputSize);
    state.history.push({ epoch: state.epoch + 1, samplesSeen: state.samplesSeen, trainMse, validationMse });
    log(
      `epoch ${state.epoch + 1}/${opts.epochs}: train MSE ${trainMse.toFixed(5)}, validation MSE ${validationMse.toFixed(5)}`,
    );
    state.epoch++;
    state.step = 0;
    state.epochLossSum = 0;
    state.epochLossCount = 0;
    state.trainSeconds += (Date.now() - lastCheckpoint) / 1000;
    lastCheckpoint = Date.now();
    await checkpoint();
    card = await exportModel(model, modelDir, {
      name: opts.name,
      architecture: { id: arch.id, description: arch.description },
      inputSize: arch.inputSize,
      codeShape: (model.getLayer('code').outputShape as number[]).slice(1),
      dim: (model.getLayer('code').outputShape as number[]).slice(1).reduce((a, b) => a * b, 1),
      data: {
        folders: opts.data,
        images: ds.count,
        trainImages: trainIdx.length,
        validationImages: valIdx.length,
      },
      training: {
        epochs: state.epoch,
        samplesSeen: state.samplesSeen,
        batchSize: opts.batchSize,
        learningRate: opts.learningRate,
        ...(state.learningRates && state.learningRates.length > 1 ? { learningRates: state.learningRates } : {}),
        augmentation:
          arch.training === 'detail'
            ? `detail branch and decoder, on clean images with random mirroring (search encoder frozen: the weights of ${opts.init}, ` +
              'vectors unchanged); validation on 2x2 box-filtered clean images'
            : opts.decoderOnly
              ? `decoder only, on clean images with random mirroring (encoder frozen: the weights of ${opts.init}, ` +
                'vectors unchanged); validation on 2x2 box-filtered clean images'
              : arch.training === 'plain'
                ? 'random horizontal flip'
                : 'clean + attacked pairs (crop 65-100% with aspect jitter, rotation up to 10 deg cropped, mirror, ' +
                  'brightness x0.75-1.35, greyscale, blur, caption bar 12-25%, noise); validation on 2x2 box-filtered clean images' +
                  (opts.contrastive
                    ? `; contrastive term (InfoNCE within the batch, temperature ${CONTRASTIVE_TEMPERATURE}) x ${opts.contrastive}`
                    : '') +
                  (opts.init ? `; started from the weights of ${opts.init}` : ''),
        backend,
        trainSeconds: Math.round(state.trainSeconds),
      },
      losses: { trainMse, validationMse },
      preprocess: arch.preprocess,
      // Offered to libraries once `doppel eval --write-card` has calibrated their threshold.
      ...(arch.cropViews ? { cropViews: { fraction: arch.cropViews } } : {}),
      ...(vectorsOf ? { vectorsOf } : {}),
      history: state.history,
      command: opts.command,
      createdAt: new Date().toISOString(),
    });
    log(`exported ${modelDir}`);
  }
  return { status: 'finished', epochsDone: state.epoch, modelDir, card };
}

/** The vector key of the model a run starts from; its name when it is no longer there (a resumed run). */
function initVectorKey(modelsDir: string, init: string): string {
  try {
    return ModelInfo.read(modelsDir, init).vectorKey;
  } catch {
    return init;
  }
}

async function exportModel(model: TF.LayersModel, dir: string, card: ModelCard): Promise<ModelCard> {
  await saveLayersModel(model, dir);
  writeCard(dir, card);
  return card;
}
