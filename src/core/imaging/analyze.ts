// Analysing a decoded image: the oriented sRGB intermediate (longest side at most the thumbnail size) made once from
// the decoder's pipeline (decode.ts), and what the indexer stores from it: the JPEG thumbnail, the model input
// (borders trimmed where the model wants it), the EXIF capture time and orientation; the model inputs of corner
// views and of cached thumbnails the same way.
import exifr from 'exifr';
import sharp from 'sharp';
import { DoppelError } from '../../shared/api.js';
import {
  asBuffer,
  decodeThumbnail,
  DEFAULT_MAX_PIXELS,
  type ImageFile,
  type ImageInput,
  openSource,
  pipelineFailure,
  type Pixels,
} from './decode.js';
import { resizeRgb } from './resize.js';

export type { ImageFile } from './decode.js';
export { rgbToPng, sideBySidePng } from './png.js';

export const DEFAULT_THUMB_SIZE = 256;
/** Huffman tables not optimised: a third less CPU for ~3% more bytes (measured: 12.8 against 12.4 KB). */
const THUMBNAIL_JPEG = { quality: 80, optimiseCoding: false } as const;

export interface Analysis {
  /** Size after applying the EXIF orientation. */
  width: number;
  height: number;
  /**
   * sharp's format name: 'jpeg', 'png', 'webp', 'gif', 'tiff', 'heif' (also AVIF), ...; 'bmp', 'pnm', 'jxl'; 'raw' for
   * a camera RAW, which is read from the camera's JPEG preview.
   */
  format: string;
  orientation: number | null;
  /** EXIF capture time as camera wall-clock ISO 8601 ('2008-05-30T15:56:01'), with the offset when recorded. */
  takenAt: string | null;
  /** inputSize * inputSize * 3 bytes of RGB, row-major, oriented, squashed to a square. */
  modelInput: Uint8Array;
  /** JPEG, quality 80, longest side at most thumbSize, oriented. */
  thumbnail: Buffer;
}

export interface AnalyzeOptions {
  /** Side of the square model input, e.g. 32. */
  inputSize: number;
  /** Trim uniform borders before making the model input (see ModelInputSpec). */
  trimBorders?: boolean;
  /** Longest side of the display thumbnail (default 256). */
  thumbSize?: number;
  /** Images with more pixels are refused (default: sharp's limit). */
  maxPixels?: number;
  /**
   * The file's name says camera RAW (library/scan.ts, isRawPath): read it through its preview even where its content
   * alone does not say so (CRW, X3F), and never as the TIFF its container may be.
   */
  raw?: boolean;
}

/** A decoded image: oriented, sRGB, alpha flattened onto white, longest side at most thumbSize. */
interface Decoded extends Pixels {
  /** What analyzeImage reports: sharp's format name, or 'bmp', 'pnm', 'jxl', 'raw' for the decoders beside it. */
  format: string;
  orientation: number | null;
  /** The whole picture's size, oriented. */
  fullWidth: number;
  fullHeight: number;
}

