// The duplicate scan's second stage for "find cropped copies": pairs that predicted corner views found below the
// near threshold are scored again with views encoded from crops of the cached thumbnails, which are kept in the
// library (encoded_views, by content hash) so that a later scan, in any process, encodes only what it has not.
import fs from 'node:fs';
import { imageToModelInputViews, type ModelInputSpec } from '../imaging/analyze.js';
import { existingThumbnail } from '../library/thumbnails.js';
import { viewScore } from '../search/crop-views.js';
import type { CompactIndex } from '../search/search-index.js';
import type { Store } from '../store/repository.js';
import { cosine } from '../vectors.js';

/** Photos a duplicate scan's second stage decodes and encodes at most (~30 ms each on 2 cores). */
export const ENCODED_VIEWS_PER_SCAN = 2000;
/** Photos encoded at once (four views each). */
const ENCODE_BATCH = 16;

/** What the second stage works with: the library, the model's input and encoder, the thumbnail cache. */
export interface EncodedViewsDeps {
  store: Store;
  modelId: number;
  inputSpec: ModelInputSpec;
  encode: (inputs: readonly Uint8Array[]) => Promise<Float32Array[]>;
  thumbnailDir: string;
}

/**
 * The duplicate scan's second stage for predicted views: a pair that views found below the near threshold is
 * scored again with views encoded from crops of both photos' cached thumbnails (the card's encodedThreshold),
 * closer to what a cropped copy encodes to than a prediction. Pairs that end below `floor` are dropped. `left`:
 * pairs this scan's budget did not reach (they keep their predicted scores; a later scan encodes them).
 */
export async function rescoreWithEncodedViews(
  found: Map<number, { id: number; score: number }[]>,
  index: CompactIndex,
  stage: { near: number; floor: number; stretch: number; fraction: number },
  deps: EncodedViewsDeps,
): Promise<{ neighbours: Map<number, { id: number; score: number }[]>; left: number }> {
  const { store, modelId, inputSpec, encode, thumbnailDir } = deps;
  // The most promising pairs first; a scan decodes at most ENCODED_VIEWS_PER_SCAN photos that it has no views
  // of yet (the rest keep their predicted scores until a later scan gets to them).
  const pairs: { a: number; b: number; score: number }[] = [];
  for (const [a, list] of found)
    for (const n of list) if (n.score < stage.near && a < n.id) pairs.push({ a, b: n.id, score: n.score });
  pairs.sort((x, y) => y.score - x.score || x.a - y.a || x.b - y.b);
  // Views encoded by an earlier scan (of this process or another) are kept in the library with the content hash
  // they were made from: they cost nothing, and the budget goes to photos not encoded yet.
  const encoded = new Map<number, Float32Array[]>();
  const hashes = new Map<number, string | null>();
  const hashOf = (id: number): string | null => {
    if (!hashes.has(id)) hashes.set(id, store.getPhoto(id)?.hash ?? null);
    return hashes.get(id)!;
  };
  const stored = (id: number): boolean => {
    if (encoded.has(id)) return true;
    const hash = hashOf(id);
    const views = hash ? store.getEncodedViews(id, modelId, stage.fraction, hash) : null;
    if (views) encoded.set(id, views);
    return views !== null;
  };
  const ids = new Set<number>();
  let fresh = 0;
  let left = 0;
  for (const { a, b } of pairs) {
    const add = [a, b].filter((id) => !ids.has(id));
    const cost = add.filter((id) => !stored(id)).length;
    if (fresh + cost > ENCODED_VIEWS_PER_SCAN) {
      left++;
      continue;
    }
    fresh += cost;
    for (const id of add) ids.add(id);
  }
  const todo: { id: number; hash: string }[] = [];
  for (const id of ids) {
    const hash = hashOf(id);
    if (hash && !encoded.has(id)) todo.push({ id, hash });
  }
  /** The model inputs of a photo's corner views from its thumbnail; null without one (its predicted score stands). */
  const inputsOf = async ({ id, hash }: { id: number; hash: string }) => {
    const file = existingThumbnail(thumbnailDir, hash);
    const bytes = file ? await fs.promises.readFile(file).catch(() => null) : null;
    const made = bytes && (await imageToModelInputViews(bytes, inputSpec, stage.fraction).catch(() => null));
    return made ? { id, hash, views: made.views } : null;
  };
  const made: { id: number; hash: string; views: Uint8Array[] }[] = [];
  // Decoded a few at a time: sharp runs them on libuv's threads.
  for (let start = 0; start < todo.length; start += ENCODE_BATCH) {
    const batch = await Promise.all(todo.slice(start, start + ENCODE_BATCH).map(inputsOf));
    for (const m of batch) if (m) made.push(m);
  }
  // A batch at a time, giving the event loop a turn between them (the app's main process runs this).
  for (let start = 0; start < made.length; start += ENCODE_BATCH) {
    const batch = made.slice(start, start + ENCODE_BATCH);
    const codes = await encode(batch.flatMap((m) => m.views));
    store.transaction(() =>
      batch.forEach((m, i) => {
        // As stored (quantised), so that this scan scores them as every later one will.
        encoded.set(m.id, store.putEncodedViews(m.id, modelId, stage.fraction, m.hash, codes.slice(i * 4, i * 4 + 4)));
      }),
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Each photo's exact vector read once (index.get reads it from the library), for the photos with encoded views'
  // pairs only.
  const vectors = new Map<number, Float32Array | undefined>();
  const vectorOf = (id: number): Float32Array | undefined => {
    if (!vectors.has(id)) vectors.set(id, index.get(id));
    return vectors.get(id);
  };
  /** The best encoded view of `a` against the vector of `b`, on the common scale. */
  const oneWay = (a: number, b: number): number => {
    const views = encoded.get(a);
    if (!views) return -Infinity;
    const vector = vectorOf(b);
    if (!vector) return -Infinity;
    return viewScore(Math.max(...views.map((v) => cosine(v, vector))), stage.stretch);
  };
  const out = new Map<number, { id: number; score: number }[]>();
  for (const [a, list] of found) {
    const kept = list
      .map((n) =>
        n.score >= stage.near ? n : { id: n.id, score: Math.max(n.score, oneWay(a, n.id), oneWay(n.id, a)) },
      )
      .filter((n) => n.score >= stage.floor)
      .sort((x, y) => y.score - x.score || x.id - y.id);
    if (kept.length > 0) out.set(a, kept);
  }
  return { neighbours: out, left };
}
