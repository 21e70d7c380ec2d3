// Camera RAW files (CR2, CR3, NEF, ARW, DNG, RAF, ORF, RW2, PEF, ...) are indexed through the JPEG preview that
// the camera embeds in them: Doppel does not develop sensor data. Every RAW container keeps its previews as whole
// baseline JPEG streams (in TIFF IFDs and SubIFDs, maker notes, CR3's PRVW/THMB boxes, RAF's header), so they are
// found by their start-of-image marker and each is checked by sharp's own JPEG reader; the largest that reads wins.
// The orientation is the RAW's own (the TIFF IFD0 Orientation of TIFF-based RAWs), else the preview's EXIF one.
import sharp from 'sharp';

/** A TIFF-like header (classic TIFF, Olympus' IIRO/IIRS/MMOR, Panasonic's IIU): its byte order. */
function tiffOrder(b: Buffer): 'le' | 'be' | null {
  if (b.length < 8) return null;
  const head = b.toString('latin1', 0, 4);
  if (head === 'II*\0' || head === 'IIRO' || head === 'IIRS' || head === 'IIU\0') return 'le';
  if (head === 'MM\0*' || head === 'MMOR') return 'be';
  return null;
}

interface Ifd {
  tags: Map<number, { type: number; count: number; valueAt: number }>;
  next: number;
}

const TYPE_SIZES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
};

/** Reads TIFF IFDs, only as far as RAW detection and orientation need. */
class Tiff {
  constructor(
    private readonly b: Buffer,
    private readonly le: boolean,
  ) {}
  u16(at: number): number {
    return this.le ? this.b.readUInt16LE(at) : this.b.readUInt16BE(at);
  }
  u32(at: number): number {
    return this.le ? this.b.readUInt32LE(at) : this.b.readUInt32BE(at);
  }
  ifd(at: number): Ifd | null {
    if (at < 8 || at + 2 > this.b.length) return null;
    const n = this.u16(at);
    if (at + 2 + n * 12 + 4 > this.b.length || n > 1000) return null;
    const tags: Ifd['tags'] = new Map();
    for (let i = 0; i < n; i++) {
      const e = at + 2 + i * 12;
      const type = this.u16(e + 2);
      const count = this.u32(e + 4);
      const bytes = (TYPE_SIZES[type] ?? 1) * count;
      tags.set(this.u16(e), { type, count, valueAt: bytes <= 4 ? e + 8 : this.u32(e + 8) });
    }
    return { tags, next: this.u32(at + 2 + n * 12) };
  }
  /** The first value of an integer tag. */
  value(ifd: Ifd, tag: number): number | null {
    const t = ifd.tags.get(tag);
    if (!t || t.count < 1 || t.valueAt + 4 > this.b.length) return null;
    return t.type === 3 ? this.u16(t.valueAt) : t.type === 4 || t.type === 13 ? this.u32(t.valueAt) : null;
  }
  values(ifd: Ifd, tag: number): number[] {
    const t = ifd.tags.get(tag);
    if (!t || (t.type !== 4 && t.type !== 13) || t.valueAt + t.count * 4 > this.b.length) return [];
    return Array.from({ length: Math.min(t.count, 16) }, (_, i) => this.u32(t.valueAt + i * 4));
  }
}

const TAG = {
  orientation: 0x0112,
  photometric: 0x0106,
  subIfds: 0x014a,
  dngVersion: 0xc612,
} as const;
/** PhotometricInterpretation of sensor data: CFA (Bayer mosaics), LinearRaw. */
const SENSOR_DATA = new Set([32803, 34892]);

