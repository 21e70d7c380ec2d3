// The pictures the verifier compares: a cached thumbnail read as grey pixels, its colourfulness on demand.
import sharp from 'sharp';

/** Longest side of the grey pictures compared (the cached thumbnails are 256 px). */
const SIDE = 256;

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
