// Verification for the duplicate scan: which candidate pairs the verifier must see, its measures cached by
// content-hash pair in the library (a later scan compares only pairs it has not seen), and the measures turned into
// verdicts: same or not, what the verifier saw in words, and which photo is derived from the other.
import { formatLabel } from '../../shared/formats.js';
import { existingThumbnail } from '../library/thumbnails.js';
import type { Store } from '../store/repository.js';
import { pairKey, type GroupingPhoto, type PairVerdict } from './grouping.js';
import { quarterTurn, SQUARE_TILT, VERIFIER_VERSION, type PairMeasure } from './verify.js';
import type { VerifierPool } from './verify-pool.js';

/**
 * Pairs verified between two writes of their measures: what a killed scan loses at most (~30 s of work on 2 cores),
 * and how often it says how far it is.
 */
export const VERIFY_SLICE = 2_000;

/** Below this colourfulness a picture is greyscale; above COLOURFUL it clearly is not. */
const GREY = 3;
const COLOURFUL = 8;

/** A measure of (a, b) as a measure of (b, a). */
export function swapMeasure(m: PairMeasure): PairMeasure {
  return {
    ...m,
    // A mirrored copy turned by r is its original's mirror image turned by r too (F R F = R^-1).
    rotation: m.mirrored || m.rotation === 180 ? m.rotation : -m.rotation,
    shownOfA: m.shownOfB,
    shownOfB: m.shownOfA,
    borderA: m.borderB,
    borderB: m.borderA,
    scale: m.scale > 0 ? 1 / m.scale : 1,
    brightness: m.brightness > 0 ? 1 / m.brightness : 1,
    colourA: m.colourB,
    colourB: m.colourA,
  };
}

/**
 * How many more pixels a crop may hold of what it shows than its original holds there (resampling and rounding):
 * cropping never adds pixels. A closer shot of a scene does, such as a zoomed frame of a fixed camera. Copies cropped
 * from their originals measured 0.8-1.3; other shots 1.8.
 */
export const MAX_CROP_GAIN = 1.5;

/**
 * Pixels of b per pixel of a over what both show, from the thumbnails' scale and the files' sizes (a thumbnail is
 * the same number of pixels on its long side for every photo); null without the sizes.
 */
function pixelGain(
  m: PairMeasure,
  a: Pick<GroupingPhoto, 'width' | 'height'>,
  b: Pick<GroupingPhoto, 'width' | 'height'>,
): number | null {
  if (!a.width || !a.height || !b.width || !b.height || !(m.scale > 0)) return null;
  return (m.scale * Math.max(b.width, b.height)) / Math.max(a.width, a.height);
}

/** Whether one of the pair is a crop of the other holding more pixels than the other has there: not a copy. */
export function gainsPixels(
  m: PairMeasure,
  a: Pick<GroupingPhoto, 'width' | 'height'>,
  b: Pick<GroupingPhoto, 'width' | 'height'>,
): boolean {
  const gain = pixelGain(m, a, b);
  if (gain === null) return false;
  const bIsCrop = m.shownOfA < 0.9 && !m.borderA && m.shownOfB >= 0.9;
  const aIsCrop = m.shownOfB < 0.9 && !m.borderB && m.shownOfA >= 0.9;
  return (bIsCrop && gain > MAX_CROP_GAIN) || (aIsCrop && 1 / gain > MAX_CROP_GAIN);
}

