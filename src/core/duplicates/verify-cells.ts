// The verifier's cell comparison: the second picture warped onto the first, both blurred, and the overlap's 4 x 4
// cells compared by normalised cross-correlation.
import type { CV, Features } from './verify-features.js';

const GRID = 4;
/** Gaussian blur (px at 256 px) before the cells are compared: forgives resampling and a pixel of misfit. */
const BLUR = 2;
const CELL_NCC = 0.8;
/** Pixels the overlap loses at its edge (about two blur sigmas), where blur mixes in what lies outside it. */
const EDGE = 4;

/** b warped onto a: the share of 4 x 4 cells of the overlap that agree, and the brightness ratio. */
export function warpedAgreement(
  cv: CV,
  a: Features,
  b: Features,
  h: readonly number[],
): { agreement: number; brightness: number; overlay: boolean } {
  const hm = cv.matFromArray(3, 3, cv.CV_64F, h);
  const warped = new cv.Mat();
  const ones = new cv.Mat(b.height, b.width, cv.CV_8UC1, new cv.Scalar(255));
  const valid = new cv.Mat();
  const blurA = new cv.Mat();
  const blurB = new cv.Mat();
  const kernel = cv.Mat.ones(2 * EDGE + 1, 2 * EDGE + 1, cv.CV_8U);
  try {
    const size = new cv.Size(a.width, a.height);
    const inverse = cv.WARP_INVERSE_MAP;
    // When b shows a smaller than a is, b's pixels are coarser: blur a to match before comparing.
    const scale = Math.sqrt(Math.abs(h[0]! * h[4]! - h[1]! * h[3]!));
    const sigmaA = BLUR * Math.max(1, 1 / Math.max(scale, 0.05));
    const odd = (s: number) => 2 * Math.ceil(2.5 * s) + 1;
    cv.GaussianBlur(a.mat, blurA, new cv.Size(odd(sigmaA), odd(sigmaA)), sigmaA);
    // b is blurred before it is warped, so nothing outside it (the warp's black fill) bleeds into its edge;
    // the overlap then loses a few pixels at its edge, where a's own blur mixes in what lies outside b (a
    // border, or picture that b lacks).
    cv.GaussianBlur(b.mat, blurB, new cv.Size(odd(BLUR), odd(BLUR)), BLUR);
    cv.warpPerspective(blurB, warped, hm, size, cv.INTER_LINEAR | inverse, cv.BORDER_CONSTANT, new cv.Scalar(0));
    cv.warpPerspective(ones, valid, hm, size, cv.INTER_NEAREST | inverse, cv.BORDER_CONSTANT, new cv.Scalar(0));
    cv.erode(valid, valid, kernel);
    return cellAgreement(blurA.data as Uint8Array, warped.data as Uint8Array, valid.data as Uint8Array, a.width);
  } finally {
    hm.delete();
    warped.delete();
    ones.delete();
    valid.delete();
    blurA.delete();
    blurB.delete();
    kernel.delete();
  }
}

/** Pixels each cell may shift to fit (a homography from keypoints is off by a pixel or two in places). */
const SHIFT = 2;

/**
 * Cell-by-cell normalised cross-correlation of two aligned grey pictures over the valid mask, each cell at its best
 * shift of up to SHIFT pixels.
 */
export function cellAgreement(
  a: Uint8Array,
  b: Uint8Array,
  valid: Uint8Array,
  width: number,
): { agreement: number; brightness: number; overlay: boolean } {
  const height = a.length / width;
  let meanA = 0;
  let meanB = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (valid[i] !== 255) continue;
    meanA += a[i]!;
    meanB += b[i]!;
    n++;
  }
  let counted = 0;
  let good = 0;
  const badRows = new Set<number>();
  for (let cy = 0; cy < GRID; cy++) {
    const y0 = Math.floor((cy * height) / GRID);
    const y1 = Math.floor(((cy + 1) * height) / GRID);
    for (let cx = 0; cx < GRID; cx++) {
      const x0 = Math.floor((cx * width) / GRID);
      const x1 = Math.floor(((cx + 1) * width) / GRID);
      let best = -Infinity;
      let pixels = 0;
      for (let dy = -SHIFT; dy <= SHIFT; dy++) {
        for (let dx = -SHIFT; dx <= SHIFT; dx++) {
          let m = 0;
          let sa = 0;
          let sb = 0;
          let qa = 0;
          let qb = 0;
          let ab = 0;
          for (let y = Math.max(y0, -dy); y < Math.min(y1, height - dy); y++) {
            const row = y * width;
            const rowB = (y + dy) * width + dx;
            for (let x = Math.max(x0, -dx); x < Math.min(x1, width - dx); x++) {
              const j = rowB + x;
              if (valid[row + x] !== 255 || valid[j] !== 255) continue;
              const va = a[row + x]!;
              const vb = b[j]!;
              m++;
              sa += va;
              sb += vb;
              qa += va * va;
              qb += vb * vb;
              ab += va * vb;
            }
          }
          if (m < 30) continue;
          pixels = m;
          const ma = sa / m;
          const mb = sb / m;
          const varA = qa / m - ma * ma;
          const varB = qb / m - mb * mb;
          // Flat in both (sky, a wall): they agree when their levels are alike (brightness edits move levels a little).
          const r =
            varA < 4 && varB < 4
              ? Math.abs(ma - mb) < 12 + 0.3 * Math.max(ma, mb)
                ? 1
                : 0
              : (ab / m - ma * mb) / Math.sqrt(Math.max(varA * varB, 1e-9));
          if (r > best) best = r;
        }
      }
      if (pixels === 0) continue;
      counted++;
      if (best >= CELL_NCC) good++;
      else badRows.add(cy);
    }
  }
  const overlay = badRows.size === 1 && (badRows.has(0) || badRows.has(GRID - 1));
  return {
    agreement: counted === 0 ? 0 : good / counted,
    brightness: n === 0 || meanA === 0 ? 1 : meanB / meanA,
    overlay,
  };
}
