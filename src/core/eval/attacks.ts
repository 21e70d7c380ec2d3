// The edits a near-duplicate finder must see through: each attack turns an original photo into an attacked copy,
// in memory, deterministically. Every attack starts from the decoded original with its EXIF orientation applied
// (see decodeOriginal) and returns an encoded JPEG (quality 90; the 'jpeg20' attack at 20).
import sharp from 'sharp';

/** The oriented original as packed 8-bit sRGB (3 channels, alpha flattened onto white). */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

export interface Attack {
  id: string;
  label: string;
  apply(img: RawImage): Promise<Buffer>;
}

/** JPEG quality of every attacked copy except the 'jpeg20' attack. */
export const ATTACK_JPEG_QUALITY = 90;
/** The blur's sigma on an image whose longest side is this many pixels; scaled linearly with the longest side. */
export const BLUR_REFERENCE_SIDE = 1000;
export const BLUR_SIGMA = 2;
export const ROTATION_DEGREES = 8;
export const CAPTION_TEXT = 'Summer holiday 2019 - best day ever!';

/** Decodes an original once: EXIF orientation applied, sRGB, alpha flattened onto white. */
export async function decodeOriginal(bytes: Uint8Array): Promise<RawImage> {
  const { data, info } = await sharp(bytes, { failOn: 'error', animated: false })
    .autoOrient()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
  return { data, width: info.width, height: info.height };
}

function load(img: RawImage): sharp.Sharp {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

const jpeg = (s: sharp.Sharp, quality = ATTACK_JPEG_QUALITY): Promise<Buffer> => s.jpeg({ quality }).toBuffer();

/** A centred (or top-left) crop keeping `fraction` of each side. */
function crop(img: RawImage, fraction: number, centred: boolean): sharp.Sharp {
  const width = Math.max(1, Math.round(img.width * fraction));
  const height = Math.max(1, Math.round(img.height * fraction));
  const left = centred ? Math.floor((img.width - width) / 2) : 0;
  const top = centred ? Math.floor((img.height - height) / 2) : 0;
  return load(img).extract({ left, top, width, height });
}

/** Gaussian sigma for an image: BLUR_SIGMA on a BLUR_REFERENCE_SIDE px image, proportional to the longest side. */
export function blurSigma(width: number, height: number): number {
  // libvips refuses sigmas below 0.3; only images under 150 px are affected.
  return Math.max(0.3, (BLUR_SIGMA * Math.max(width, height)) / BLUR_REFERENCE_SIDE);
}

/**
 * The largest axis-aligned rectangle inside a w x h rectangle rotated by `degrees`
 * (the classic closed form: half-constrained when the rectangle is thin, fully constrained otherwise).
 */
export function largestRotatedRect(w: number, h: number, degrees: number): { width: number; height: number } {
  const a = (Math.abs(degrees) * Math.PI) / 180;
  const sin = Math.abs(Math.sin(a));
  const cos = Math.abs(Math.cos(a));
  const long = Math.max(w, h);
  const short = Math.min(w, h);
  let wr: number;
  let hr: number;
  if (sin < 1e-12) return { width: w, height: h };
  if (short <= 2 * sin * cos * long || Math.abs(sin - cos) < 1e-10) {
    const x = short / 2;
    [wr, hr] = w >= h ? [x / sin, x / cos] : [x / cos, x / sin];
  } else {
    const cos2 = cos * cos - sin * sin;
    wr = (w * cos - h * sin) / cos2;
    hr = (h * cos - w * sin) / cos2;
  }
  return { width: wr, height: hr };
}

async function rotateCropped(img: RawImage, degrees: number): Promise<Buffer> {
  const { data, info } = await load(img)
    .rotate(degrees, { background: '#000000' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const inner = largestRotatedRect(img.width, img.height, degrees);
  // 2 px inside the exact rectangle so that no interpolated background pixel survives at the edges.
  const width = Math.max(1, Math.floor(inner.width) - 2);
  const height = Math.max(1, Math.floor(inner.height) - 2);
  const left = Math.floor((info.width - width) / 2);
  const top = Math.floor((info.height - height) / 2);
  const rotated = sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } });
  return jpeg(rotated.extract({ left, top, width, height }));
}

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** A solid dark bar over the bottom 18% with a line of white text, drawn by librsvg via an SVG composite. */
export function captionSvg(width: number, height: number, text = CAPTION_TEXT): { svg: Buffer; barHeight: number } {
  const barHeight = Math.max(1, Math.round(height * 0.18));
  // Sized to fit the bar's height and, roughly (0.55 em per character), the image's width.
  const fontSize = Math.max(4, Math.min(barHeight * 0.5, (width * 0.9) / (text.length * 0.55)));
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${barHeight}">` +
    `<rect x="0" y="0" width="${width}" height="${barHeight}" fill="#141414"/>` +
    `<text x="${width / 2}" y="${barHeight / 2}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" ` +
    `font-size="${fontSize.toFixed(2)}" fill="#ffffff" text-anchor="middle" dominant-baseline="central">` +
    `${escapeXml(text)}</text></svg>`;
  return { svg: Buffer.from(svg), barHeight };
}

