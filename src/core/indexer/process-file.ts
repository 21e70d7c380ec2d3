// One file of an indexing run: read and hashed, then its vector copied from a photo with the same content, or
// decoded anew (or its inputs remade from its cached thumbnail); never an error that stops the run.
import fs from 'node:fs';
import { DoppelError } from '../../shared/api.js';
import { analyzeImage, thumbnailToModelInput } from '../imaging/analyze.js';
import { closeLater, openRegularFileStat, UnreadableFile, type OpenedFile } from '../library/read-file.js';
import { fsReason, isRawPath } from '../library/scan.js';
import { existingThumbnail, writeThumbnail } from '../library/thumbnails.js';
import type { PhotoRecord, Store, StoredPhoto } from '../store/repository.js';
import type { IndexModel, IndexOptions } from './options.js';
import type { Content, ReadBudget } from './read-budget.js';

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

export interface Task {
  entry: FileEntry;
  existing: StoredPhoto | null;
  /** Unchanged file that lacks a vector for this model: encode it again from its cached thumbnail. */
  reencode: boolean;
  /** Unchanged file with a vector that lacks its corner views: make only those, from its cached thumbnail. */
  viewsOnly: boolean;
}

export type Processed =
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

/** Processes one file of the run (never throws: a failure is the file's error). */
export async function processTask(
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
      raw: isRawPath(base.path),
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
