// The duplicate verifier: decides whether two photos are the same picture (one an edited copy of the other) by
// comparing the pictures themselves, not their vectors. The vectors find candidates; this gives the precision.
//
// Method (chosen by measurement, docs/MODEL.md "Verifying duplicates"): ORB keypoints on the grey 256 px thumbnails
// (OpenCV compiled to WebAssembly, @techstark/opencv-js), matched with Lowe's ratio test against the other photo
// and against its mirror image, and a homography fitted with RANSAC. ORB is rotation- and scale-invariant, so one
// fit covers 90/180/270-degree turns, crops, resizes, borders and small rotations. Then the second photo is warped
// onto the first and the two are compared cell by cell (4 x 4 cells, normalised cross-correlation on blurred grey):
// a copy agrees almost everywhere (a caption bar spoils one row), while a different photo of the same scene (a
// burst shot, the same dog a minute later) may match many keypoints on its static background but disagrees where
// anything moved. What the fit says (mirrored, turned, cropped, bordered, greyscale, brighter) is kept with the
// verdict, for the user and for the keeper rules.
import nodeModule from 'node:module';
import sharp from 'sharp';
import { ratioMatches } from './descriptor-match.js';

/** Bumped when the method or its thresholds change: verdicts cached under an older version are made again. */
export const VERIFIER_VERSION = 5;

/** Longest side of the grey pictures compared (the cached thumbnails are 256 px). */
const SIDE = 256;
/** ORB keypoints a picture. */
const FEATURES = 500;
/** Lowe's ratio test: a match is kept when its distance is under this share of the second best's. */
const RATIO = 0.8;
/** RANSAC reprojection error in pixels. */
const RANSAC_PX = 4;
/**
 * A pair is the same picture when its homography has MIN_INLIERS inliers and MIN_AGREEMENT of the overlap's cells
 * agree, or FEW_INLIERS and FEW_AGREEMENT, and the fit is an edit people make (sameShape). Measured on the review
 * bench's development classes (docs/MODEL.md "Verifying duplicates"): copies have 25-460 inliers and agree in
 * 0.5-1 of the cells (a caption bar spoils a row: 0.75; the weakest, a mirrored copy, 0.5 at 86 inliers); other
 * shots of a scene (the same dog a moment later, a burst) reach 73 inliers with 0.69, or 40 with 0.56.
 */
export const MIN_INLIERS = 80;
export const MIN_AGREEMENT = 0.5;
export const FEW_INLIERS = 12;
export const FEW_AGREEMENT = 0.75;
/**
 * Degrees a copy may be turned past a quarter turn: a straightened horizon is a few degrees; other shots of a
 * scene fit at 16 and 20.
 */
export const MAX_TILT = 10;
/** Below this tilt the outline is square to the picture, as a border added to a picture is. */
export const SQUARE_TILT = 2;
/**
 * One of the two shows (nearly) all of the other: a crop lies inside its original, an original inside its bordered
 * copy. Two shots panned across a scene each show something the other lacks.
 */
export const CONTAINED = 0.85;
/**
 * A crop placed by dense matching (placeCrop): the template score it needs (normalised cross-correlation of the
 * smaller picture, scaled, over the larger: first on grey pictures PLACE_SIDE px long, then refined at the
 * thumbnails' size), and then nearly every cell must agree, with one picture inside the other (CROP_INSIDE): the
 * keypoints matched without fitting an edit, so the pictures must say more. Measured (docs/MODEL.md "Verifying
 * duplicates"): 65-75% corner crops of 478 photos the thresholds were not tuned on placed at 0.957-0.999; of the
 * review bench's 304 distinct pairs with 12+ inliers, three placed above 0.93 and none had nine in ten cells agreeing.
 */
export const CROP_MATCH = 0.93;
export const CROP_AGREEMENT = 0.9;
export const CROP_INSIDE = 0.95;
const PLACE_SIDE = 96;
/** Shares of the larger picture's width the smaller may show when placed: 40% to all of it. */
const PLACE_FROM = 0.4;
const PLACE_STEP = 0.03;
/** A coarse placement scoring this much is refined at the thumbnails' size. */
const PLACE_REFINE = 0.8;
const GRID = 4;
/** Gaussian blur (px at 256 px) before the cells are compared: forgives resampling and a pixel of misfit. */
const BLUR = 2;
const CELL_NCC = 0.8;
/** Pixels the overlap loses at its edge (about two blur sigmas), where blur mixes in what lies outside it. */
const EDGE = 4;

