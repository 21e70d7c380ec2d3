// The verifier's keypoints and matching: OpenCV.js loaded once, ORB features of a picture (or of its mirror
// image), and Lowe's ratio-test matches fitted with a RANSAC homography.
import nodeModule from 'node:module';
import { ratioMatches } from './descriptor-match.js';
import type { VerifyPicture } from './verify-picture.js';

/** ORB keypoints a picture. */
const FEATURES = 500;
/** Lowe's ratio test: a match is kept when its distance is under this share of the second best's. */
const RATIO = 0.8;
/** RANSAC reprojection error in pixels. */
const RANSAC_PX = 4;

// OpenCV.js has no TypeScript types of its own worth the dependency; the few calls used are wrapped below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Emscripten module's API is untyped
export type CV = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenCV.js object (Mat, KeyPointVector)
export type CvObject = any;

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

/** The ORB detector a verifier keeps (delete it when done). */
export function createOrb(cv: CV): CvObject {
  return new cv.ORB(FEATURES);
}

/** ORB keypoints and descriptors of a picture, or of its mirror image, with the grey Mat they came from. */
export function detectFeatures(cv: CV, orb: CvObject, p: VerifyPicture, mirrored: boolean): Features {
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
    orb.detectAndCompute(mat, none, kps, desc);
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

/** A RANSAC homography mapping a's points to b's (row-major 3 x 3), with its inlier count. */
export interface Fit {
  inliers: number;
  h: number[];
}

/**
 * Ratio-test matches of a's descriptors in b's, then a RANSAC homography mapping a's points to b's; no inliers
 * when fewer than `minMatches` matches are found, and null when either picture has too few keypoints.
 */
export function fitHomography(cv: CV, a: Features, b: Features, minMatches: number): Fit | null {
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
  if (n < minMatches) return { inliers: 0, h: [] };
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
