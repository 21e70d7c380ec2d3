// Corner views predicted from the code maps ("find cropped copies" without encoding the crops). A corner view is
// what the encoder makes of a copy cut down to that corner (search/crop-views.ts). Encoding four crops per photo
// costs four more encoder runs; instead, the codes of the photo and of its mirror image, which the encoder makes
// anyway (its vector is their sum), are sampled bilinearly over the corner's part of the 8x8 grid, and a linear
// map fitted by ridge regression turns those samples into the view's code. Fitted on images the retrieval
// benchmark does not use (`doppel fit-views`), against views encoded from real crops.
import fs from 'node:fs';
import path from 'node:path';
import { DoppelError } from '../../shared/api.js';
import type { ModelCard } from './card.js';

export type { ViewPredictorInfo } from './card.js';

/** The fitted map's file in the model's folder: float32, little-endian, (dim + 1) rows of dim (the last: bias). */
export const VIEW_PREDICTOR_FILE = 'views.bin';

/** The corners in the order of the stored views: top-left, top-right, bottom-left, bottom-right. */
const CORNERS = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
] as const;

/** Whether a model's card carries a fitted predictor, and so can make corner views. */
export function hasViewPredictor(card: ModelCard): boolean {
  return card.cropViews?.predictor !== undefined;
}

/** Whether a library can find cropped copies with this model: views it can make, and a calibrated threshold. */
export function viewsReady(card: ModelCard): boolean {
  return hasViewPredictor(card) && card.cropViews?.threshold !== undefined;
}

/** Checks that a model can have its views predicted: the predictor needs the codes of its mirror image. */
export function checkPredictable(card: ModelCard): void {
  if (!card.preprocess?.mirrorInvariant || (card.preprocess.greyWeight ?? 0) > 0 || card.codeShape.length !== 3) {
    throw new DoppelError(
      'invalid-argument',
      `Corner views can be predicted only for a mirror-invariant model with an HxWxC code (${card.name} is not)`,
    );
  }
}

/**
 * The features of a photo's four corner views: for each corner keeping `fraction` of each side, the code of the
 * image sampled over that corner plus the code of the mirror image sampled over the mirrored corner (a view's
 * mirror image is that corner of the mirror image), each cell at the centre of the view's cell. HWC, like the code.
 */
export function cornerFeatures(
  own: Float32Array,
  mirror: Float32Array,
  shape: readonly number[],
  fraction: number,
): Float32Array[] {
  const [h = 1, w = 1, c = 1] = shape;
  const sample = (map: Float32Array, y: number, x: number, out: Float32Array, at: number): void => {
    y = Math.min(h - 1, Math.max(0, y));
    x = Math.min(w - 1, Math.max(0, x));
    const y0 = Math.floor(y);
    const x0 = Math.floor(x);
    const y1 = Math.min(h - 1, y0 + 1);
    const x1 = Math.min(w - 1, x0 + 1);
    const fy = y - y0;
    const fx = x - x0;
    const a = (1 - fy) * (1 - fx);
    const b = (1 - fy) * fx;
    const d = fy * (1 - fx);
    const e = fy * fx;
    const p00 = (y0 * w + x0) * c;
    const p01 = (y0 * w + x1) * c;
    const p10 = (y1 * w + x0) * c;
    const p11 = (y1 * w + x1) * c;
    for (let k = 0; k < c; k++) {
      out[at + k]! += a * map[p00 + k]! + b * map[p01 + k]! + d * map[p10 + k]! + e * map[p11 + k]!;
    }
  };
  const rest = 1 - fraction;
  return CORNERS.map(([cx, cy]) => {
    const out = new Float32Array(h * w * c);
    for (let i = 0; i < h; i++) {
      const y = h * rest * cy + fraction * (i + 0.5) - 0.5;
      for (let j = 0; j < w; j++) {
        const at = (i * w + j) * c;
        sample(own, y, w * rest * cx + fraction * (j + 0.5) - 0.5, out, at);
        sample(mirror, y, w * rest * (1 - cx) + fraction * (j + 0.5) - 0.5, out, at);
      }
    }
    return out;
  });
}