/** What the verifier measured for a pair (a, b): how b relates to a. */
export interface PairMeasure {
  same: boolean;
  inliers: number;
  /**
   * The fit came from placing one picture inside the other by dense matching (a crop whose keypoints fitted no
   * edit), not from keypoints; absent in measures made before it existed.
   */
  placed?: boolean;
  /** Share of the overlap's cells where the aligned pictures agree. */
  agreement: number;
  /** b is a mirror image of a. */
  mirrored: boolean;
  /** Degrees b is turned against a (clockwise, -180..180]. */
  rotation: number;
  /** Share of a's area that b shows. */
  shownOfA: number;
  /** Share of b's area that shows a (the rest is border, or picture that a lacks). */
  shownOfB: number;
  /** The part of b that does not show a is uniform (a border), when shownOfB is low. */
  borderB: boolean;
  /** The part of a that b does not show is uniform (a's border), when shownOfA is low. */
  borderA: boolean;
  /** Pixels of b's thumbnail per pixel of a's at a's centre (thumbnails are SIDE px on their long side). */
  scale: number;
  /** Mean grey of b over a's mean grey, over the overlap. */
  brightness: number;
  /** Colourfulness (Hasler and Süsstrunk) of each; under ~4 is greyscale; UNMEASURED for pairs that do not fit. */
  colourA: number;
  colourB: number;
  /** Cells that disagree all lie in the top or bottom row: text or a bar over one of them. */
  overlay: boolean;
}

/** A decoded picture: grey pixels for the features, and its colourfulness when asked for (decoded then, once). */
export interface VerifyPicture {
  grey: Uint8Array;
  width: number;
  height: number;
  colour: () => Promise<number>;
}

/** colourA and colourB of a pair whose pictures did not fit each other: their colours were not measured. */
export const UNMEASURED = -1;

/**
 * Reads a thumbnail (any format sharp reads) into what the verifier compares. The colour pipeline runs only for
 * pictures in a pair that fits (verifyPair): most candidate pairs do not, and it is half the decoding time.
 */
export async function loadPicture(bytes: Uint8Array): Promise<VerifyPicture> {
  const base = sharp(bytes, { failOn: 'none' }).resize(SIDE, SIDE, { fit: 'inside', withoutEnlargement: false });
  const { data: grey, info } = await base.clone().greyscale().raw().toBuffer({ resolveWithObject: true });
  let colour: Promise<number> | null = null;
  return {
    grey: new Uint8Array(grey.buffer, grey.byteOffset, info.width * info.height),
    width: info.width,
    height: info.height,
    colour: () =>
      (colour ??= base
        .clone()
        .resize(64, 64, { fit: 'inside' })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true })
        .then(({ data, info: rgb }) => colourfulness(data, rgb.channels))),
  };
}

/** Hasler and Süsstrunk's colourfulness of packed pixels: 0 for greyscale, ~15 for muted, 40+ for colourful photos. */
export function colourfulness(px: Uint8Array, channels: number): number {
  if (channels < 3) return 0;
  let n = 0;
  let sRg = 0;
  let sYb = 0;
  let qRg = 0;
  let qYb = 0;
  for (let i = 0; i + 2 < px.length; i += channels) {
    const rg = px[i]! - px[i + 1]!;
    const yb = 0.5 * (px[i]! + px[i + 1]!) - px[i + 2]!;
    sRg += rg;
    sYb += yb;
    qRg += rg * rg;
    qYb += yb * yb;
    n++;
  }
  if (n === 0) return 0;
  const mRg = sRg / n;
  const mYb = sYb / n;
  const sdRg = Math.sqrt(Math.max(0, qRg / n - mRg * mRg));
  const sdYb = Math.sqrt(Math.max(0, qYb / n - mYb * mYb));
  return Math.hypot(sdRg, sdYb) + 0.3 * Math.hypot(mRg, mYb);
}

