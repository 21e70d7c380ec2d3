// The verifier's dense placement: where one picture best fits inside the other, found by normalised
// cross-correlation over scales (for crops whose keypoints fitted no edit).
import type { CV, Features } from './verify-features.js';

/** Long side in px of the pictures the coarse search places on (refined at the thumbnails' size). */
const PLACE_SIDE = 96;
/** Shares of the larger picture's width the smaller may show when placed: 40% to all of it. */
const PLACE_FROM = 0.4;
const PLACE_STEP = 0.03;
/** A coarse placement scoring this much is refined at the thumbnails' size. */
const PLACE_REFINE = 0.8;

/**
 * Where `small` best fits inside `big`: the template score and the homography mapping big's thumbnail to small's,
 * searched over scales on PLACE_SIDE px pictures, then refined at the thumbnails' size around the best scale;
 * null when small never fits inside.
 */
export function placeInside(cv: CV, big: Features, small: Features): { score: number; h: number[] } | null {
  const coarse = placeAt(cv, big, small, PLACE_SIDE, PLACE_FROM, 1, PLACE_STEP);
  if (!coarse || coarse.score < PLACE_REFINE) return coarse;
  const f = coarse.share;
  return placeAt(cv, big, small, Math.max(big.width, big.height), f - PLACE_STEP, f + PLACE_STEP, PLACE_STEP / 6);
}

function placeAt(
  cv: CV,
  big: Features,
  small: Features,
  side: number,
  from: number,
  to: number,
  step: number,
): { score: number; share: number; h: number[] } | null {
  const k = side / Math.max(big.width, big.height);
  const bigS = new cv.Mat();
  if (k === 1) big.mat.copyTo(bigS);
  else
    cv.resize(big.mat, bigS, new cv.Size(Math.round(big.width * k), Math.round(big.height * k)), 0, 0, cv.INTER_AREA);
  const t = new cv.Mat();
  const out = new cv.Mat();
  let best: { score: number; share: number; h: number[] } | null = null;
  try {
    for (let f = from; f <= to + 1e-9; f += step) {
      const tw = Math.round(f * (bigS.cols as number));
      const th = Math.round((tw * small.height) / small.width);
      if (tw > bigS.cols || th > bigS.rows || tw < 16 || th < 16) continue;
      cv.resize(small.mat, t, new cv.Size(tw, th), 0, 0, cv.INTER_AREA);
      cv.matchTemplate(bigS, t, out, cv.TM_CCOEFF_NORMED);
      const { maxVal, maxLoc } = cv.minMaxLoc(out) as { maxVal: number; maxLoc: { x: number; y: number } };
      if (best && maxVal <= best.score) continue;
      // big's (x, y) -> ((x k - lx) sx, (y k - ly) sy) in small's thumbnail.
      const sx = small.width / tw;
      const sy = small.height / th;
      best = { score: maxVal, share: f, h: [k * sx, 0, -maxLoc.x * sx, 0, k * sy, -maxLoc.y * sy, 0, 0, 1] };
    }
    return best;
  } finally {
    bigS.delete();
    t.delete();
    out.delete();
  }
}
