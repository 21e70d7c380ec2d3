// The indexing pipeline: scan -> read + hash -> decode (sharp) -> encode (autoencoder) -> store.
// Incremental: a file whose size and mtime are unchanged is not read again; a file whose content hash the
// library already has a vector for (a move, a rename, a copy) is not decoded again. Files are decoded several
// at a time, ahead of the batch being encoded and written, so decoding, encoding and writing overlap. Each
// batch is written in one transaction, so an interrupted run keeps every finished batch and the next run
// goes on from there. The same function runs inside the indexing worker thread (./worker.ts) and, for an
// in-memory library that a worker cannot open, in the caller's thread.
//
// This file is the run: the scan, then the batches. Each file's own processing is in process-file.ts.
import os from 'node:os';
import path from 'node:path';
import {
  DoppelError,
  type FileError,
  type FolderInfo,
  type IndexProgress,
  type IndexSummary,
} from '../../shared/api.js';
import type { EncodedWithViews } from '../model/card.js';
import { allTurnInputs } from '../search/turn-views.js';
import { scanFolder } from '../library/scan.js';
import { clearPartialThumbnails } from '../library/thumbnails.js';
import type { Store } from '../store/repository.js';
import type { IndexModel, IndexOptions } from './options.js';
import { processTask, type Processed, type Task } from './process-file.js';
import { ReadBudget } from './read-budget.js';

export type { IndexModel, IndexOptions } from './options.js';

/** Scan progress is sent at most this often (a scan can list tens of thousands of files a second). */
const SCAN_PROGRESS_MS = 100;

