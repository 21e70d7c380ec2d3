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

/** Photos decoded and encoded at once (four views each; ~30 ms a photo on 2 cores), then stored. */
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
 * closer to what a cropped copy encodes to than a prediction. Pairs that end below `floor` are dropped. The views are
 * stored a batch at a time, so a scan that is stopped keeps what it encoded; `onProgress`: photos encoded of those
 * to encode.
 */
export async function rescoreWithEncodedViews(
  found: Map<number, { id: number; score: number }[]>,
  index: CompactIndex,
  stage: { near: number; floor: number; stretch: number; fraction: number },
  deps: EncodedViewsDeps,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<number, { id: number; score: number }[]>> {
  const { store, modelId, inputSpec, encode, thumbnailDir } = deps;
  // Views encoded by an earlier scan (of this process or another) are kept in the library with the content hash
  // they were made from: they cost nothing.
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
  for (const [a, list] of found)
    for (const n of list)
      if (n.score < stage.near && a < n.id) {
        ids.add(a);
        ids.add(n.id);
      }
  const todo: { id: number; hash: string }[] = [];
  for (const id of [...ids].sort((x, y) => x - y)) {
    const hash = hashOf(id);
    if (hash && !stored(id)) todo.push({ id, hash });
  }
  /** The model inputs of a photo's corner views from its thumbnail; null without one (its predicted score stands). */
  const inputsOf = async ({ id, hash }: { id: number; hash: string }) => {
    const file = existingThumbnail(thumbnailDir, hash);
    const bytes = file ? await fs.promises.readFile(file).catch(() => null) : null;
    const made = bytes && (await imageToModelInputViews(bytes, inputSpec, stage.fraction).catch(() => null));
    return made ? { id, hash, views: made.views } : null;
  };
  onProgress?.(0, todo.length);
  for (let start = 0; start < todo.length; start += ENCODE_BATCH) {
    // Decoded a few at a time (sharp runs them on libuv's threads), encoded and stored, then the event loop gets a
    // turn (the app's main process runs this).
    const made = (await Promise.all(todo.slice(start, start + ENCODE_BATCH).map(inputsOf))).filter((m) => m !== null);
    const codes = made.length > 0 ? await encode(made.flatMap((m) => m.views)) : [];
    store.transaction(() =>
      made.forEach((m, i) => {
        // As stored (quantised), so that this scan scores them as every later one will.
        encoded.set(m.id, store.putEncodedViews(m.id, modelId, stage.fraction, m.hash, codes.slice(i * 4, i * 4 + 4)));
      }),
    );
    onProgress?.(Math.min(todo.length, start + ENCODE_BATCH), todo.length);
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
  return out;
}