/**
 * Ridge regression of targets on features (with a bias that is not penalised): the (dim + 1) x out matrix, row
 * major, whose last row is the bias. Normal equations in double precision, solved by Cholesky.
 */
export function fitRidge(
  features: readonly Float32Array[],
  targets: readonly Float32Array[],
  lambda: number,
): Float32Array {
  if (features.length === 0 || features.length !== targets.length) {
    throw new DoppelError('invalid-argument', 'Ridge regression needs as many targets as features, and at least one');
  }
  const d = features[0]!.length + 1;
  const m = targets[0]!.length;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d * m);
  const x = new Float64Array(d);
  for (let r = 0; r < features.length; r++) {
    const f = features[r]!;
    const t = targets[r]!;
    for (let i = 0; i < d - 1; i++) x[i] = f[i]!;
    x[d - 1] = 1;
    for (let i = 0; i < d; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const row = i * d;
      for (let j = i; j < d; j++) a[row + j]! += xi * x[j]!;
      const brow = i * m;
      for (let j = 0; j < m; j++) b[brow + j]! += xi * t[j]!;
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) a[i * d + j] = a[j * d + i]!;
  for (let i = 0; i < d - 1; i++) a[i * d + i]! += lambda;
  // Cholesky: a = L L^T, L in the lower triangle of a.
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j]!;
    for (let k = 0; k < j; k++) s -= a[j * d + k]! ** 2;
    if (!(s > 0)) throw new DoppelError('internal', 'Ridge regression: the normal equations are not positive definite');
    const l = Math.sqrt(s);
    a[j * d + j] = l;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j]!;
      for (let k = 0; k < j; k++) t -= a[i * d + k]! * a[j * d + k]!;
      a[i * d + j] = t / l;
    }
  }
  // Solve L y = b, then L^T w = y, for every column of b at once.
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < i; k++) {
      const l = a[i * d + k]!;
      if (l === 0) continue;
      for (let j = 0; j < m; j++) b[i * m + j]! -= l * b[k * m + j]!;
    }
    const l = a[i * d + i]!;
    for (let j = 0; j < m; j++) b[i * m + j]! /= l;
  }
  for (let i = d - 1; i >= 0; i--) {
    for (let k = i + 1; k < d; k++) {
      const l = a[k * d + i]!;
      if (l === 0) continue;
      for (let j = 0; j < m; j++) b[i * m + j]! -= l * b[k * m + j]!;
    }
    const l = a[i * d + i]!;
    for (let j = 0; j < m; j++) b[i * m + j]! /= l;
  }
  return Float32Array.from(b);
}

/** features x map (+ bias), in JavaScript (fitting and tests; the model applies it with TensorFlow.js). */
export function applyRidge(map: Float32Array, feature: Float32Array): Float32Array {
  const d = feature.length + 1;
  const m = map.length / d;
  const out = map.slice((d - 1) * m, d * m);
  for (let i = 0; i < d - 1; i++) {
    const f = feature[i]!;
    if (f === 0) continue;
    for (let j = 0; j < m; j++) out[j]! += f * map[i * m + j]!;
  }
  return out;
}

/** The fitted map of a model's folder, checked against its dimension; null when its card has none. */
export function readViewPredictor(dir: string, card: ModelCard): Float32Array | null {
  const info = card.cropViews?.predictor;
  if (!info) return null;
  const file = path.join(dir, info.file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new DoppelError('model', `The corner-view predictor of ${card.name} is missing (${file})`, { cause: err });
  }
  if (bytes.byteLength !== (card.dim + 1) * card.dim * 4) {
    throw new DoppelError('model', `The corner-view predictor ${file} has the wrong size for a ${card.dim}-d code`);
  }
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Writes a fitted map (float32, little-endian) for readViewPredictor. */
export function writeViewPredictor(dir: string, map: Float32Array): void {
  const tmp = path.join(dir, `${VIEW_PREDICTOR_FILE}.tmp`);
  fs.writeFileSync(tmp, new Uint8Array(map.buffer, map.byteOffset, map.byteLength));
  fs.renameSync(tmp, path.join(dir, VIEW_PREDICTOR_FILE));
}
