import fs from 'node:fs';
import exifr from 'exifr';
import sharp from 'sharp';
import { DoppelError } from '../../shared/api.js';
import { avifPipeline } from './avif.js';
import { decodeBmp } from './bitmap.js';
import { decodeJxl, isJxl } from './jxl.js';
import { decodeNetpbm, isNetpbm } from './netpbm.js';
import { isRawImage, rawPreviews } from './raw.js';
import { resizeRgb } from './resize.js';

export { rgbToPng, sideBySidePng } from './png.js';

// One libvips thread per image: the indexer decodes several images in parallel instead.
sharp.concurrency(1);

/** sharp's own default pixel limit (0x3FFF * 0x3FFF). */
export const DEFAULT_MAX_PIXELS = 268_402_689;
export const DEFAULT_THUMB_SIZE = 256;
/** Huffman tables not optimised: a third less CPU for ~3% more bytes (measured: 12.8 against 12.4 KB). */
const THUMBNAIL_JPEG = { quality: 80, optimiseCoding: false } as const;
/**
 * Prebuilt sharp binaries ship libheif with AV1 (AVIF) only: HEVC-coded HEIC files go through heic-decode
 * (libheif in wasm) instead. A custom libvips with libde265 lists '.heic' here and decodes them itself.
 */
export const HEIC_DECODING_AVAILABLE = sharp.format.heif.input.fileSuffix?.includes('.heic') ?? false;

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

/**
 * An image that the decoder reads from a file itself, for files too large to hold in memory: the indexer gives
 * the path of its open, checked descriptor (library/read-file.ts, descriptorPath), never a name that could have been
 * swapped since. Memory-sized inputs are Uint8Arrays.
 */
export interface ImageFile {
  file: string;
}

/** What decode reads: bytes, or the path of an ImageFile. */
type Input = Buffer | string;

