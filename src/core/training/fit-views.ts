// `doppel fit-views`: fits a model's corner-view predictor (model/view-predictor.ts) on folders of images. Each
// image gives its model input and the model inputs of its four corner views (one decode); the views are encoded,
// and the map from the input's sampled code maps to those codes is fitted by ridge regression. A held-out share of
// the images says how close the predicted views come. The map and its figures go into the model's folder.
import fs from 'node:fs';
import path from 'node:path';
import { DoppelError } from '../../shared/api.js';
import { imageToModelInputViews } from '../imaging/analyze.js';
import { scanFolder } from '../library/scan.js';
import { cosine, normalise } from '../vectors.js';
import { Autoencoder } from '../model/autoencoder.js';
import { ModelInfo, type ModelCard } from '../model/card.js';
import { shuffled } from './dataset.js';
import { writeCard } from '../model/card.js';
import {
  applyRidge,
  checkPredictable,
  cornerFeatures,
  fitRidge,
  VIEW_PREDICTOR_FILE,
  writeViewPredictor,
  type ViewPredictorInfo,
} from '../model/view-predictor.js';

export interface FitViewsOptions {
  modelsDir: string;
  /** The default model when omitted. */
  model?: string;
  data: readonly string[];
  /** Images sampled (seeded) from those the folders hold after the first `skip`. */
  images: number;
  /** Leave out the first N files of the folders, in the order they are walked (`doppel eval`'s distractors). */
  skip: number;
  /** Share of the sampled images held out to measure the fit. */
  heldOut: number;
  lambda: number;
  seed: number;
  command?: string;
  onProgress?: (phase: 'decode' | 'encode' | 'fit', done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function fitViews(opts: FitViewsOptions): Promise<{ dir: string; info: ViewPredictorInfo }> {
  const modelInfo = ModelInfo.read(opts.modelsDir, opts.model);
  const card = modelInfo.card;
  const fraction = card.cropViews?.fraction;
  if (fraction === undefined) {
    throw new DoppelError('invalid-argument', `Model ${card.name} has no corner views (cropViews) in its card`);
  }
  checkPredictable(card);

  const files: string[] = [];
  for (const folder of opts.data) {
    for await (const e of scanFolder(path.resolve(folder))) if (e.type === 'file') files.push(e.path);
  }
  const pool = files.slice(opts.skip);
  const order = shuffled(pool.length, opts.seed);
  const picked = Array.from(order.subarray(0, Math.min(opts.images, pool.length)), (i) => pool[i]!);
  if (picked.length < 10) {
    throw new DoppelError(
      'invalid-argument',
      `Too few images to fit on: ${picked.length} (after skipping ${opts.skip})`,
    );
  }

  const inputs: Uint8Array[] = [];
  const viewInputs: Uint8Array[] = [];
  for (const [i, file] of picked.entries()) {
    if (opts.signal?.aborted) throw new DoppelError('cancelled', 'Fitting was cancelled');
    try {
      const made = await imageToModelInputViews(await fs.promises.readFile(file), modelInfo.inputSpec, fraction);
      inputs.push(made.input);
      viewInputs.push(...made.views);
    } catch {
      // An undecodable file is left out, as training does.
    }
    if (i % 100 === 0) opts.onProgress?.('decode', i, picked.length);
  }

  const model = await Autoencoder.loadWeights(modelInfo, { viewPredictor: false });
  let features: Float32Array[];
  let targets: Float32Array[];
  try {
    opts.onProgress?.('encode', 0, inputs.length);
    features = model
      .codeMaps(inputs)
      .flatMap(({ own, mirror }) => cornerFeatures(own, mirror, card.codeShape, fraction));
    targets = model.encode(viewInputs).map((v) => normalise(v));
    opts.onProgress?.('encode', inputs.length, inputs.length);
  } finally {
    model.dispose();
  }

  const images = inputs.length;
  const heldOut = Math.max(1, Math.round(images * opts.heldOut));
  const fitRows = (images - heldOut) * 4;
  opts.onProgress?.('fit', 0, 1);
  const map = fitRidge(features.slice(0, fitRows), targets.slice(0, fitRows), opts.lambda);
  opts.onProgress?.('fit', 1, 1);
  let predicted = 0;
  let sampled = 0;
  for (let r = fitRows; r < features.length; r++) {
    predicted += cosine(applyRidge(map, features[r]!), targets[r]!);
    sampled += cosine(features[r]!, targets[r]!);
  }
  const rows = features.length - fitRows;
  const info: ViewPredictorInfo = {
    file: VIEW_PREDICTOR_FILE,
    lambda: opts.lambda,
    data: { folders: opts.data.map((d) => path.resolve(d)), images: images - heldOut, skipped: opts.skip, heldOut },
    heldOutCosine: Number((predicted / rows).toFixed(4)),
    sampledCosine: Number((sampled / rows).toFixed(4)),
    ...(opts.command ? { command: opts.command } : {}),
    createdAt: new Date().toISOString(),
  };

  writeViewPredictor(modelInfo.dir, map);
  // The view thresholds and figures were measured with the views of before: `doppel eval --write-card` again.
  const { threshold: _t, encodedThreshold: _e2, eval: _e, ...views } = card.cropViews!;
  const updated: ModelCard = { ...card, cropViews: { ...views, predictor: info } };
  writeCard(modelInfo.dir, updated);
  return { dir: modelInfo.dir, info };
}
