// The verifier's shape rules on the figures the review bench measured (docs/MODEL.md "Verifying duplicates"): a
// crop lies inside its original, two panned shots do not; a crop never holds more pixels than its original had.
import { describe, expect, it } from 'vitest';
import {
  byNeighbourhood,
  describe as describePair,
  gainsPixels,
  swapMeasure,
} from '../../src/core/duplicates/verification.js';
import { sameShape, type PairMeasure } from '../../src/core/duplicates/verify.js';

const measure = (m: Partial<PairMeasure>): PairMeasure => ({
  same: true,
  inliers: 100,
  agreement: 1,
  mirrored: false,
  rotation: 0,
  shownOfA: 1,
  shownOfB: 1,
  borderA: false,
  borderB: false,
  scale: 1,
  brightness: 1,
  colourA: 40,
  colourB: 40,
  overlay: false,
  ...m,
});
const file = (width: number, height: number, format = 'jpeg', size = 50_000) => ({ width, height, format, size });

describe('what an edit can do', () => {
  it('takes a crop inside its original and a bordered copy around it, not two shots panned across a scene', () => {
    expect(sameShape({ shownOfA: 0.49, shownOfB: 1 }, 0)).toBe(true); // a 70% corner crop
    expect(sameShape({ shownOfA: 1, shownOfB: 0.69 }, 0)).toBe(true); // a 10% border added
    expect(sameShape({ shownOfA: 0.84, shownOfB: 0.51 }, 6.5)).toBe(false); // two horn sections, panned
    expect(sameShape({ shownOfA: 0.18, shownOfB: 1 }, 0)).toBe(false); // a patch of texture
  });

  it('allows a straightened horizon, not a scene shot at another angle', () => {
    expect(sameShape({ shownOfA: 0.77, shownOfB: 1 }, 8)).toBe(true);
    expect(sameShape({ shownOfA: 0.42, shownOfB: 0.99 }, 16.4)).toBe(false);
  });

  it('calls a crop with more pixels than its original has there another shot, whichever photo comes first', () => {
    // A zoomed frame of a fixed camera: b shows a third of a at 1.83x a's pixels (both 224 px files).
    const zoomed = measure({ shownOfA: 0.32, shownOfB: 1, scale: 1.83 });
    expect(gainsPixels(zoomed, file(298, 224), file(298, 224))).toBe(true);
    expect(gainsPixels(swapMeasure(zoomed), file(298, 224), file(298, 224))).toBe(true);
    expect(describePair(zoomed, file(298, 224), file(298, 224)).same).toBe(false);
    // A centred 80% crop saved at its own size: its thumbnail spans 1/0.8 of a's per pixel, its file 0.8 of a's.
    const crop = measure({ shownOfA: 0.64, shownOfB: 1, scale: 1.25 });
    expect(gainsPixels(crop, file(320, 240), file(256, 192))).toBe(false);
    expect(describePair(crop, file(320, 240), file(256, 192))).toMatchObject({ same: true, derived: 'b' });
    expect(describePair(crop, file(320, 240), file(256, 192)).edits).toContain('cropped to 80%');
  });

  it('names the format a copy was saved in as people know it', () => {
    const said = (format: string) => describePair(measure({}), file(320, 240), file(320, 240, format)).edits;
    expect(said('png')).toContain('saved as PNG');
    expect(said('webp')).toContain('saved as WebP');
    expect(said('jxl')).toContain('saved as JPEG XL');
    expect(said('pnm')).toContain('saved as Netpbm');
    expect(said('jpeg')).toEqual(['re-encoded']);
  });
});

describe('the order pairs are verified in', () => {
  it('takes every pair once, and walks a chain of photos pair by pair', () => {
    const pair = (a: string, b: string) => ({ hashA: a, hashB: b });
    const chain = [pair('d', 'e'), pair('a', 'b'), pair('c', 'd'), pair('b', 'c'), pair('x', 'y')];
    const ordered = byNeighbourhood(chain);
    expect([...ordered].sort((p, q) => p.hashA.localeCompare(q.hashA))).toEqual(
      [...chain].sort((p, q) => p.hashA.localeCompare(q.hashA)),
    );
    // The four pairs of the chain come first and each shares a photo with the one before it.
    for (let i = 1; i < 4; i++) {
      const [prev, cur] = [ordered[i - 1]!, ordered[i]!];
      expect([prev.hashA, prev.hashB].some((h) => h === cur.hashA || h === cur.hashB)).toBe(true);
    }
    expect(ordered[4]).toEqual(pair('x', 'y'));
  });
});