// OpenCV.js has no TypeScript types of its own worth the dependency; the few calls used are wrapped below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Emscripten module's API is untyped
type CV = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenCV.js object (Mat, KeyPointVector)
type CvObject = any;

let loading: Promise<{ cv: CV }> | null = null;

/** Loads OpenCV.js once (about 0.5 s). Resolves to a box: the module itself is a thenable that never settles. */
export function loadOpenCv(): Promise<{ cv: CV }> {
  loading ??= new Promise((resolve, reject) => {
    try {
      const cv = nodeModule.createRequire(import.meta.url)('@techstark/opencv-js') as CV;
      if (cv.Mat) resolve({ cv });
      else cv.onRuntimeInitialized = () => resolve({ cv });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
  return loading;
}

/** Keypoints and descriptors of a picture (or of its mirror image), with the grey Mat they came from. */
export interface Features {
  keypoints: { x: number; y: number }[];
  descriptors: Uint32Array;
  count: number;
  mat: CvObject;
  width: number;
  height: number;
}

/** A verifier bound to a loaded OpenCV; keeps nothing between pairs but what the caller passes in. */
export class Verifier {
  private readonly orb: CvObject;

  constructor(private readonly cv: CV) {
    this.orb = new cv.ORB(FEATURES);
  }

  features(p: VerifyPicture, mirrored: boolean): Features {
    const cv = this.cv;
    const src = cv.matFromArray(p.height, p.width, cv.CV_8UC1, p.grey);
    let mat = src;
    if (mirrored) {
      mat = new cv.Mat();
      cv.flip(src, mat, 1);
      src.delete();
    }
    const kps = new cv.KeyPointVector();
    const desc = new cv.Mat();
    const none = new cv.Mat();
    try {
      this.orb.detectAndCompute(mat, none, kps, desc);
      const count = desc.rows as number;
      const keypoints: { x: number; y: number }[] = [];
      for (let i = 0; i < count; i++) {
        const pt = kps.get(i).pt as { x: number; y: number };
        keypoints.push({ x: pt.x, y: pt.y });
      }
      const bytes = new Uint8Array(count * 32);
      if (count > 0) bytes.set((desc.data as Uint8Array).subarray(0, count * 32));
      return { keypoints, descriptors: new Uint32Array(bytes.buffer), count, mat, width: p.width, height: p.height };
    } finally {
      kps.delete();
      desc.delete();
      none.delete();
    }
  }

  free(f: Features): void {
    f.mat.delete();
  }

  /**
   * Compares a with b (features of b and of its mirror image; the mirror's made only when needed), with both
   * pictures' colourfulness when they fit each other (FEW_INLIERS or more), else UNMEASURED.
   */
  async verifyPair(
    a: { picture: VerifyPicture; features: Features },
    b: { picture: VerifyPicture; features: Features; mirror: () => Features },
  ): Promise<PairMeasure> {
    const m = this.compare(a, b);
    if (m.inliers < FEW_INLIERS) return m;
    return { ...m, colourA: await a.picture.colour(), colourB: await b.picture.colour() };
  }

  /** compare without the colours (UNMEASURED). */
  compare(
    a: { picture: VerifyPicture; features: Features },
    b: { picture: VerifyPicture; features: Features; mirror: () => Features },
  ): PairMeasure {
    const straight = this.measure(a, b.picture, b.features, false);
    if (straight.same) return straight;
    // A symmetric picture can fit its mirror image the wrong way round: try the mirror whenever the first fails.
    const mirrored = this.measure(a, b.picture, b.mirror(), true);
    if (mirrored.same) return mirrored;
    const best = mirrored.inliers > straight.inliers ? mirrored : straight;
    if (best.inliers < FEW_INLIERS) return best;
    // The keypoints matched but fitted no edit (a repeated texture can pull a crop's fit to a wrong turn): try
    // placing one picture inside the other. Only for pairs that matched: most candidates do not, and it costs more.
    const placed = this.placeCrop(a.features, b.features, best.inliers);
    return placed?.same ? placed : best;
  }

  /**
   * b as a crop of a, or a as a crop of b, placed by normalised cross-correlation over scales (untilted, not
   * mirrored), then judged as a keypoint fit is but more strictly (CROP_MATCH, CROP_AGREEMENT, CROP_INSIDE).
   */
  private placeCrop(a: Features, b: Features, inliers: number): PairMeasure | null {
    const inB = this.placeInside(a, b);
    const inA = this.placeInside(b, a);
    let h: number[] | null = null;
    if (inB && (!inA || inB.score >= inA.score)) h = inB.score >= CROP_MATCH ? inB.h : null;
    else if (inA && inA.score >= CROP_MATCH) h = invert(inA.h);
    if (!h) return null;
    const geometry = describeHomography(h, a, b);
    if (!geometry) return null;
    const look = this.agreement(a, b, h);
    const inside = Math.max(geometry.shownOfA, geometry.shownOfB) >= CROP_INSIDE;
    return {
      same: look.agreement >= CROP_AGREEMENT && inside && sameShape(geometry, 0),
      inliers,
      placed: true,
      agreement: look.agreement,
      mirrored: false,
      ...geometry,
      borderA: false,
      borderB: false,
      brightness: look.brightness,
      colourA: UNMEASURED,
      colourB: UNMEASURED,
      overlay: look.overlay,
    };
  }

  /**
   * Where `small` best fits inside `big`: the template score and the homography mapping big's thumbnail to small's,
   * searched over scales on PLACE_SIDE px pictures, then refined at the thumbnails' size around the best scale;
   * null when small never fits inside.
   */
  private placeInside(big: Features, small: Features): { score: number; h: number[] } | null {
    const coarse = this.placeAt(big, small, PLACE_SIDE, PLACE_FROM, 1, PLACE_STEP);
    if (!coarse || coarse.score < PLACE_REFINE) return coarse;
    const f = coarse.share;
    return this.placeAt(big, small, Math.max(big.width, big.height), f - PLACE_STEP, f + PLACE_STEP, PLACE_STEP / 6);
  }

  private placeAt(
    big: Features,
    small: Features,
    side: number,
    from: number,
    to: number,
    step: number,
  ): { score: number; share: number; h: number[] } | null {
    const cv = this.cv;
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

  private measure(
    a: { picture: VerifyPicture; features: Features },
    picture: VerifyPicture,
    target: Features,
    mirrored: boolean,
  ): PairMeasure {
    const best = this.fit(a.features, target);
    const base: PairMeasure = {
      same: false,
      inliers: best?.inliers ?? 0,
      agreement: 0,
      mirrored,
      rotation: 0,
      shownOfA: 0,
      shownOfB: 0,
      borderA: false,
      borderB: false,
      scale: 1,
      brightness: 1,
      colourA: UNMEASURED,
      colourB: UNMEASURED,
      overlay: false,
    };
    if (!best || best.inliers < FEW_INLIERS) return base;
    const h = best.h;
    const geometry = describeHomography(h, a.features, target);
    if (!geometry) return base;
    const tilt = Math.abs(quarterTurn(geometry.rotation).rest);
    const square = tilt < SQUARE_TILT;
    const look = this.agreement(a.features, target, h);
    const measure: PairMeasure = {
      ...base,
      ...geometry,
      agreement: look.agreement,
      brightness: look.brightness,
      overlay: look.overlay,
      // A border is added square to the picture: a turned copy's outline leaves corners, which may be uniform sky.
      borderA: geometry.shownOfA < 0.92 && square && uniformOutside(a.features, target, h, 'a'),
      borderB: geometry.shownOfB < 0.92 && square && uniformOutside(a.features, target, h, 'b'),
    };
    // The mirror image was matched: b's rotation is measured on its mirror, so mirror it back.
    if (mirrored) measure.rotation = normaliseAngle(-measure.rotation);
    // Few inliers fit a homography less surely: then the pictures must agree more.
    const agreement = best.inliers >= MIN_INLIERS ? MIN_AGREEMENT : FEW_AGREEMENT;
    measure.same = look.agreement >= agreement && sameShape(geometry, tilt);
    return measure;
  }

  /** Ratio-test matches of a's descriptors in b's, then a RANSAC homography mapping a's points to b's. */
  private fit(a: Features, b: Features): Fit | null {
    if (a.count < 8 || b.count < 8) return null;
    const pairs = ratioMatches(a.descriptors, a.count, b.descriptors, b.count, RATIO);
    const src: number[] = [];
    const dst: number[] = [];
    for (let k = 0; k < pairs.length; k += 2) {
      const pa = a.keypoints[pairs[k]!]!;
      const pb = b.keypoints[pairs[k + 1]!]!;
      src.push(pa.x, pa.y);
      dst.push(pb.x, pb.y);
    }
    const n = src.length / 2;
    if (n < FEW_INLIERS) return { inliers: 0, h: [] };
    const cv = this.cv;
    const s = cv.matFromArray(n, 1, cv.CV_32FC2, src);
    const d = cv.matFromArray(n, 1, cv.CV_32FC2, dst);
    const mask = new cv.Mat();
    const hm = cv.findHomography(s, d, cv.RANSAC, RANSAC_PX, mask);
    try {
      if (hm.rows !== 3) return { inliers: 0, h: [] };
      const flags = mask.data as Uint8Array;
      let inliers = 0;
      for (let i = 0; i < n; i++) if (flags[i]) inliers++;
      return { inliers, h: Array.from(hm.data64F as Float64Array) };
    } finally {
      s.delete();
      d.delete();
      mask.delete();
      hm.delete();
    }
  }

  /** b warped onto a: the share of 4 x 4 cells of the overlap that agree, and the brightness ratio. */
  private agreement(
    a: Features,
    b: Features,
    h: readonly number[],
  ): { agreement: number; brightness: number; overlay: boolean } {
    const cv = this.cv;
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

  close(): void {
    this.orb.delete();
  }
}

interface Fit {
  inliers: number;
  h: number[];
}

/**
 * Whether a fit is an edit people make: each picture shows over a fifth of the other, one shows (nearly) all of the
 * other (CONTAINED), and the turn is a quarter turn give or take MAX_TILT degrees.
 */
export function sameShape(g: { shownOfA: number; shownOfB: number }, tilt: number): boolean {
  return Math.min(g.shownOfA, g.shownOfB) > 0.2 && Math.max(g.shownOfA, g.shownOfB) >= CONTAINED && tilt <= MAX_TILT;
}

/** The quarter turn nearest a rotation (0, 90, 180 or 270) and what is left of it (degrees). */
export function quarterTurn(deg: number): { turn: number; rest: number } {
  const q = Math.round(deg / 90) * 90;
  return { turn: ((q % 360) + 360) % 360, rest: deg - q };
}

const normaliseAngle = (deg: number): number => {
  let d = deg % 360;
  if (d <= -180) d += 360;
  if (d > 180) d -= 360;
  return d;
};

const apply = (h: readonly number[], x: number, y: number): [number, number] => {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
};

function invert(h: readonly number[]): number[] | null {
  const [a, b, c, d, e, f, g, i, j] = h as [number, number, number, number, number, number, number, number, number];
  const det = a * (e * j - f * i) - b * (d * j - f * g) + c * (d * i - e * g);
  if (Math.abs(det) < 1e-12) return null;
  return [
    (e * j - f * i) / det,
    (c * i - b * j) / det,
    (b * f - c * e) / det,
    (f * g - d * j) / det,
    (a * j - c * g) / det,
    (c * d - a * f) / det,
    (d * i - e * g) / det,
    (b * g - a * i) / det,
    (a * e - b * d) / det,
  ];
}

/** Area of a polygon clipped to the rectangle [0, w] x [0, h] (Sutherland-Hodgman), over the rectangle's area. */
function coveredShare(poly: [number, number][], w: number, h: number): number {
  const clip = (
    pts: [number, number][],
    inside: (p: [number, number]) => boolean,
    cut: (p: [number, number], q: [number, number]) => [number, number],
  ) => {
    const out: [number, number][] = [];
    for (let i = 0; i < pts.length; i++) {
      const p = pts[i]!;
      const q = pts[(i + 1) % pts.length]!;
      if (inside(q)) {
        if (!inside(p)) out.push(cut(p, q));
        out.push(q);
      } else if (inside(p)) out.push(cut(p, q));
    }
    return out;
  };
  const atX =
    (x: number) =>
    (p: [number, number], q: [number, number]): [number, number] => [
      x,
      p[1] + ((q[1] - p[1]) * (x - p[0])) / (q[0] - p[0]),
    ];
  const atY =
    (y: number) =>
    (p: [number, number], q: [number, number]): [number, number] => [
      p[0] + ((q[0] - p[0]) * (y - p[1])) / (q[1] - p[1]),
      y,
    ];
  let pts = poly;
  pts = clip(pts, (p) => p[0] >= 0, atX(0));
  pts = clip(pts, (p) => p[0] <= w, atX(w));
  pts = clip(pts, (p) => p[1] >= 0, atY(0));
  pts = clip(pts, (p) => p[1] <= h, atY(h));
  let area = 0;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    const q = pts[(i + 1) % pts.length]!;
    area += p[0] * q[1] - q[0] * p[1];
  }
  return Math.abs(area) / 2 / (w * h);
}

/** Rotation and overlap of a homography mapping a to b, or null when it is no plausible edit (folded, skewed). */
function describeHomography(
  h: readonly number[],
  a: { width: number; height: number },
  b: { width: number; height: number },
): { rotation: number; scale: number; shownOfA: number; shownOfB: number } | null {
  const inv = invert(h);
  if (!inv) return null;
  // The linear part at a's centre: its determinant must be positive (no fold) and its scales alike up to a squash.
  const [cx, cy] = [a.width / 2, a.height / 2];
  const p0 = apply(h, cx, cy);
  const px = apply(h, cx + 1, cy);
  const py = apply(h, cx, cy + 1);
  const j = [px[0] - p0[0], py[0] - p0[0], px[1] - p0[1], py[1] - p0[1]] as const;
  const det = j[0] * j[3] - j[1] * j[2];
  if (!(det > 0)) return null;
  const sx = Math.hypot(j[0], j[2]);
  const sy = Math.hypot(j[1], j[3]);
  if (Math.min(sx, sy) / Math.max(sx, sy) < 0.45 || Math.sqrt(det) < 1 / 8 || Math.sqrt(det) > 8) return null;
  // Shear: the images of the axes must stay about perpendicular.
  const cos = (j[0] * j[1] + j[2] * j[3]) / (sx * sy);
  if (Math.abs(cos) > 0.3) return null;
  const corners = (w: number, hh: number): [number, number][] => [
    [0, 0],
    [w, 0],
    [w, hh],
    [0, hh],
  ];
  const aInB = corners(a.width, a.height).map(([x, y]) => apply(h, x, y));
  const bInA = corners(b.width, b.height).map(([x, y]) => apply(inv, x, y));
  if ([...aInB, ...bInA].some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y))) return null;
  return {
    rotation: normaliseAngle((Math.atan2(j[2], j[0]) * 180) / Math.PI),
    scale: Math.sqrt(det),
    shownOfA: coveredShare(bInA, a.width, a.height),
    shownOfB: coveredShare(aInB, b.width, b.height),
  };
}

/** Whether the part of one picture outside the other's outline is uniform (a border rather than more picture). */
function uniformOutside(a: Features, b: Features, h: readonly number[], side: 'a' | 'b'): boolean {
  const inv = invert(h);
  if (!inv) return false;
  const [pic, other, toOther] = side === 'b' ? [b, a, inv] : [a, b, h];
  const data = pic.mat.data as Uint8Array;
  const histogram = new Uint32Array(256);
  let n = 0;
  for (let y = 0; y < pic.height; y += 2) {
    for (let x = 0; x < pic.width; x += 2) {
      const [ox, oy] = apply(toOther, x, y);
      // A few pixels off the outline, where resampling and JPEG blur the edge.
      if (ox >= -4 && oy >= -4 && ox < other.width + 4 && oy < other.height + 4) continue;
      histogram[data[y * pic.width + x]!]!++;
      n++;
    }
  }
  if (n < 20) return false;
  // Uniform: nine in ten of those pixels within 12 levels of the commonest level.
  const mode = histogram.indexOf(Math.max(...histogram));
  let near = 0;
  for (let v = Math.max(0, mode - 12); v <= Math.min(255, mode + 12); v++) near += histogram[v]!;
  return near >= 0.9 * n;
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
