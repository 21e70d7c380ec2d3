// Perceptual hashes, the classic baselines for near-duplicate detection, as imagededup defines them:
// - dHash: greyscale 9x8 (Lanczos resize, then ITU-R 601 luma like PIL's 'L'); bit = pixel right of it is brighter.
// - pHash: greyscale 32x32; 2-D DCT-II; the top-left 8x8 coefficients; bit = coefficient >= the median of those 64
//   coefficients without the DC term (imagededup's rule; the DC bit is kept, so a hash has 64 bits).
// Bits are packed row-major, the first bit most significant, as imagededup's hex strings. Images are oriented by
// their EXIF tag and alpha is flattened onto white first.
import sharp from 'sharp';
import { decodeOriginal, type RawImage } from './attacks.js';

export interface ImageHashes {
  dHash: bigint;
  pHash: bigint;
}

/** Resizes (Lanczos3, ignoring the aspect ratio) and converts to 8-bit luma as PIL's convert('L') does. */
async function greyResized(img: RawImage, width: number, height: number): Promise<Uint8Array> {
  const rgb = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) {
    out[i] = (rgb[3 * i]! * 19595 + rgb[3 * i + 1]! * 38470 + rgb[3 * i + 2]! * 7471 + 0x8000) >> 16;
  }
  return out;
}

function pack(bits: readonly boolean[]): bigint {
  let h = 0n;
  for (const b of bits) h = (h << 1n) | (b ? 1n : 0n);
  return h;
}

function dHashOf(grey: Uint8Array): bigint {
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bits.push(grey[y * 9 + x + 1]! > grey[y * 9 + x]!);
  return pack(bits);
}

const N = 32;
const K = 8;
/** COS[k][n] = cos(pi k (2n + 1) / 2N), the DCT-II basis (unnormalised, like scipy's default; scale is irrelevant). */
const COS = Array.from({ length: K }, (_, k) =>
  Float64Array.from({ length: N }, (_, n) => Math.cos((Math.PI * k * (2 * n + 1)) / (2 * N))),
);

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function pHashOf(grey: Uint8Array): bigint {
  // DCT along each column (axis 0), keeping the first K rows of coefficients.
  const cols = new Float64Array(K * N);
  for (let k = 0; k < K; k++) {
    const c = COS[k]!;
    for (let x = 0; x < N; x++) {
      let sum = 0;
      for (let y = 0; y < N; y++) sum += grey[y * N + x]! * c[y]!;
      cols[k * N + x] = 2 * sum;
    }
  }
  // Then along each row (axis 1), keeping the first K columns.
  const coef: number[] = [];
  for (let k = 0; k < K; k++) {
    for (let l = 0; l < K; l++) {
      const c = COS[l]!;
      let sum = 0;
      for (let x = 0; x < N; x++) sum += cols[k * N + x]! * c[x]!;
      coef.push(2 * sum);
    }
  }
  const m = median(coef.slice(1));
  return pack(coef.map((v) => v >= m));
}

/** dHash and pHash of one image from a single decode. */
export async function imageHashes(bytes: Uint8Array): Promise<ImageHashes> {
  const img = await decodeOriginal(bytes);
  const [d, p] = await Promise.all([greyResized(img, 9, 8), greyResized(img, N, N)]);
  return { dHash: dHashOf(d), pHash: pHashOf(p) };
}

export async function dHash(bytes: Uint8Array): Promise<bigint> {
  return dHashOf(await greyResized(await decodeOriginal(bytes), 9, 8));
}

export async function pHash(bytes: Uint8Array): Promise<bigint> {
  return pHashOf(await greyResized(await decodeOriginal(bytes), N, N));
}

/** Number of differing bits of two 64-bit hashes. */
export function hamming(a: bigint, b: bigint): number {
  let x = BigInt.asUintN(64, a ^ b);
  let n = 0;
  while (x) {
    x &= x - 1n;
    n++;
  }
  return n;
}

/** 16 hex digits, as imagededup writes hashes. */
export function hashToHex(h: bigint): string {
  return BigInt.asUintN(64, h).toString(16).padStart(16, '0');
}

/** Population count of a 32-bit integer. */
export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * Exact nearest neighbours by Hamming distance over 64-bit hashes stored as two 32-bit halves. Results are ordered
 * by distance, then by id, so rankings are deterministic.
 */
export class HammingIndex {
  private hi: number[] = [];
  private lo: number[] = [];
  private ids: number[] = [];
  private readonly rowOf = new Map<number, number>();

  get size(): number {
    return this.ids.length;
  }

  add(id: number, hash: bigint): void {
    const h = BigInt.asUintN(64, hash);
    this.hi.push(Number(h >> 32n));
    this.lo.push(Number(h & 0xffffffffn));
    this.rowOf.set(id, this.ids.length);
    this.ids.push(id);
  }

  /** The k nearest hashes to `query`, nearest first, ties by the smaller id; `exclude` ids are skipped. */
  search(query: bigint, k: number, exclude?: ReadonlySet<number>): { id: number; distance: number }[] {
    const q = BigInt.asUintN(64, query);
    const qh = Number(q >> 32n);
    const ql = Number(q & 0xffffffffn);
    const buckets: number[][] = Array.from({ length: 65 }, () => []);
    for (let i = 0; i < this.ids.length; i++) {
      const id = this.ids[i]!;
      if (exclude?.has(id)) continue;
      buckets[popcount32((this.hi[i]! ^ qh) >>> 0) + popcount32((this.lo[i]! ^ ql) >>> 0)]!.push(id);
    }
    const out: { id: number; distance: number }[] = [];
    for (let d = 0; d <= 64 && out.length < k; d++) {
      const ids = buckets[d]!.sort((a, b) => a - b);
      for (const id of ids) {
        if (out.length >= k) break;
        out.push({ id, distance: d });
      }
    }
    return out;
  }

  distance(id: number, query: bigint): number | undefined {
    const i = this.rowOf.get(id);
    if (i === undefined) return undefined;
    const q = BigInt.asUintN(64, query);
    return (
      popcount32((this.hi[i]! ^ Number(q >> 32n)) >>> 0) + popcount32((this.lo[i]! ^ Number(q & 0xffffffffn)) >>> 0)
    );
  }
}
