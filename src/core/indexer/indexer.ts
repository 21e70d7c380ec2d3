// The indexing pipeline: scan -> read + hash -> decode (sharp) -> encode (autoencoder) -> store.
// Incremental: a file whose size and mtime are unchanged is not read again. Each batch is written in
// one transaction, so an interrupted run keeps every finished batch.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  DoppelError,
  type FileError,
  type FolderInfo,
  type IndexProgress,
  type IndexSummary,
} from '../../shared/api.js';
import { analyzeImage } from '../imaging/analyze.js';
import { fsReason, scanFolder } from '../library/scan.js';
import type { Autoencoder } from '../model/autoencoder.js';
import type { PhotoRecord, Store, StoredPhoto } from '../store/repository.js';

export interface IndexOptions {
  exclude?: string[];
  followSymlinks?: boolean;
  /** Where display thumbnails are cached (by content hash). */
  thumbnailDir: string;
  batchSize?: number;
  signal?: AbortSignal;
  /** Awaited between batches; resolves when indexing may go on (how pause is implemented). */
  whenRunnable?: () => Promise<void>;
  onProgress?: (p: IndexProgress) => void;
  /** Called after each batch is committed, so a search index can follow. */
  onBatch?: (change: { upserted: { id: number; vector: Float32Array }[]; removed: number[] }) => void;
}

interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  folderId: number;
}

const DECODE_CONCURRENCY = 3;

export function contentHash(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export function thumbnailPath(thumbnailDir: string, hash: string): string {
  return path.join(thumbnailDir, hash.slice(0, 2), `${hash}.webp`);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

type Processed =
  | { kind: 'ok'; record: PhotoRecord; input: Uint8Array }
  | { kind: 'error'; record: PhotoRecord }
  | { kind: 'vanished' };

async function processFile(entry: FileEntry, model: Autoencoder, opts: IndexOptions): Promise<Processed> {
  const base = {
    folderId: entry.folderId,
    path: entry.path,
    size: entry.size,
    mtimeMs: entry.mtimeMs,
    dev: entry.dev,
    ino: entry.ino,
    width: null,
    height: null,
    format: null,
    takenAt: null,
    orientation: null,
  };
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(entry.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'vanished' };
    return { kind: 'error', record: { ...base, hash: null, status: 'error', error: fsReason(err) } };
  }
  const hash = contentHash(bytes);
  try {
    const a = await analyzeImage(bytes, { inputSize: model.inputSize, trimBorders: model.inputSpec.trimBorders });
    const thumb = thumbnailPath(opts.thumbnailDir, hash);
    if (!fs.existsSync(thumb)) {
      await fs.promises.mkdir(path.dirname(thumb), { recursive: true });
      await fs.promises.writeFile(thumb, a.thumbnail);
    }
    return {
      kind: 'ok',
      input: a.modelInput,
      record: {
        ...base,
        size: bytes.length,
        hash,
        width: a.width,
        height: a.height,
        format: a.format,
        takenAt: a.takenAt,
        orientation: a.orientation,
        status: 'indexed',
        error: null,
      },
    };
  } catch (err) {
    const reason = err instanceof DoppelError ? err.message : `Could not decode: ${(err as Error).message}`;
    return { kind: 'error', record: { ...base, hash, status: 'error', error: reason } };
  }
}

/** Indexes the given folders (already registered in the store) for `model`. */
export async function indexFolders(
  store: Store,
  model: Autoencoder,
  folders: readonly FolderInfo[],
  opts: IndexOptions,
): Promise<IndexSummary> {
  const started = Date.now();
  const modelId = store.ensureModel({ name: model.name, dim: model.dim, inputSize: model.inputSize });
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
  const progress = (p: Omit<IndexProgress, 'rate' | 'etaMs'>, t0: number): void => {
    const secs = (Date.now() - t0) / 1000;
    const rate = p.phase === 'index' && secs > 0 ? p.done / secs : 0;
    opts.onProgress?.({ ...p, rate, etaMs: rate > 0 ? ((p.total - p.done) / rate) * 1000 : null });
  };

  // Phase 1: scan every folder and work out what changed.
  const todo: { entry: FileEntry; existing: StoredPhoto | null }[] = [];
  const removed: number[] = [];
  for (const folder of folders) {
    const known = new Map(store.photosInFolder(folder.id).map((p) => [p.path, p]));
    const seen = new Set<string>();
    try {
      for await (const event of scanFolder(folder.path, {
        exclude: opts.exclude,
        followSymlinks: opts.followSymlinks,
        signal: opts.signal,
      })) {
        if (opts.signal?.aborted) throw new DoppelError('cancelled', 'Indexing was cancelled');
        if (event.type === 'error') {
          summary.errors.push({ path: event.path, reason: event.reason });
          continue;
        }
        summary.scanned++;
        seen.add(event.path);
        const existing = known.get(event.path) ?? null;
        const unchanged =
          existing !== null &&
          existing.size === event.size &&
          existing.mtimeMs === event.mtimeMs &&
          (existing.status === 'error' || store.getVector(existing.id, modelId) !== null);
        if (unchanged) {
          summary.unchanged++;
          if (existing.status === 'error') summary.errors.push({ path: existing.path, reason: existing.error ?? '' });
        } else {
          todo.push({ entry: { ...event, folderId: folder.id }, existing });
        }
        progress({ phase: 'scan', done: summary.scanned, total: 0, currentPath: event.path }, started);
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
    for (const [p, photo] of known) if (!seen.has(p)) removed.push(photo.id);
  }
  if (removed.length > 0) {
    store.transaction(() => store.deletePhotos(removed));
    summary.removed = removed.length;
    opts.onBatch?.({ upserted: [], removed });
  }

  // Phase 2: decode, encode and store what is new or changed, batch by batch.
  const batchSize = opts.batchSize ?? 32;
  const t0 = Date.now();
  let done = 0;
  for (let i = 0; i < todo.length; i += batchSize) {
    await opts.whenRunnable?.();
    if (opts.signal?.aborted) throw new DoppelError('cancelled', 'Indexing was cancelled');
    const batch = todo.slice(i, i + batchSize);
    const results = await mapLimit(batch, DECODE_CONCURRENCY, (t) => processFile(t.entry, model, opts));
    const ok = results.flatMap((r, j) => (r.kind === 'ok' ? [{ r, j }] : []));
    const vectors = model.encode(ok.map(({ r }) => r.input));
    const ids: number[] = [];
    const upserted: { id: number; vector: Float32Array }[] = [];
    const errors: FileError[] = [];
    store.transaction(() => {
      results.forEach((r, j) => {
        if (r.kind === 'vanished') return;
        ids[j] = store.upsertPhoto(r.record);
        if (batch[j]!.existing) summary.updated++;
        else summary.added++;
        if (r.kind === 'error') errors.push({ path: r.record.path, reason: r.record.error ?? '' });
      });
      ok.forEach(({ j }, n) => {
        store.putVector(ids[j]!, modelId, vectors[n]!);
        upserted.push({ id: ids[j]!, vector: vectors[n]! });
      });
    });
    summary.errors.push(...errors);
    opts.onBatch?.({ upserted, removed: [] });
    done += batch.length;
    progress({ phase: 'index', done, total: todo.length, currentPath: batch[batch.length - 1]!.entry.path }, t0);
  }
  summary.durationMs = Date.now() - started;
  opts.onProgress?.({ phase: 'done', done, total: todo.length, currentPath: null, rate: 0, etaMs: 0 });
  return summary;
}
