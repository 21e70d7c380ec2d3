// The indexing pipeline: scan -> read + hash -> decode (sharp) -> encode (autoencoder) -> store.
// Incremental: a file whose size and mtime are unchanged is not read again; a file whose content hash the
// library already has a vector for (a move, a rename, a copy) is not decoded again. Files are decoded several
// at a time, ahead of the batch being encoded and written, so decoding, encoding and writing overlap. Each
// batch is written in one transaction, so an interrupted run keeps every finished batch and the next run
// goes on from there. The same function runs inside the indexing worker thread (./worker.ts) and, for an
// in-memory library that a worker cannot open, in the caller's thread.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DoppelError,
  type FileError,
  type FolderInfo,
  type IndexProgress,
  type IndexSummary,
} from '../../shared/api.js';
import { analyzeImage, thumbnailToModelInput, type ModelInputSpec } from '../imaging/analyze.js';
import type { EncodedWithViews } from '../model/card.js';
import { allTurnInputs } from '../search/turn-views.js';
import { closeLater, openRegularFileStat, UnreadableFile, type OpenedFile } from '../library/read-file.js';
import { fsReason, scanFolder } from '../library/scan.js';
import { clearPartialThumbnails, existingThumbnail, writeThumbnail } from '../library/thumbnails.js';
import type { PhotoRecord, Store, StoredPhoto } from '../store/repository.js';
import { ReadBudget, type Content } from './read-budget.js';

export interface IndexOptions {
  exclude?: string[];
  /** Where display thumbnails are cached (by content hash). */
  thumbnailDir: string;
  batchSize?: number;
  /** Files read and decoded at once (default: two per core). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Awaited between batches; resolves when indexing may go on (how pause is implemented). */
  whenRunnable?: () => Promise<void>;
  onProgress?: (p: IndexProgress) => void;
  /** Called after each batch is committed, so a search index can catch up (from SQLite's change log). */
  onBatch?: () => void;
  /**
   * "Find cropped copies": also store each photo's four corner views, keeping this fraction of each side
   * (search/crop-views.ts; the model's predictor makes them, see model/view-predictor.ts). Photos indexed without
   * them get them from their cached thumbnail.
   */
  cropViews?: number;
}

/** What indexing needs of a model: an Autoencoder, or a LazyModel whose weights load once decoding has begun. */
export interface IndexModel {
  readonly name: string;
  /** The name its vectors are stored under (CardDerived.vectorKey). */
  readonly vectorKey: string;
  readonly dim: number;
  readonly inputSize: number;
  readonly inputSpec: ModelInputSpec;
  encode(inputs: readonly Uint8Array[]): Float32Array[] | Promise<Float32Array[]>;
  /** Vectors with each input's corner views (runs with cropViews; the model's card has a view predictor). */
  encodeWithViews(inputs: readonly Uint8Array[]): EncodedWithViews | Promise<EncodedWithViews>;
  /** Called once the first files are being decoded: a lazily loaded model starts loading alongside. */
  prepare?(): void;
}

interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  folderId: number;
  /** The file was found by a scan that follows links (its folder's setting): it is opened through one too. */
  followSymlinks: boolean;
}

interface Task {
  entry: FileEntry;
  existing: StoredPhoto | null;
  /** Unchanged file that lacks a vector for this model: encode it again from its cached thumbnail. */
  reencode: boolean;
  /** Unchanged file with a vector that lacks its corner views: make only those, from its cached thumbnail. */
  viewsOnly: boolean;
}

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

type Processed =
  /** Decoded: `input` is the model input to encode (with its corner views in runs that want them). */
  | { kind: 'decoded'; record: PhotoRecord; input: Uint8Array }
  /** Same content as a photo the library already has a vector (and the views wanted) for: they are copied. */
  | { kind: 'reused'; record: PhotoRecord; vector: Float32Array; turns: Float32Array[]; views?: Float32Array[] }
  /** An unchanged photo that only lacks its corner or turned views: the model input they are made from. */
  | { kind: 'views'; photoId: number; input: Uint8Array }
  | { kind: 'error'; record: PhotoRecord }
  /**
   * Given up on (a read that did not answer in time, a drive that stopped answering): reported, and read again by
   * the next run. A photo indexed before keeps its record; a new one is stored as an error with an mtime no file
   * has (RETRY_MTIME), so the next scan does not take it for unchanged.
   */
  | { kind: 'retry'; record: PhotoRecord }
  | { kind: 'vanished' };

/** The mtime of a file given up on: never equal to a scanned one, so the next run reads the file again. */
const RETRY_MTIME = -1;

