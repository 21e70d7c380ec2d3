// Choosing and running a decoder for a file's format: libvips (through sharp) for what it reads, and beside it
// HEVC-coded HEIC/HEIF (heic-decode), 10/12-bit AVIF (avif.ts), JPEG XL (jxl.ts), BMP (bitmap.ts), Netpbm
// (netpbm.ts) and camera RAW through its JPEG preview (raw.ts), told apart by their first bytes or their header.
// Each gives a sharp pipeline (over raw pixels where its decoder is not libvips) and what is known of the picture
// before it runs; the pixel limit is checked from the headers, and every failure is a 'decode-failed' error with a
// reason people can read.
import fs from 'node:fs';
import sharp from 'sharp';
import { DoppelError } from '../../shared/api.js';
import { avifPipeline } from './avif.js';
import { decodeBmp } from './bitmap.js';
import { decodeJxl, isJxl } from './jxl.js';
import { decodeNetpbm, isNetpbm } from './netpbm.js';
import { isRawImage, rawPreviews } from './raw.js';

// One libvips thread per image: the indexer decodes several images in parallel instead.
sharp.concurrency(1);

/** sharp's own default pixel limit (0x3FFF * 0x3FFF). */
export const DEFAULT_MAX_PIXELS = 268_402_689;
/**
 * Prebuilt sharp binaries ship libheif with AV1 (AVIF) only: HEVC-coded HEIC files go through heic-decode
 * (libheif in wasm) instead. A custom libvips with libde265 lists '.heic' here and decodes them itself.
 */
export const HEIC_DECODING_AVAILABLE = sharp.format.heif.input.fileSuffix?.includes('.heic') ?? false;

/** The largest camera RAW read whole to find its preview (medium-format RAWs pass 100 MB). */
export const MAX_RAW_BYTES = 256 * 1024 * 1024;

/**
 * An image that the decoder reads from a file itself, for files too large to hold in memory: the indexer gives
 * the path of its open, checked descriptor (library/read-file.ts, descriptorPath), never a name that could have been
 * swapped since. Memory-sized inputs are Uint8Arrays.
 */
export interface ImageFile {
  file: string;
}

/** What a decoder reads: bytes, or the path of an ImageFile. */
export type ImageInput = Buffer | string;

/** Packed RGB. */
export interface Pixels {
  rgb: Buffer;
  width: number;
  height: number;
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

/** A Uint8Array as a Buffer over the same memory. */
export function asBuffer(input: Uint8Array): Buffer {
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
export interface Source {
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
async function sharpSource(input: ImageInput, maxPixels: number): Promise<Source> {
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

/**
 * The pipeline that decodes an image, chosen by its content (or as a camera RAW where `raw` says so, see
 * AnalyzeOptions.raw), with the picture's format, orientation and whole size from its header.
 */
export async function openSource(input: ImageInput, maxPixels: number, raw = false): Promise<Source> {
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
  return own ? await ownSource(own, input as Buffer, maxPixels) : await sharpSource(input, maxPixels);
}

/** The error to report when running a source's pipeline failed with `err`. */
export function pipelineFailure(src: Source, err: unknown, maxPixels: number): DoppelError {
  const msg = cleanMessage(err);
  if (/exceeds pixel limit/i.test(msg)) return tooLarge(src.fullWidth, src.fullHeight, maxPixels);
  if (src.format === 'heif' && /not been built in|no decoder|unsupported codec/i.test(msg)) {
    return fail(`HEIC/HEVC decoding is not available in this build (${msg})`, err);
  }
  if (src.format === 'raw') return fail(`Corrupt or truncated camera RAW preview (${msg})`, err);
  return fail(`Corrupt or truncated image (${msg})`, err);
}

/** A cached analysis thumbnail (JPEG, or the WebP of older libraries) as packed RGB, flattened onto white. */
export async function decodeThumbnail(thumbnail: Uint8Array): Promise<Pixels> {
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