/** Runs at most `limit` of the functions given to it at once. */
function limiter(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/** `work`, or the error `cancelled` makes as soon as `signal` aborts (`work` goes on, its result unused). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, cancelled: () => Error): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(cancelled());
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Indexes the given folders (already registered in the store) for `model`. */
export async function indexFolders(
  store: Store,
  model: IndexModel,
  folders: readonly FolderInfo[],
  opts: IndexOptions,
): Promise<IndexSummary> {
  const started = Date.now();
  const modelId = store.ensureModel({ name: model.vectorKey, dim: model.dim, inputSize: model.inputSize });
  const summary: IndexSummary = {
    scanned: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    removed: 0,
    errors: [],
    offlineFolders: [],
    durationMs: 0,
  };
  const cancelled = () => new DoppelError('cancelled', 'Indexing was cancelled');
  const progress = (p: Omit<IndexProgress, 'rate' | 'etaMs'>, t0: number): void => {
    const secs = (Date.now() - t0) / 1000;
    const rate = p.phase === 'index' && secs > 0 ? p.done / secs : 0;
    opts.onProgress?.({ ...p, rate, etaMs: rate > 0 ? ((p.total - p.done) / rate) * 1000 : null });
  };

  // Half-written thumbnails of a run that was killed go (the thumbnails themselves are whole or absent).
  await clearPartialThumbnails(opts.thumbnailDir);

  // Phase 1: scan every folder and work out what changed.
  const todo: Task[] = [];
  const removed: number[] = [];
  let lastScanProgress = 0;
  for (const folder of folders) {
    const known = new Map(store.photosInFolder(folder.id).map((p) => [p.path, p]));
    const withVector = store.photoIdsWithVector(folder.id, modelId);
    const withViews = opts.cropViews === undefined ? null : store.photoIdsWithViews(folder.id, modelId, opts.cropViews);
    const withTurns = store.photoIdsWithTurns(folder.id, modelId);
    const seen = new Set<string>();
    /** Folders the scan could not list: what the library knew below them is kept, not taken for removed. */
    const unlisted: string[] = [];
    const scanErrors: FileError[] = [];
    try {
      for await (const event of scanFolder(folder.path, {
        exclude: opts.exclude,
        // The folder's own saved setting: every run (the CLI, the watcher, the app) scans it the same way.
        followSymlinks: folder.followSymlinks,
        // Library folders inside this one hold the photos below them: they are scanned as folders of their own.
        skipDirs: new Set(store.subfolders(folder.id)),
        signal: opts.signal,
      })) {
        if (opts.signal?.aborted) throw cancelled();
        if (event.type === 'error') {
          summary.errors.push({ path: event.path, reason: event.reason });
          scanErrors.push({ path: event.path, reason: event.reason });
          // A file that could not be looked at is still there: its record stays as it was.
          if (event.folder) unlisted.push(event.path + path.sep);
          else seen.add(event.path);
          continue;
        }
        summary.scanned++;
        seen.add(event.path);
        const existing = known.get(event.path) ?? null;
        const same = existing !== null && existing.size === event.size && existing.mtimeMs === event.mtimeMs;
        const complete = (id: number): boolean =>
          withVector.has(id) && withTurns.has(id) && (withViews === null || withViews.has(id));
        if (same && (existing.status === 'error' || complete(existing.id))) {
          summary.unchanged++;
          if (existing.status === 'error') summary.errors.push({ path: existing.path, reason: existing.error ?? '' });
        } else {
          const reencode = same && existing.status === 'indexed' && existing.hash !== null;
          const viewsOnly = reencode && withVector.has(existing.id);
          todo.push({
            entry: { ...event, folderId: folder.id, followSymlinks: folder.followSymlinks },
            existing,
            reencode,
            viewsOnly,
          });
        }
        const now = Date.now();
        if (now - lastScanProgress >= SCAN_PROGRESS_MS) {
          lastScanProgress = now;
          progress({ phase: 'scan', done: summary.scanned, total: 0, currentPath: event.path }, started);
        }
      }
    } catch (err) {
      if (err instanceof DoppelError && err.kind === 'not-found') {
        // An unplugged drive or unmounted share is not a deleted folder: keep its photos.
        store.setFolderStatus(folder.id, 'offline');
        summary.offlineFolders.push(folder.path);
        continue;
      }
      throw err;
    }
    if (folder.status === 'offline') store.setFolderStatus(folder.id, 'online');
    store.setScanErrors(folder.id, scanErrors);
    for (const [p, photo] of known) {
      if (!seen.has(p) && !unlisted.some((dir) => p.startsWith(dir))) removed.push(photo.id);
    }
  }

  // Phase 2: decode, encode and store what is new or changed, batch by batch. Removed photos go last, so a
  // moved file finds its old vector by content hash.
  const batchSize = opts.batchSize ?? 32;
  // Two files per core in flight: while this thread encodes a batch (the model runs on it), the decodes already
  // handed to libuv's pool keep every core busy (one per core left them idle: 150% CPU on 2 cores, 170% with two).
  const limit = limiter(Math.max(1, opts.concurrency ?? 2 * os.availableParallelism()));
  // What those files hold in memory is bounded too: by bytes, not by their number (./read-budget.ts).
  const reads = new ReadBudget();
  const inFlight = new Map<number, Promise<Processed>>();
  const start = (i: number): Promise<Processed> => {
    let p = inFlight.get(i);
    if (!p) {
      p = limit(() =>
        opts.signal?.aborted
          ? Promise.resolve({ kind: 'vanished' as const })
          : processTask(todo[i]!, store, modelId, model, opts, reads),
      );
      inFlight.set(i, p);
    }
    return p;
  };
  const t0 = Date.now();
  let done = 0;
  for (let i = 0; i < todo.length; i += batchSize) {
    await opts.whenRunnable?.();
    if (opts.signal?.aborted) throw cancelled();
    const end = Math.min(i + batchSize, todo.length);
    // The next batch decodes while this one is encoded and written.
    for (let j = i; j < Math.min(todo.length, end + batchSize); j++) start(j);
    if (i === 0) model.prepare?.();
    const results: Processed[] = [];
    for (let j = i; j < end; j++) {
      // Cancelling ends the run now, even while a file is waiting out its read's time limit.
      results.push(await untilAborted(start(j), opts.signal, cancelled));
      inFlight.delete(j);
    }
    if (opts.signal?.aborted) throw cancelled();
    const batch = todo.slice(i, end);
    // One encoder call for the batch: every decoded photo's input, and the inputs of photos that lack only their
    // corner views (whose vectors are not written again: they have theirs).
    const toEncode = results.flatMap((r, j) =>
      r.kind === 'decoded' || r.kind === 'views' ? [{ input: r.input, j, vector: r.kind === 'decoded' }] : [],
    );
    const inputs = toEncode.map((e) => e.input);
    const encoded: EncodedWithViews =
      inputs.length === 0
        ? { vectors: [], views: [] }
        : opts.cropViews === undefined
          ? { vectors: await model.encode(inputs), views: [] }
          : await model.encodeWithViews(inputs);
    // Turned views (search/turn-views.ts): two more vectors an input, from the same inputs turned.
    const turned = inputs.length === 0 ? [] : await model.encode(allTurnInputs(inputs, model.inputSize));
    const vectorOf = new Map<number, Float32Array>();
    const viewsOf = new Map<number, Float32Array[]>();
    const turnsOf = new Map<number, Float32Array[]>();
    toEncode.forEach(({ j, vector }, n) => {
      if (vector) vectorOf.set(j, encoded.vectors[n]!);
      turnsOf.set(j, [turned[2 * n]!, turned[2 * n + 1]!]);
      const views = encoded.views[n];
      if (views) viewsOf.set(j, views);
    });
    results.forEach((r, j) => {
      if (r.kind !== 'reused') return;
      vectorOf.set(j, r.vector);
      turnsOf.set(j, r.turns);
      if (r.views) viewsOf.set(j, r.views);
    });
    const errors: FileError[] = [];
    const gone: number[] = [];
    store.transaction(() => {
      results.forEach((r, j) => {
        const existing = batch[j]!.existing;
        if (r.kind === 'vanished') {
          if (existing) gone.push(existing.id);
          return;
        }
        if (r.kind === 'retry' && existing?.status === 'indexed') {
          // Reported; the photo keeps its record (and vector) until a run reads it.
          errors.push({ path: r.record.path, reason: r.record.error ?? '' });
          return;
        }
        if (r.kind === 'views') {
          const views = viewsOf.get(j);
          if (views && opts.cropViews !== undefined) store.putViews(r.photoId, modelId, opts.cropViews, views);
          store.putTurns(r.photoId, modelId, turnsOf.get(j)!);
          summary.updated++;
          return;
        }
        const id = store.upsertPhoto(r.record);
        if (existing) summary.updated++;
        else summary.added++;
        if (r.kind === 'error' || r.kind === 'retry')
          errors.push({ path: r.record.path, reason: r.record.error ?? '' });
        const vector = vectorOf.get(j);
        if (vector) {
          store.putVector(id, modelId, vector);
          store.putTurns(id, modelId, turnsOf.get(j)!);
          // Views belong to the content the vector was made from: new ones, or none.
          const views = viewsOf.get(j);
          if (views) store.putViews(id, modelId, opts.cropViews!, views);
          else store.deleteViews(id, modelId);
        }
      });
      if (gone.length > 0) store.deletePhotos(gone);
    });
    summary.errors.push(...errors);
    summary.removed += gone.length;
    opts.onBatch?.();
    done += batch.length;
    progress({ phase: 'index', done, total: todo.length, currentPath: batch[batch.length - 1]!.entry.path }, t0);
  }
  if (removed.length > 0) {
    store.transaction(() => store.deletePhotos(removed));
    summary.removed += removed.length;
    opts.onBatch?.();
  }
  summary.durationMs = Date.now() - started;
  opts.onProgress?.({ phase: 'done', done, total: todo.length, currentPath: null, rate: 0, etaMs: 0 });
  return summary;
}