function baseRecord(entry: FileEntry): PhotoRecord {
  return {
    folderId: entry.folderId,
    path: entry.path,
    size: entry.size,
    mtimeMs: entry.mtimeMs,
    dev: entry.dev,
    ino: entry.ino,
    hash: null,
    width: null,
    height: null,
    format: null,
    takenAt: null,
    orientation: null,
    status: 'error',
    error: null,
  };
}

async function processTask(
  task: Task,
  store: Store,
  modelId: number,
  model: IndexModel,
  opts: IndexOptions,
  reads: ReadBudget,
): Promise<Processed> {
  const { entry, existing } = task;
  const base = baseRecord(entry);
  try {
    if (task.reencode && existing?.hash) {
      // A new model, or views to add: the inputs come from the cached analysis thumbnail, not from the original.
      const cached = existingThumbnail(opts.thumbnailDir, existing.hash);
      const thumb = cached ? await fs.promises.readFile(cached).catch(() => null) : null;
      if (thumb) {
        const input = await thumbnailToModelInput(thumb, model.inputSpec);
        if (task.viewsOnly) return { kind: 'views', photoId: existing.id, input };
        const { id: _id, folderId: _f, dev: _d, ino: _i, indexedAt: _t, ...kept } = existing;
        return { kind: 'decoded', input, record: { ...base, ...kept, status: 'indexed', error: null } };
      }
    }
    const unreadable = (err: unknown): Processed => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'vanished' };
      const reason = err instanceof UnreadableFile ? err.message : fsReason(err);
      if (err instanceof UnreadableFile && err.retry) {
        return { kind: 'retry', record: { ...base, mtimeMs: RETRY_MTIME, error: reason } };
      }
      return { kind: 'error', record: { ...base, error: reason } };
    };
    let file: OpenedFile;
    try {
      // Opened once, as a regular file, within a time limit: a FIFO swapped in after the scan is reported, not read.
      // A drive that stopped answering is not asked again for its other files (read-file.ts).
      file = await openRegularFileStat(entry.path, {
        followSymlinks: entry.followSymlinks,
        device: entry.dev,
        // A cancelled run gives up on its reads at once: a drive they wait on is not asked again (read-file.ts).
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      return unreadable(err);
    }
    try {
      let content: Content;
      try {
        // Within the run's byte budget: read whole, or (a large file) hashed and decoded through the descriptor.
        content = await reads.read(file);
      } catch (err) {
        return unreadable(err);
      }
      try {
        return await indexContent(content, base, store, modelId, model, opts);
      } finally {
        content.release();
      }
    } finally {
      closeLater(file.handle);
    }
  } catch (err) {
    // Never let one file stop the run (out of memory in a decoder, a full disk for the thumbnail, ...).
    return { kind: 'error', record: { ...base, error: `Could not index: ${(err as Error)?.message ?? err}` } };
  }
}

/** A read file's record: its vector and views copied from a photo with the same content, or decoded anew. */
async function indexContent(
  content: Content,
  base: PhotoRecord,
  store: Store,
  modelId: number,
  model: IndexModel,
  opts: IndexOptions,
): Promise<Processed> {
  const fraction = opts.cropViews;
  const { hash, size } = content;
  const known = store.vectorByHash(hash, modelId);
  const knownViews = known && fraction !== undefined ? store.getViews(known.photo.id, modelId, fraction) : null;
  const knownTurns = known ? store.getTurns(known.photo.id, modelId) : null;
  // A copy whose views are wanted but missing is decoded like a new photo.
  if (known && knownTurns && (fraction === undefined || knownViews)) {
    const { photo } = known;
    const record: PhotoRecord = {
      ...base,
      size,
      hash,
      width: photo.width,
      height: photo.height,
      format: photo.format,
      takenAt: photo.takenAt,
      orientation: photo.orientation,
      status: 'indexed',
    };
    return {
      kind: 'reused',
      record,
      vector: known.vector,
      turns: knownTurns,
      ...(knownViews ? { views: knownViews } : {}),
    };
  }
  try {
    const a = await analyzeImage(content.image, {
      inputSize: model.inputSize,
      trimBorders: model.inputSpec.trimBorders,
    });
    // Written whether or not one is there already (a file with this content indexed before, its record since
    // removed): the same bytes replace it atomically, and the indexing thread makes no synchronous file-system
    // call per photo (measured at ~0.6 ms a stat with the decoders' reads and writes in flight).
    await writeThumbnail(opts.thumbnailDir, hash, a.thumbnail);
    return {
      kind: 'decoded',
      input: a.modelInput,
      record: {
        ...base,
        size,
        hash,
        width: a.width,
        height: a.height,
        format: a.format,
        takenAt: a.takenAt,
        orientation: a.orientation,
        status: 'indexed',
      },
    };
  } catch (err) {
    const reason = err instanceof DoppelError ? err.message : `Could not decode: ${(err as Error).message}`;
    return { kind: 'error', record: { ...base, hash, error: reason } };
  }
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