/** Decodes once into the oriented sRGB intermediate that the thumbnail and the model input both come from. */
async function decode(input: ImageInput, thumbSize: number, maxPixels: number, raw = false): Promise<Decoded> {
  const src = await openSource(input, maxPixels, raw);
  try {
    const { data, info } = await (src.autoOrient ? src.pipeline.autoOrient() : src.pipeline)
      // Giving the target size here lets libvips shrink JPEGs while decoding (shrink-on-load).
      .resize({ width: thumbSize, height: thumbSize, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb') // CMYK, greyscale and 16-bit inputs all end up as 8-bit sRGB
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
    const { format, orientation, fullWidth, fullHeight } = src;
    return { rgb: data, width: info.width, height: info.height, format, orientation, fullWidth, fullHeight };
  } catch (err) {
    throw pipelineFailure(src, err, maxPixels);
  }
}

function rawInput(width: number, height: number) {
  return { raw: { width, height, channels: 3 as const } };
}

/** How a model wants its input made: a square side, and whether uniform borders are trimmed first. */
export interface ModelInputSpec {
  size: number;
  /** Remove uniform borders (frames, letterboxing, padding) before squashing to the square. */
  trimBorders?: boolean;
}

const TRIM_THRESHOLD = 16;

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** findTrimBox's per-pixel flags, reused (it is synchronous): ~200 KB a picture, not garbage for every photo. */
let trimFlags = new Uint32Array(0);

/**
 * The box of packed RGB outside its uniform borders, as libvips' find_trim (sharp's trim()) finds it: the
 * background is the top-left pixel; a pixel is foreground when, in some band, the median of its 3x3
 * neighbourhood (edges repeated) differs from the background by more than `threshold`. Null when nothing is.
 * The same box as sharp's trim, in a few rows' work for a picture without borders (its first and last rows
 * reach both sides); tests/core/imaging.test.ts holds it to sharp's answer.
 *
 * The median of 9 values exceeds v when at least 5 of them do (and is below v when at least 5 are), so counts
 * replace sorting. Each pixel gets six 4-bit counters in one integer (above and below, per band), so summing
 * a 3x3 neighbourhood is 8 integer additions, and "some counter >= 5" is one test: adding 3 to every counter
 * sets its high bit exactly when it was >= 5 (counters stay <= 9, so nothing carries into the next one).
 */
export function findTrimBox(rgb: Uint8Array, width: number, height: number, threshold: number): Box | null {
  const up = [rgb[0]! + threshold, rgb[1]! + threshold, rgb[2]! + threshold];
  const down = [rgb[0]! - threshold, rgb[1]! - threshold, rgb[2]! - threshold];
  /** Per pixel: bit 4k set when band k is above the background, bit 4k + 12 when below; filled row by row. */
  if (trimFlags.length < width * height) trimFlags = new Uint32Array(width * height);
  const flags = trimFlags;
  const flagged = new Uint8Array(height);
  const flagRow = (y: number): number => {
    if (!flagged[y]) {
      flagged[y] = 1;
      for (let x = 0, i = y * width, s = i * 3; x < width; x++, i++, s += 3) {
        let f = 0;
        for (let b = 0; b < 3; b++) {
          const v = rgb[s + b]!;
          if (v > up[b]!) f |= 1 << (4 * b);
          else if (v < down[b]!) f |= 1 << (4 * b + 12);
        }
        flags[i] = f;
      }
    }
    return y * width;
  };
  const column = new Uint32Array(width);
  const row = new Uint8Array(width);
  /** The foreground of row y into `row`; whether it has any. */
  const foreground = (y: number): boolean => {
    const r0 = flagRow(y > 0 ? y - 1 : 0);
    const r1 = flagRow(y);
    const r2 = flagRow(y < height - 1 ? y + 1 : height - 1);
    for (let x = 0; x < width; x++) column[x] = flags[r0 + x]! + flags[r1 + x]! + flags[r2 + x]!;
    let any = false;
    for (let x = 0; x < width; x++) {
      const sum = column[x > 0 ? x - 1 : 0]! + column[x]! + column[x < width - 1 ? x + 1 : width - 1]!;
      const fg = (sum + 0x333333) & 0x888888 ? 1 : 0;
      row[x] = fg;
      if (fg) any = true;
    }
    return any;
  };
  let top = 0;
  while (top < height && !foreground(top)) top++;
  if (top === height) return null;
  let bottom = height - 1;
  while (bottom > top && !foreground(bottom)) bottom--;
  let left = width;
  let right = -1;
  for (let y = top; y <= bottom && (left > 0 || right < width - 1); y++) {
    if (!foreground(y)) continue;
    left = Math.min(left, row.indexOf(1));
    right = Math.max(right, row.lastIndexOf(1));
  }
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** The part of a picture inside a box. */
function cropped(d: Pixels, box: Box): Pixels {
  const rgb = Buffer.alloc(box.width * box.height * 3);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * d.width + box.left) * 3;
    d.rgb.copy(rgb, y * box.width * 3, from, from + box.width * 3);
  }
  return { rgb, width: box.width, height: box.height };
}

/** The decoded picture without uniform borders; the picture itself when trimming finds nothing to keep. */
function trimmed(d: Pixels): Pixels {
  const box = d.width >= 3 && d.height >= 3 ? findTrimBox(d.rgb, d.width, d.height, TRIM_THRESHOLD) : null;
  // Nothing but background (e.g. a single colour), or a near-uniform picture that would trim down to a sliver:
  // keep it whole.
  if (!box || box.width * 4 < d.width || box.height * 4 < d.height) return d;
  if (box.width === d.width && box.height === d.height) return d;
  return cropped(d, box);
}

/**
 * The (at most 256 px) intermediate squashed to the model's square input with Lanczos3, in JavaScript
 * (./resize.ts): training and querying go through this same function.
 */
function toModelInput(d: Pixels, spec: number | ModelInputSpec): Uint8Array {
  const { size, trimBorders = false } = typeof spec === 'number' ? { size: spec } : spec;
  const src = trimBorders ? trimmed(d) : d;
  return resizeRgb(src.rgb, src.width, src.height, size, size);
}

const EXIF_DATE = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/;
const EXIF_OFFSET = /^[+-]\d{2}:\d{2}$/;

/** 'YYYY:MM:DD HH:MM:SS' (+ optional '+hh:mm' offset tag) -> ISO 8601; null for blank or impossible dates. */
export function exifDateToIso(value: unknown, offset?: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = EXIF_DATE.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (y < 1800 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
  return typeof offset === 'string' && EXIF_OFFSET.test(offset.trim()) ? iso + offset.trim() : iso;
}

async function readTakenAt(input: ImageInput): Promise<string | null> {
  try {
    // Raw strings rather than exifr's Date objects, which would be interpreted in this machine's time zone.
    const tags = (await exifr.parse(input, {
      pick: ['DateTimeOriginal', 'CreateDate', 'OffsetTimeOriginal', 'OffsetTimeDigitized'],
      reviveValues: false,
      translateValues: false,
    })) as Record<string, unknown> | undefined;
    if (!tags) return null;
    return (
      exifDateToIso(tags.DateTimeOriginal, tags.OffsetTimeOriginal) ??
      exifDateToIso(tags.CreateDate, tags.OffsetTimeDigitized)
    );
  } catch {
    return null; // formats exifr does not read, broken EXIF: no date
  }
}

/** Decodes an image once and derives everything the indexer stores about it. */
export async function analyzeImage(input: Uint8Array | ImageFile, opts: AnalyzeOptions): Promise<Analysis> {
  const buf = input instanceof Uint8Array ? asBuffer(input) : input.file;
  const thumbSize = opts.thumbSize ?? DEFAULT_THUMB_SIZE;
  const [d, takenAt] = await Promise.all([
    decode(buf, thumbSize, opts.maxPixels ?? DEFAULT_MAX_PIXELS, opts.raw),
    readTakenAt(buf),
  ]);
  const thumbnail = sharp(d.rgb, rawInput(d.width, d.height)).jpeg(THUMBNAIL_JPEG).toBuffer();
  const spec = { size: opts.inputSize, trimBorders: opts.trimBorders ?? false };
  const modelInput = toModelInput(d, spec);
  return {
    width: d.fullWidth,
    height: d.fullHeight,
    format: d.format,
    orientation: d.orientation,
    takenAt,
    modelInput,
    thumbnail: await thumbnail,
  };
}

/** The model input for any image (e.g. a query image from outside the library), exactly as analyzeImage makes it. */
export async function imageToModelInput(input: Uint8Array, spec: number | ModelInputSpec): Promise<Uint8Array> {
  return toModelInput(await decode(asBuffer(input), DEFAULT_THUMB_SIZE, DEFAULT_MAX_PIXELS), spec);
}

/**
 * The model input of an image (as imageToModelInput makes it) and of its four corner views: the top-left,
 * top-right, bottom-left and bottom-right parts that keep `fraction` of each side of the oriented picture, each
 * made into a model input the same way (trimmed when the spec trims). An encoded view is what a copy cropped to
 * about that corner encodes to: what `doppel fit-views` fits a model's view predictor to, and what `doppel eval`
 * matches library photos by for a model without one. One decode for all five.
 */
export async function imageToModelInputViews(
  input: Uint8Array,
  spec: ModelInputSpec,
  fraction: number,
): Promise<{ input: Uint8Array; views: Uint8Array[] }> {
  checkFraction(fraction);
  const d = await decode(asBuffer(input), DEFAULT_THUMB_SIZE, DEFAULT_MAX_PIXELS);
  return { input: toModelInput(d, spec), views: cornerInputs(d, spec, fraction) };
}

function checkFraction(fraction: number): void {
  if (!(fraction > 0 && fraction < 1)) {
    throw new DoppelError('invalid-argument', `A corner view keeps a fraction of each side in (0, 1), got ${fraction}`);
  }
}

/** The model inputs of the four corner views of a decoded picture (top-left, top-right, bottom-left, bottom-right). */
function cornerInputs(d: Pixels, spec: ModelInputSpec, fraction: number): Uint8Array[] {
  const width = Math.max(1, Math.round(d.width * fraction));
  const height = Math.max(1, Math.round(d.height * fraction));
  const corners = [
    [0, 0],
    [d.width - width, 0],
    [0, d.height - height],
    [d.width - width, d.height - height],
  ] as const;
  return corners.map(([left, top]) => toModelInput(cropped(d, { left, top, width, height }), spec));
}

/**
 * The model input from a cached analysis thumbnail (the JPEG analyzeImage wrote, or the WebP of a library indexed
 * before thumbnails were JPEG), for encoding with a new model without decoding the original again. The thumbnail
 * is the same oriented intermediate (longest side 256) that analyzeImage makes the model input from, stored at
 * quality 80.
 */
export async function thumbnailToModelInput(thumbnail: Uint8Array, spec: number | ModelInputSpec): Promise<Uint8Array> {
  return toModelInput(await decodeThumbnail(thumbnail), spec);
}
