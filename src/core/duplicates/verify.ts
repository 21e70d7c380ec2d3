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
//
// The steps live beside this file: verify-picture.ts (the grey thumbnails), verify-features.ts (ORB keypoints,
// matching, the RANSAC fit), verify-geometry.ts (what a fit describes), verify-cells.ts (the cell comparison) and
// verify-placement.ts (placing a crop by dense matching); the Verifier below runs them and judges.
import { warpedAgreement } from './verify-cells.js';
import { createOrb, detectFeatures, fitHomography, type CV, type CvObject, type Features } from './verify-features.js';
import { describeHomography, invert, normaliseAngle, quarterTurn, uniformOutside } from './verify-geometry.js';
import type { VerifyPicture } from './verify-picture.js';
import { placeInside } from './verify-placement.js';

export { cellAgreement } from './verify-cells.js';
export { loadOpenCv, type Features } from './verify-features.js';
export { quarterTurn } from './verify-geometry.js';
export { colourfulness, loadPicture, type VerifyPicture } from './verify-picture.js';

/** Bumped when the method or its thresholds change: verdicts cached under an older version are made again. */
export const VERIFIER_VERSION = 5;

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
  /** Pixels of b's thumbnail per pixel of a's at a's centre (thumbnails are 256 px on their long side). */
  scale: number;
  /** Mean grey of b over a's mean grey, over the overlap. */
  brightness: number;
  /** Colourfulness (Hasler and Süsstrunk) of each; under ~4 is greyscale; UNMEASURED for pairs that do not fit. */
  colourA: number;
  colourB: number;
  /** Cells that disagree all lie in the top or bottom row: text or a bar over one of them. */
  overlay: boolean;
}

/** colourA and colourB of a pair whose pictures did not fit each other: their colours were not measured. */
export const UNMEASURED = -1;

/** A verifier bound to a loaded OpenCV; keeps nothing between pairs but what the caller passes in. */
export class Verifier {
  private readonly orb: CvObject;

  constructor(private readonly cv: CV) {
    this.orb = createOrb(cv);
  }

  features(p: VerifyPicture, mirrored: boolean): Features {
    return detectFeatures(this.cv, this.orb, p, mirrored);
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
    const inB = placeInside(this.cv, a, b);
    const inA = placeInside(this.cv, b, a);
    let h: number[] | null = null;
    if (inB && (!inA || inB.score >= inA.score)) h = inB.score >= CROP_MATCH ? inB.h : null;
    else if (inA && inA.score >= CROP_MATCH) h = invert(inA.h);
    if (!h) return null;
    const geometry = describeHomography(h, a, b);
    if (!geometry) return null;
    const look = warpedAgreement(this.cv, a, b, h);
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

  private measure(
    a: { picture: VerifyPicture; features: Features },
    picture: VerifyPicture,
    target: Features,
    mirrored: boolean,
  ): PairMeasure {
    const best = fitHomography(this.cv, a.features, target, FEW_INLIERS);
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
    const look = warpedAgreement(this.cv, a.features, target, h);
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

  close(): void {
    this.orb.delete();
  }
}

/**
 * Whether a fit is an edit people make: each picture shows over a fifth of the other, one shows (nearly) all of the
 * other (CONTAINED), and the turn is a quarter turn give or take MAX_TILT degrees.
 */
export function sameShape(g: { shownOfA: number; shownOfB: number }, tilt: number): boolean {
  return Math.min(g.shownOfA, g.shownOfB) > 0.2 && Math.max(g.shownOfA, g.shownOfB) >= CONTAINED && tilt <= MAX_TILT;
}