/** Packed RGB. */
interface Pixels {
  rgb: Buffer;
  width: number;
  height: number;
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

const fail = (reason: string, cause?: unknown) => new DoppelError('decode-failed', reason, { cause });

/** libvips messages span several lines, some noise ("bad seek to 123"); keep the informative ones. */
function cleanMessage(err: unknown): string {
  const lines = String((err as Error)?.message ?? err)
    .split('\n')
    .map((l) => l.trim().replace(/^source: /, ''))
    .filter((l) => l && !/^bad seek to \d+$/.test(l));
  const text = [...new Set(lines)].join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function asBuffer(input: Uint8Array): Buffer {
  return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

/**
 * HEVC-coded HEIC/HEIF (what phones take) through libheif compiled to wasm (heic-decode): sharp's prebuilt
 * libvips has no HEVC decoder. libheif applies the file's rotation and mirroring (irot/imir, which take precedence
 * over any EXIF orientation in HEIF), so the raw pixels are already upright and carry no orientation to apply again.
 */
async function heicPipeline(input: Buffer): Promise<sharp.Sharp> {
  // Loaded on first use (~0.15 s): most libraries hold no HEVC-coded HEIC at all.
  const { default: decodeHeic } = await import('heic-decode');
  let img: Awaited<ReturnType<typeof decodeHeic>>;
  try {
    img = await decodeHeic({ buffer: input });
  } catch (err) {
    throw fail(`Corrupt or truncated HEIC image (${cleanMessage(err)})`, err);
  }
  const rgba = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return sharp(rgba, { raw: { width: img.width, height: img.height, channels: 4 } });
}

/** Formats that Doppel decodes beside libvips, told apart by their first bytes. */
type OwnFormat = 'bmp' | 'pnm' | 'jxl' | 'raw';

function sniff(b: Buffer): OwnFormat | null {
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (isNetpbm(b)) return 'pnm';
  if (isJxl(b)) return 'jxl';
  if (isRawImage(b)) return 'raw';
  return null;
}

const OWN_FORMAT_NAMES: Record<OwnFormat, string> = { bmp: 'BMP', pnm: 'Netpbm', jxl: 'JPEG XL', raw: 'camera RAW' };

/** The largest camera RAW read whole to find its preview (medium-format RAWs pass 100 MB). */
export const MAX_RAW_BYTES = 256 * 1024 * 1024;

/** The first 64 KiB of a file named by path (ImageFile), to tell its format by. */
function head(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(65536);
    return b.subarray(0, fs.readSync(fd, b, 0, b.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** sharp operations that turn a picture as stored into the one EXIF orientation `o` describes. */
function orient(s: sharp.Sharp, o: number | null): sharp.Sharp {
  switch (o) {
    case 2:
      return s.flop();
    case 3:
      return s.rotate(180);
    case 4:
      return s.flip();
    case 5:
      return s.flop().rotate(270);
    case 6:
      return s.rotate(90);
    case 7:
      return s.flop().rotate(90);
    case 8:
      return s.rotate(270);
    default:
      return s;
  }
}

/** A pipeline to decode, and what is known of the picture before it runs. */
interface Source {
  pipeline: sharp.Sharp;
  /** Apply the EXIF orientation the input carries (sharp's autoOrient); false where the pipeline is upright. */
  autoOrient: boolean;
  format: string;
  orientation: number | null;
  fullWidth: number;
  fullHeight: number;
}

const swapsSides = (o: number | null) => o !== null && o >= 5;

/** BMP, Netpbm, JPEG XL (raw pixels from their decoders) and camera RAW (its largest embedded JPEG preview). */
async function ownSource(format: OwnFormat, input: Buffer, maxPixels: number): Promise<Source> {
  if (format === 'raw') {
    const previews = await rawPreviews(input);
    const preview = previews[0];
    if (!preview) {
      throw fail(
        "Camera RAW without a preview Doppel can read (it indexes RAW files through the camera's JPEG preview)",
      );
    }
    if (maxPixels > 0 && preview.width * preview.height > maxPixels) {
      throw fail(`Image too large (${preview.width} x ${preview.height} pixels exceeds the limit of ${maxPixels})`);
    }
    const jpeg = sharp(preview.jpeg, { failOn: 'error', limitInputPixels: maxPixels || false });
    // The RAW's own orientation, else the one the preview's EXIF carries.
    const own = preview.orientation;
    const orientation = own ?? (await sharp(preview.jpeg).metadata()).orientation ?? null;
    const swap = swapsSides(orientation);
    return {
      pipeline: own === null ? jpeg : orient(jpeg, own),
      autoOrient: own === null,
      format: 'raw',
      orientation,
      fullWidth: swap ? preview.height : preview.width,
      fullHeight: swap ? preview.width : preview.height,
    };
  }
  const px =
    format === 'bmp'
      ? decodeBmp(input, maxPixels)
      : format === 'pnm'
        ? decodeNetpbm(input, maxPixels)
        : await decodeJxl(input, maxPixels);
  const raw = { width: px.width, height: px.height, channels: px.channels };
  return {
    pipeline: sharp(px.data, { raw }),
    autoOrient: false,
    format,
    orientation: null,
    fullWidth: px.width,
    fullHeight: px.height,
  };
}

/** What libvips decodes (and HEVC-coded HEIC through heic-decode). */
async function sharpSource(input: Input, maxPixels: number): Promise<Source> {
  let meta: sharp.Metadata;
  try {
    // Header only; the pixel limit is checked below so the message can give the size.
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    const msg = cleanMessage(err);
    if (/unsupported image format/i.test(msg)) throw fail(`Not a supported image (${msg})`, err);
    throw fail(`Corrupt or truncated image (${msg})`, err);
  }
  const { width: w, height: h } = meta;
  // With animated: false only the first frame counts, and meta.height is one frame's height.
  if (maxPixels > 0 && w * h > maxPixels) throw tooLarge(w, h, maxPixels);

  const hevc = meta.format === 'heif' && meta.compression === 'hevc' && !HEIC_DECODING_AVAILABLE;
  // The prebuilt libheif's AV1 decoder reads 8-bit samples only: 10 and 12-bit AVIF go through libavif in wasm.
  const deepAvif = meta.format === 'heif' && meta.compression === 'av1' && (meta.bitsPerSample ?? 8) > 8;
  // heic-decode takes the file whole, in memory: what was too large to read whole is not read whole for it.
  if (hevc && typeof input === 'string') throw fail('HEIC/HEVC image too large to decode (it is decoded in memory)');
  if (deepAvif && typeof input === 'string') throw fail('AVIF image too large to decode (it is decoded in memory)');
  return {
    pipeline: hevc
      ? await heicPipeline(input as Buffer)
      : deepAvif
        ? await avifPipeline(input as Buffer)
        : sharp(input, { failOn: 'error', limitInputPixels: maxPixels || false, animated: false }),
    // Both wasm decoders give upright pixels; an EXIF orientation in a HEIF is overridden by irot/imir.
    autoOrient: !hevc && !deepAvif,
    format: meta.format,
    orientation: meta.orientation ?? null,
    fullWidth: meta.autoOrient.width,
    fullHeight: meta.autoOrient.height,
  };
}

const tooLarge = (w: number, h: number, maxPixels: number) =>
  fail(`Image too large (${w} x ${h} pixels exceeds the limit of ${maxPixels})`);

/** Decodes once into the oriented sRGB intermediate that the thumbnail and the model input both come from. */
async function decode(input: Input, thumbSize: number, maxPixels: number, raw = false): Promise<Decoded> {
  if (typeof input !== 'string' && input.length === 0) throw fail('Empty file (0 bytes)');
  const own = raw ? 'raw' : sniff(typeof input === 'string' ? head(input) : input);
  if (own && typeof input === 'string') {
    // Their decoders take the file whole, in memory: what was too large to read whole is not read whole for them,
    // but a camera RAW, whose sensor data can pass the indexer's 64 MiB (one such file at a time), up to a limit.
    const size = (await fs.promises.stat(input)).size;
    if (own !== 'raw' || size > MAX_RAW_BYTES) {
      throw fail(`${OWN_FORMAT_NAMES[own]} image too large to decode (it is decoded in memory)`);
    }
    input = await fs.promises.readFile(input);
    if (input.length === 0) throw fail('Empty file (0 bytes)');
  }
  const src = own ? await ownSource(own, input as Buffer, maxPixels) : await sharpSource(input, maxPixels);
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
    const msg = cleanMessage(err);
    if (/exceeds pixel limit/i.test(msg)) throw tooLarge(src.fullWidth, src.fullHeight, maxPixels);
    if (src.format === 'heif' && /not been built in|no decoder|unsupported codec/i.test(msg)) {
      throw fail(`HEIC/HEVC decoding is not available in this build (${msg})`, err);
    }
    if (src.format === 'raw') throw fail(`Corrupt or truncated camera RAW preview (${msg})`, err);
    throw fail(`Corrupt or truncated image (${msg})`, err);
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

async function readTakenAt(input: Input): Promise<string | null> {
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

async function decodeThumbnail(thumbnail: Uint8Array): Promise<Pixels> {
  try {
    const { data, info } = await sharp(asBuffer(thumbnail), { failOn: 'error' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { rgb: data, width: info.width, height: info.height };
  } catch (err) {
    throw fail(`Corrupt cached thumbnail (${cleanMessage(err)})`, err);
  }
}