/** What the container says about a TIFF-based RAW: whether it holds sensor data, and IFD0's orientation. */
function tiffFacts(b: Buffer): { raw: boolean; orientation: number | null } | null {
  const order = tiffOrder(b);
  if (!order) return null;
  const tiff = new Tiff(b, order === 'le');
  const head = b.toString('latin1', 0, 4);
  let raw = head !== 'II*\0' && head !== 'MM\0*'; // ORF, RW2: RAW by their own signature
  if (b.toString('latin1', 8, 10) === 'CR') raw = true; // CR2
  const ifd0 = tiff.ifd(tiff.u32(4));
  if (!ifd0) return { raw, orientation: null };
  const o = tiff.value(ifd0, TAG.orientation);
  const orientation = o !== null && o >= 1 && o <= 8 ? o : null;
  if (ifd0.tags.has(TAG.dngVersion)) raw = true;
  // Sensor data in IFD0, a following IFD or a SubIFD: NEF, ARW, PEF, DNG and most other TIFF-based RAWs.
  const seen = new Set<number>();
  const queue = [tiff.u32(4)];
  while (!raw && queue.length && seen.size < 32) {
    const at = queue.shift()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const ifd = at === tiff.u32(4) ? ifd0 : tiff.ifd(at);
    if (!ifd) continue;
    const photometric = tiff.value(ifd, TAG.photometric);
    if (photometric !== null && SENSOR_DATA.has(photometric)) raw = true;
    queue.push(...tiff.values(ifd, TAG.subIfds));
    if (ifd.next) queue.push(ifd.next);
  }
  return { raw, orientation };
}

/** Whether the bytes are a camera RAW file, by their content (a RAW's extension says so too: isRawPath). */
export function isRawImage(b: Buffer): boolean {
  if (b.length < 16) return false;
  if (b.toString('latin1', 0, 15) === 'FUJIFILMCCD-RAW') return true; // RAF
  if (b.toString('latin1', 4, 12) === 'ftypcrx ') return true; // CR3
  return tiffFacts(b)?.raw ?? false;
}

/** A CR3's orientation: IFD0 of the TIFF in its CMT1 box (near the start, in the moov box). */
function cr3Orientation(b: Buffer): number | null {
  if (b.toString('latin1', 4, 12) !== 'ftypcrx ') return null;
  const at = b.subarray(0, 1 << 20).indexOf('CMT1', 0, 'latin1');
  return at < 0 ? null : (tiffFacts(b.subarray(at + 4))?.orientation ?? null);
}

export interface RawPreview {
  /** The JPEG stream (a view into the RAW's bytes). */
  jpeg: Buffer;
  width: number;
  height: number;
  /** The RAW's own orientation (1-8), to apply to the preview instead of any the preview carries; null if none. */
  orientation: number | null;
}

/** A JPEG's start-of-image marker and the first byte of the marker after it. */
const SOI = Buffer.from([0xff, 0xd8, 0xff]);
/** At most this many start-of-image markers are looked at (a RAW holds a handful of JPEGs). */
const MAX_CANDIDATES = 64;

/**
 * The RAW's previews that sharp reads as baseline or progressive JPEGs (lossless JPEG, which some RAWs code their
 * sensor data in, is not one), largest first.
 */
export async function rawPreviews(b: Buffer): Promise<RawPreview[]> {
  const orientation = tiffFacts(b)?.orientation ?? cr3Orientation(b);
  const found: RawPreview[] = [];
  let candidates = 0;
  for (let at = b.indexOf(SOI); at >= 0 && candidates < MAX_CANDIDATES; at = b.indexOf(SOI, at + 3)) {
    candidates++;
    const jpeg = b.subarray(at);
    try {
      const meta = await sharp(jpeg, { limitInputPixels: false }).metadata();
      if (meta.format !== 'jpeg' || !meta.width || !meta.height) continue;
      found.push({ jpeg, width: meta.width, height: meta.height, orientation });
    } catch {
      // not a JPEG after all (a marker-like run of bytes), or one libjpeg does not decode
    }
  }
  return found.sort((x, y) => y.width * y.height - x.width * x.height || x.jpeg.length - y.jpeg.length);
}