/** What b is against a, in words, and which of them is derived from the other. File facts come from the photos. */
export function describe(
  m: PairMeasure,
  a: Pick<GroupingPhoto, 'format' | 'width' | 'height' | 'size'>,
  b: Pick<GroupingPhoto, 'format' | 'width' | 'height' | 'size'>,
): PairVerdict {
  const edits: string[] = [];
  let derived: 'a' | 'b' | null = null;
  if (m.mirrored) edits.push('mirrored');
  const { turn, rest } = quarterTurn(m.rotation);
  if (turn !== 0) edits.push(`rotated ${turn}°`);
  // A few degrees more (a straightened horizon): what a homography fit measures to within about a degree.
  if (Math.abs(rest) >= 2)
    edits.push(`rotated ${Math.round(Math.abs(rest))}° ${rest > 0 ? 'clockwise' : 'anticlockwise'}`);
  let cropped = false;
  if (m.shownOfA < 0.9) {
    if (m.borderA) {
      // a's border is what b lacks: a is the copy with a border added.
      edits.push('border removed');
      derived = 'a';
    } else {
      edits.push(`cropped to ${Math.round(Math.sqrt(m.shownOfA) * 100)}%`);
      derived = 'b';
      cropped = true;
    }
  }
  if (m.shownOfB < 0.9) {
    if (m.borderB) {
      edits.push('border added');
      derived = 'b';
    } else if (!cropped) {
      edits.push('shows more (the other is cropped)');
      derived = 'a';
    }
  }
  if (m.colourB < GREY && m.colourA > COLOURFUL) {
    edits.push('greyscale');
    derived = 'b';
  } else if (m.colourA < GREY && m.colourB > COLOURFUL) {
    edits.push('in colour (the other is greyscale)');
    derived ??= 'a';
  }
  if (m.brightness > 1.1) edits.push('brighter');
  else if (m.brightness < 0.9) edits.push('darker');
  if (m.overlay) edits.push('caption or overlay');
  const fa = (a.format ?? '').toLowerCase();
  const fb = (b.format ?? '').toLowerCase();
  if (fa !== fb && fb) edits.push(`saved as ${formatLabel(fb)}`);
  const geometric = m.shownOfA < 0.9 || m.shownOfB < 0.9 || turn % 180 !== 0;
  if (!geometric && a.width && b.width && a.height && b.height && (a.width !== b.width || a.height !== b.height)) {
    const squashed = Math.abs(a.width / a.height - b.width / b.height) > 0.02 * (a.width / a.height);
    edits.push(squashed ? 'aspect changed' : `resized to ${b.width}×${b.height}`);
  }
  if (edits.length === 0) edits.push('re-encoded');
  return { same: m.same && !gainsPixels(m, a, b), edits, derived };
}

/** A candidate pair of photos with content hashes (the near tier asked about it). */
export interface CandidatePair {
  a: GroupingPhoto;
  b: GroupingPhoto;
  score: number;
}

/**
 * The measures of every candidate pair: cached ones from the library, the others made now and stored, VERIFY_SLICE at
 * a time (`onProgress` after each: pairs measured of those to measure). Keyed by content-hash pair; pairs without
 * thumbnails, or whose thumbnails cannot be read, have none (they stay look-alikes).
 */