/**
 * The attacks, in report order. Geometry (w x h = the oriented original):
 * - resize25: round(w/4) x round(h/4), Lanczos3;
 * - crop80: centred, round(0.8w) x round(0.8h); crop70tl: top-left, round(0.7w) x round(0.7h);
 * - rotate8: 8 degrees clockwise, then the centred largest axis-aligned rectangle inside it, less 2 px per side;
 * - squash: fill-resized to min(w, h) square (the long side is squeezed);
 * - border10: white border of round(0.1w) left and right, round(0.1h) top and bottom (1.2w x 1.2h overall);
 * - caption: same size, the bottom round(0.18h) rows covered by a dark bar with white text;
 * - all others keep w x h.
 * Colour: bright30 multiplies every channel by 1.3 (clipped), like PIL's ImageEnhance.Brightness(1.3); grey writes
 * a one-channel greyscale JPEG; blur is a gaussian with sigma 2 at a 1000 px longest side, scaled with the side
 * (so it removes the same share of detail at any resolution).
 */
export const ATTACKS: readonly Attack[] = [
  { id: 'jpeg20', label: 'JPEG quality 20', apply: (img) => jpeg(load(img), 20) },
  {
    id: 'resize25',
    label: 'resize to 25%',
    apply: (img) =>
      jpeg(
        load(img).resize(Math.max(1, Math.round(img.width / 4)), Math.max(1, Math.round(img.height / 4)), {
          fit: 'fill',
        }),
      ),
  },
  { id: 'crop80', label: 'centre crop 80%', apply: (img) => jpeg(crop(img, 0.8, true)) },
  { id: 'crop70tl', label: 'top-left crop 70%', apply: (img) => jpeg(crop(img, 0.7, false)) },
  { id: 'flip', label: 'horizontal flip', apply: (img) => jpeg(load(img).flop()) },
  { id: 'bright30', label: 'brightness +30%', apply: (img) => jpeg(load(img).linear(1.3, 0)) },
  { id: 'grey', label: 'greyscale', apply: (img) => jpeg(load(img).greyscale()) },
  { id: 'blur', label: 'gaussian blur', apply: (img) => jpeg(load(img).blur(blurSigma(img.width, img.height))) },
  { id: 'rotate8', label: 'rotate 8° + crop', apply: (img) => rotateCropped(img, ROTATION_DEGREES) },
  {
    id: 'caption',
    label: 'caption bar 18%',
    apply: (img) => {
      const { svg } = captionSvg(img.width, img.height);
      return jpeg(load(img).composite([{ input: svg, gravity: 'south' }]));
    },
  },
  {
    id: 'squash',
    label: 'squash to square',
    apply: (img) => {
      const side = Math.min(img.width, img.height);
      return jpeg(load(img).resize(side, side, { fit: 'fill' }));
    },
  },
  {
    id: 'border10',
    label: 'white border 10%',
    apply: (img) => {
      const x = Math.round(img.width * 0.1);
      const y = Math.round(img.height * 0.1);
      return jpeg(load(img).extend({ top: y, bottom: y, left: x, right: x, background: '#ffffff' }));
    },
  },
];

/** One attack applied to an original's file bytes (decodes it; use decodeOriginal + apply for several attacks). */
export async function attackBytes(attack: Attack, bytes: Uint8Array): Promise<Buffer> {
  return attack.apply(await decodeOriginal(bytes));
}
