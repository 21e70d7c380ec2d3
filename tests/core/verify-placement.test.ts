// Crops whose keypoints fit a wrong turn are placed inside their original by dense matching (verify.ts placeCrop):
// two 70% corner crops of real photos whose keypoint fits turned 10-11 degrees, and a closer shot of a scene that a
// coarse placement alone called a crop.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describe as describePair } from '../../src/core/duplicates/verification.js';
import { loadOpenCv, loadPicture, Verifier, type PairMeasure } from '../../src/core/duplicates/verify.js';
import { ATTACKS, decodeOriginal } from '../../src/core/eval/attacks.js';
import { analyzeImage } from '../../src/core/imaging/analyze.js';
import { DATA } from '../helpers.js';

const imagenette = (name: string) => path.join(DATA, 'imagenette/train', name.split('_')[0]!, `${name}.JPEG`);
const crop70tl = ATTACKS.find((a) => a.id === 'crop70tl')!;

/** What the library keeps of a photo: its 256 px thumbnail as the indexer makes it, and the file's size. */
async function asIndexed(bytes: Buffer) {
  const a = await analyzeImage(bytes, { inputSize: 32 });
  return { thumbnail: a.thumbnail, file: { width: a.width, height: a.height, format: a.format, size: bytes.length } };
}

describe('placing a crop its keypoints misfit', () => {
  let verifier: Verifier;
  beforeAll(async () => {
    verifier = new Verifier((await loadOpenCv()).cv);
  });

  async function measure(a: Buffer, b: Buffer): Promise<{ m: PairMeasure; same: boolean; edits: string[] }> {
    const [ia, ib] = [await asIndexed(a), await asIndexed(b)];
    const [pa, pb] = [await loadPicture(ia.thumbnail), await loadPicture(ib.thumbnail)];
    const fa = verifier.features(pa, false);
    const fb = verifier.features(pb, false);
    let fm: ReturnType<Verifier['features']> | null = null;
    try {
      const m = await verifier.verifyPair(
        { picture: pa, features: fa },
        { picture: pb, features: fb, mirror: () => (fm ??= verifier.features(pb, true)) },
      );
      const verdict = describePair(m, ia.file, ib.file);
      return { m, same: verdict.same, edits: verdict.edits };
    } finally {
      verifier.free(fa);
      verifier.free(fb);
      if (fm) verifier.free(fm);
    }
  }

  for (const name of ['n03394916_30099', 'n03888257_11378'])
    it(`finds the 70% corner crop of ${name}, untilted, cut to 70%`, async () => {
      const original = fs.readFileSync(imagenette(name));
      const copy = await crop70tl.apply(await decodeOriginal(original));
      const { m, same, edits } = await measure(original, copy);
      // placed: the keypoints alone did not fit it (they turned it 10-11 degrees).
      expect(m).toMatchObject({ same: true, placed: true, rotation: 0, mirrored: false });
      expect(m.shownOfA).toBeGreaterThan(0.46);
      expect(m.shownOfA).toBeLessThan(0.52);
      expect(m.shownOfB).toBeGreaterThan(0.95);
      expect(same).toBe(true);
      expect(edits).toContain('cropped to 70%');
    });

  it('refuses a closer shot of the same girl and horn (a coarse placement called it a crop)', async () => {
    const { m, same } = await measure(
      fs.readFileSync(imagenette('n03394916_39959')),
      fs.readFileSync(imagenette('n03394916_45194')),
    );
    expect(m.inliers).toBeGreaterThanOrEqual(12); // the keypoints matched: placement was tried
    expect(m.same).toBe(false);
    expect(same).toBe(false);
  });
});
