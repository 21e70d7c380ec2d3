// The verifier's descriptor matching: the same matches as OpenCV's brute-force matcher (k = 2, then Lowe's ratio
// test) on ORB descriptors of real photos and their edited copies, and exact Hamming distances at every extreme.
import fs from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { hamming, ratioMatches } from '../../src/core/duplicates/descriptor-match.js';
import { loadOpenCv, loadPicture, Verifier, type Features } from '../../src/core/duplicates/verify.js';
import { photos } from '../helpers.js';

const RATIO = 0.8;

/** The reference: OpenCV's BFMatcher (NORM_HAMMING) with its two nearest, kept by the ratio test. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the OpenCV.js module is untyped
function openCvMatches(cv: any, a: Features, b: Features): number[] {
  const toMat = (f: Features) =>
    cv.matFromArray(f.count, 32, cv.CV_8UC1, Array.from(new Uint8Array(f.descriptors.buffer, 0, f.count * 32)));
  const [ma, mb] = [toMat(a), toMat(b)];
  const matcher = new cv.BFMatcher(cv.NORM_HAMMING, false);
  const found = new cv.DMatchVectorVector();
  try {
    matcher.knnMatch(ma, mb, found, 2);
    const out: number[] = [];
    for (let i = 0; i < found.size(); i++) {
      const m = found.get(i);
      if (m.size() < 2) continue;
      const [first, second] = [m.get(0), m.get(1)];
      if (first.distance < RATIO * second.distance) out.push(first.queryIdx, first.trainIdx);
    }
    return out;
  } finally {
    found.delete();
    matcher.delete();
    ma.delete();
    mb.delete();
  }
}

describe('descriptor matching', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the OpenCV.js module is untyped
  let cv: any;
  let verifier: Verifier;
  const features: Features[] = [];

  beforeAll(async () => {
    ({ cv } = await loadOpenCv());
    verifier = new Verifier(cv);
    for (const file of photos('CBSD68', 4)) {
      const bytes = fs.readFileSync(file);
      // Each photo and two copies: re-encoded smaller, and cut to its top-left 70%.
      const meta = await sharp(bytes).metadata();
      const copies = [
        bytes,
        await sharp(bytes)
          .resize({ width: Math.round(meta.width! / 2) })
          .jpeg({ quality: 70 })
          .toBuffer(),
        await sharp(bytes)
          .extract({ left: 0, top: 0, width: Math.round(meta.width! * 0.7), height: Math.round(meta.height! * 0.7) })
          .toBuffer(),
      ];
      for (const c of copies) features.push(verifier.features(await loadPicture(c), false));
    }
  });

  it('finds the matches OpenCV finds, for copies and for different photos', () => {
    let pairs = 0;
    let copyMatches = 0;
    for (let i = 0; i < features.length; i++) {
      for (let j = 0; j < features.length; j++) {
        if (i === j) continue;
        const a = features[i]!;
        const b = features[j]!;
        const ours = ratioMatches(a.descriptors, a.count, b.descriptors, b.count, RATIO);
        expect(ours).toEqual(openCvMatches(cv, a, b));
        pairs++;
        if (Math.floor(i / 3) === Math.floor(j / 3)) copyMatches += ours.length / 2;
      }
    }
    expect(pairs).toBe(12 * 11);
    // Copies match many keypoints: the comparison above is not between empty lists.
    expect(copyMatches / (4 * 6)).toBeGreaterThan(50);
  });

  it('counts Hamming distances exactly, from 0 to all 256 bits', () => {
    const words = new Uint32Array(8 * 4);
    words.fill(0xffffffff, 8, 16); // descriptor 1: every bit set
    for (let w = 0; w < 8; w++) words[16 + w] = 0x80000001; // descriptor 2: 16 bits, the top and bottom of each word
    words.set([0xdeadbeef, 1, 2, 3, 0x7fffffff, 0, 0xffff0000, 42], 24); // descriptor 3
    const naive = (i: number, j: number) => {
      let d = 0;
      for (let w = 0; w < 8; w++)
        d += [...((words[i * 8 + w]! ^ words[j * 8 + w]!) >>> 0).toString(2)].filter((c) => c === '1').length;
      return d;
    };
    expect(hamming(words, 0, words, 1)).toBe(256);
    expect(hamming(words, 0, words, 0)).toBe(0);
    expect(hamming(words, 0, words, 2)).toBe(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(hamming(words, i, words, j)).toBe(naive(i, j));
  });

  it('drops a descriptor whose two nearest are equally near', () => {
    const b = new Uint32Array(8 * 2);
    b[0] = 0b1; // both one bit from the query
    b[8] = 0b10;
    const query = new Uint32Array(8);
    expect(ratioMatches(query, 1, b, 2, RATIO)).toEqual([]);
    b[8] = 0b111; // now three bits away: the first is kept
    expect(ratioMatches(query, 1, b, 2, RATIO)).toEqual([0, 0]);
  });
});