export async function measurePairs(
  pairs: readonly CandidatePair[],
  store: Store,
  pool: VerifierPool,
  thumbnailDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<{ measures: Map<string, PairMeasure>; fresh: number; cached: number; skipped: number }> {
  const measures = new Map<string, PairMeasure>();
  const todo: { hashA: string; hashB: string; fileA: string; fileB: string }[] = [];
  const queued = new Set<string>();
  let cached = 0;
  let skipped = 0;
  for (const { a, b } of pairs) {
    if (!a.hash || !b.hash || a.hash === b.hash) continue;
    const key = pairKey(a.hash, b.hash);
    if (measures.has(key) || queued.has(key)) continue;
    const [hashA, hashB] = a.hash < b.hash ? [a.hash, b.hash] : [b.hash, a.hash];
    const stored = store.getVerdict(hashA, hashB, VERIFIER_VERSION);
    if (stored) {
      measures.set(key, JSON.parse(stored) as PairMeasure);
      cached++;
      continue;
    }
    const fileA = existingThumbnail(thumbnailDir, hashA);
    const fileB = existingThumbnail(thumbnailDir, hashB);
    if (!fileA || !fileB) {
      skipped++;
      continue;
    }
    queued.add(key);
    todo.push({ hashA, hashB, fileA, fileB });
  }
  // Pairs sharing a photo next to each other: a thread keeps the features of the pictures it saw last.
  const ordered = byNeighbourhood(todo);
  let fresh = 0;
  onProgress?.(0, ordered.length);
  for (let start = 0; start < ordered.length; start += VERIFY_SLICE) {
    const slice = ordered.slice(start, start + VERIFY_SLICE);
    const results = await pool.verify(slice.map((t) => ({ a: t.fileA, b: t.fileB })));
    const verdicts: { hashA: string; hashB: string; measure: string }[] = [];
    results.forEach((r, i) => {
      const t = slice[i]!;
      if ('error' in r) {
        skipped++;
        return;
      }
      measures.set(pairKey(t.hashA, t.hashB), r);
      verdicts.push({ hashA: t.hashA, hashB: t.hashB, measure: JSON.stringify(r) });
    });
    store.putVerdicts(verdicts, VERIFIER_VERSION);
    fresh += verdicts.length;
    onProgress?.(start + slice.length, ordered.length);
  }
  return { measures, fresh, cached, skipped };
}

/**
 * The pairs in the order of a walk through the graph they make (depth first, from the photo in most pairs): pairs
 * sharing a photo come close together, so a thread finds more of the pictures it needs among those it kept. On the
 * review bench this loads about a third fewer pictures than pairs in hash order.
 */
export function byNeighbourhood<T extends { hashA: string; hashB: string }>(pairs: readonly T[]): T[] {
  const around = new Map<string, T[]>();
  for (const p of pairs) {
    for (const h of [p.hashA, p.hashB]) {
      const list = around.get(h);
      if (list) list.push(p);
      else around.set(h, [p]);
    }
  }
  const starts = [...around.keys()].sort(
    (x, y) => around.get(y)!.length - around.get(x)!.length || (x < y ? -1 : x > y ? 1 : 0),
  );
  const visited = new Set<string>();
  const taken = new Set<T>();
  const out: T[] = [];
  for (const start of starts) {
    if (visited.has(start)) continue;
    const stack = [start];
    while (stack.length > 0) {
      const h = stack.pop()!;
      if (visited.has(h)) continue;
      visited.add(h);
      for (const p of around.get(h)!) {
        if (!taken.has(p)) {
          taken.add(p);
          out.push(p);
        }
        const other = p.hashA === h ? p.hashB : p.hashA;
        if (!visited.has(other)) stack.push(other);
      }
    }
  }
  return out;
}

/**
 * What a pair the vectors call unlike (below the look-alike threshold) must show to be the same picture: the
 * pictures agree in nearly every cell (all but a caption's row), untilted, one inside the other. On the review
 * bench the copies found so (cut to a corner, under a caption bar) all did; other shots of a scene with a still
 * background (a rehearsal room, the same dogs closer up) matched many keypoints but not this.
 */
export function sameDespiteVectors(m: PairMeasure): boolean {
  const agrees = m.agreement >= 0.9 || (m.overlay && m.agreement >= 0.75);
  const square = Math.abs(quarterTurn(m.rotation).rest) < SQUARE_TILT;
  return m.same && agrees && square && Math.max(m.shownOfA, m.shownOfB) >= 0.95;
}

/**
 * The verdict on (a, b) from the measures (stored for the pair in hash order), undefined when there is none. A pair
 * whose vectors score below `unlike` (the look-alike threshold) is held to sameDespiteVectors.
 */
export function verdictOf(
  measures: ReadonlyMap<string, PairMeasure>,
  a: GroupingPhoto,
  b: GroupingPhoto,
  score = 1,
  unlike = -Infinity,
): PairVerdict | undefined {
  if (!a.hash || !b.hash) return undefined;
  const m = measures.get(pairKey(a.hash, b.hash));
  if (!m) return undefined;
  const verdict = describe(a.hash < b.hash ? m : swapMeasure(m), a, b);
  return score < unlike && !sameDespiteVectors(m) ? { ...verdict, same: false } : verdict;
}
