// The library's photos (table photos) and what scans could not read (scan_errors): rows, pages, counts, hash groups.
import nodePath from 'node:path';
import type { Database } from 'better-sqlite3';
import { ASPECT_SCALE, DoppelError } from '../../shared/api.js';
import type { FileError, PhotoInfo, PhotoLayout, PhotoPage, PhotoSection, PhotoStatus } from '../../shared/api.js';
import { inTransaction, reads, writes, type ReadDb, type WriteDb } from './handles.js';
import { sqlInside } from './sql.js';

/** A photo row as the indexer needs it: the public fields plus the file identity used to spot moves and hard links. */
export interface StoredPhoto extends PhotoInfo {
  dev: number | null;
  ino: number | null;
  indexedAt: number;
}

/** What the indexer writes for one file; upserted by path. */
export interface PhotoRecord {
  folderId: number;
  path: string;
  size: number;
  mtimeMs: number;
  dev?: number | null;
  ino?: number | null;
  hash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  takenAt: string | null;
  orientation: number | null;
  status: PhotoStatus;
  error: string | null;
  /** Defaults to now. */
  indexedAt?: number;
}

export interface HashGroup {
  hash: string;
  /** Ascending photo ids, at least two. */
  ids: number[];
}

export type PhotoSort = 'name' | 'date' | 'path';

/** A row of photos as SQLite gives it (SELECT *); vectors.ts reads them too. */
export interface PhotoRow {
  id: number;
  folder_id: number;
  path: string;
  size: number;
  mtime_ms: number;
  dev: number | null;
  ino: number | null;
  hash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  taken_at: string | null;
  orientation: number | null;
  status: PhotoStatus;
  error: string | null;
  indexed_at: number;
}

const toPhoto = (r: PhotoRow): PhotoInfo => ({
  id: r.id,
  folderId: r.folder_id,
  path: r.path,
  size: r.size,
  mtimeMs: r.mtime_ms,
  hash: r.hash,
  width: r.width,
  height: r.height,
  format: r.format,
  takenAt: r.taken_at,
  orientation: r.orientation,
  status: r.status,
  error: r.error,
});

export const toStoredPhoto = (r: PhotoRow): StoredPhoto => ({
  ...toPhoto(r),
  dev: r.dev,
  ino: r.ino,
  indexedAt: r.indexed_at,
});

/** Registers the SQL functions the photo queries use (doppel_basename, for the 'name' sort) on a connection. */
export function registerPhotoFunctions(db: Database): void {
  db.function('doppel_basename', { deterministic: true }, (p: unknown) =>
    typeof p === 'string' ? nodePath.basename(p) : null,
  );
}

// Sort keys for listPhotos. 'date' uses the EXIF capture date and falls back to the file's mtime (UTC).
const DATE_KEY = `COALESCE(taken_at, strftime('%Y-%m-%dT%H:%M:%S', mtime_ms / 1000, 'unixepoch'))`;
const ORDER_BY: Record<PhotoSort, string> = {
  name: 'doppel_basename(path) COLLATE NOCASE, path, id',
  date: `${DATE_KEY}, path, id`,
  path: 'path, id',
};

/** One page statement per sort order, prepared on first use. */
const listBy = new Map<string, ReturnType<typeof reads>>();

/**
 * A photo belongs to the deepest library folder it is inside (a folder added inside another one is a root of its
 * own), whichever folder's scan wrote it; @folderId when no folder holds its path.
 */
const OWNER_OF_PATH = `COALESCE(
    (SELECT f.id FROM folders f WHERE ${sqlInside('@path', 'f.path')} ORDER BY length(f.path) DESC LIMIT 1),
    @folderId)`;

const photoUpsert = writes(`
  INSERT INTO photos (folder_id, path, size, mtime_ms, dev, ino, hash, width, height, format, taken_at,
                      orientation, status, error, indexed_at)
  VALUES (${OWNER_OF_PATH}, @path, @size, @mtimeMs, @dev, @ino, @hash, @width, @height, @format, @takenAt,
          @orientation, @status, @error, @indexedAt)
  ON CONFLICT(path) DO UPDATE SET
    folder_id = excluded.folder_id, size = excluded.size, mtime_ms = excluded.mtime_ms, dev = excluded.dev,
    ino = excluded.ino, hash = excluded.hash, width = excluded.width, height = excluded.height,
    format = excluded.format, taken_at = excluded.taken_at, orientation = excluded.orientation,
    status = excluded.status, error = excluded.error, indexed_at = excluded.indexed_at
  RETURNING id`);
const photoById = reads('SELECT * FROM photos WHERE id = ?');
const photoByPath = reads('SELECT * FROM photos WHERE path = ?');
const photosInFolderStmt = reads('SELECT * FROM photos WHERE folder_id = ? ORDER BY path');
const photoMissing = writes("UPDATE photos SET status = 'missing' WHERE id = ?");
const photoDelete = writes('DELETE FROM photos WHERE id = ?');
const photoCount = reads('SELECT count(*) FROM photos', 'pluck');
const photoCountStatus = reads('SELECT count(*) FROM photos WHERE status = ?', 'pluck');
const errorsStmt = reads(`
  SELECT path, error FROM photos WHERE status = 'error'
  UNION ALL SELECT path, reason AS error FROM scan_errors
  ORDER BY path`);
const scanErrorCount = reads('SELECT count(*) FROM scan_errors', 'pluck');
const scanErrorsClear = writes('DELETE FROM scan_errors WHERE folder_id = ?');
const scanErrorAdd = writes(
  'INSERT INTO scan_errors (folder_id, path, reason) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET reason = excluded.reason',
);
const hashGroups = reads(`
  SELECT hash, id FROM photos
  WHERE status = 'indexed' AND hash IN (
    SELECT hash FROM photos WHERE status = 'indexed' AND hash IS NOT NULL GROUP BY hash HAVING count(*) >= 2)
  ORDER BY hash, id`);

export function getPhoto(db: ReadDb, id: number): PhotoInfo | null {
  const row = photoById(db).get(id) as PhotoRow | undefined;
  return row ? toPhoto(row) : null;
}

/** The photos with these ids (any status), in the order asked; ids not in the library are left out. */
export function getPhotos(db: ReadDb, ids: readonly number[]): PhotoInfo[] {
  const stmt = photoById(db);
  return inTransaction(db, () =>
    ids.flatMap((id) => {
      const row = stmt.get(id) as PhotoRow | undefined;
      return row ? [toPhoto(row)] : [];
    }),
  );
}

/** getPhoto with what only the engine needs: the device and inode the scan saw, when it was indexed. */
export function getStoredPhoto(db: ReadDb, id: number): StoredPhoto | null {
  const row = photoById(db).get(id) as PhotoRow | undefined;
  return row ? toStoredPhoto(row) : null;
}

export function getPhotoByPath(db: ReadDb, path: string): StoredPhoto | null {
  const row = photoByPath(db).get(path) as PhotoRow | undefined;
  return row ? toStoredPhoto(row) : null;
}

/** Every photo of a folder, whatever its status, by path. */
export function photosInFolder(db: ReadDb, folderId: number): StoredPhoto[] {
  return (photosInFolderStmt(db).all(folderId) as PhotoRow[]).map(toStoredPhoto);
}

/** Inserts the photo or updates the row with the same path (keeping its id); returns the id. */
export function upsertPhoto(db: WriteDb, rec: PhotoRecord): number {
  const row = photoUpsert(db).get({
    ...rec,
    dev: rec.dev ?? null,
    ino: rec.ino ?? null,
    indexedAt: rec.indexedAt ?? Date.now(),
  }) as { id: number };
  return row.id;
}

export function markMissing(db: WriteDb, ids: readonly number[]): void {
  const stmt = photoMissing(db);
  inTransaction(db, () => ids.forEach((id) => stmt.run(id)));
}

/** Deletes photos and (by cascade) their vectors. */
export function deletePhotos(db: WriteDb, ids: readonly number[]): void {
  const stmt = photoDelete(db);
  inTransaction(db, () => ids.forEach((id) => stmt.run(id)));
}

export function countPhotos(db: ReadDb, query: { status?: PhotoStatus } = {}): number {
  return (query.status ? photoCountStatus(db).get(query.status) : photoCount(db).get()) as number;
}

/** A page of indexed photos. 'name' sorts by file name (case-insensitive), 'date' by capture date then mtime. */
export function listPhotos(db: ReadDb, query: { offset?: number; limit?: number; sort?: PhotoSort } = {}): PhotoPage {
  const sort = query.sort ?? 'path';
  const offset = Math.max(0, Math.trunc(query.offset ?? 0));
  const limit = Math.max(0, Math.trunc(query.limit ?? 100));
  let page = listBy.get(sort);
  if (!page) {
    const order = ORDER_BY[sort];
    if (!order) throw new DoppelError('invalid-argument', `Unknown sort order: ${String(sort)}`);
    page = reads(`SELECT * FROM photos WHERE status = 'indexed' ORDER BY ${order} LIMIT ? OFFSET ?`);
    listBy.set(sort, page);
  }
  const stmt = page(db);
  return inTransaction(db, () => ({
    total: countPhotos(db, { status: 'indexed' }),
    photos: (stmt.all(limit, offset) as PhotoRow[]).map(toPhoto),
  }));
}

/**
 * A photo's id and aspect ratio as one integer, id * 65536 + the ratio as PhotoLayout.aspects holds it (0 for no
 * size; below 2^48, exact as a JavaScript number): rows of one integer are by far the cheapest to hand to JavaScript
 * (at 100,000 photos, the same rows as arrays of two values took twice as long, one of them a string longer still).
 */
const ID_AND_ASPECT = `id * 65536 + CASE WHEN width > 0 AND height > 0
    THEN CAST(max(1, round(min(64.0, max(1.0 / 64, CAST(width AS REAL) / height)) * ${ASPECT_SCALE})) AS INTEGER)
    ELSE 0 END`;

/** The layout statement's SQL for a sort: one integer a photo, in listPhotos order (exported for its plan's test). */
export function photoLayoutSql(sort: PhotoSort): string {
  return `SELECT ${ID_AND_ASPECT} FROM photos WHERE status = 'indexed' ORDER BY ${ORDER_BY[sort]}`;
}

/**
 * The date sort's months and how many photos each has, oldest first: the month is the start of the sort key (here
 * without formatting the whole mtime), so each month's photos are one run in the sort's order and the runs follow
 * each other as the months do.
 */
export const PHOTO_MONTHS_SQL = `SELECT COALESCE(substr(taken_at, 1, 7), strftime('%Y-%m', mtime_ms / 1000, 'unixepoch'))
    AS month, count(*) FROM photos WHERE status = 'indexed' GROUP BY month ORDER BY month`;

/**
 * One layout statement per sort order, prepared on first use. The path sort has no sections: its folders would
 * need each photo's folder as a string, which measured at more than twice the query's cost at 100,000 photos.
 */
const layoutBy = new Map<string, ReturnType<typeof reads>>();
const photoMonths = reads(PHOTO_MONTHS_SQL, 'raw');

/**
 * Every indexed photo's id and aspect ratio in listPhotos order for the sort, with the runs of photos of one month
 * under the date sort (PhotoLayout in src/shared/api.ts): one pass over the table and one sort, as a page of
 * listPhotos costs, and for the date sort a second pass that counts the months; both in one read transaction.
 */
export function photoLayout(db: ReadDb, query: { sort?: PhotoSort } = {}): PhotoLayout {
  const sort = query.sort ?? 'path';
  if (!ORDER_BY[sort]) throw new DoppelError('invalid-argument', `Unknown sort order: ${String(sort)}`);
  let statement = layoutBy.get(sort);
  if (!statement) {
    statement = reads(photoLayoutSql(sort), 'pluck');
    layoutBy.set(sort, statement);
  }
  const stmt = statement(db);
  return inTransaction(db, () => {
    const rows = stmt.all() as number[];
    const ids = new Uint32Array(rows.length);
    const aspects = new Uint16Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const packed = rows[i]!;
      ids[i] = Math.floor(packed / 65536);
      aspects[i] = packed % 65536;
    }
    const sections: PhotoSection[] = [];
    if (sort === 'date') {
      let start = 0;
      for (const [month, count] of photoMonths(db).all() as [string | null, number][]) {
        sections.push({ key: month ?? '', start, count });
        start += count;
      }
    }
    return {
      count: rows.length,
      ids: new Uint8Array(ids.buffer),
      aspects: new Uint8Array(aspects.buffer),
      sections,
    };
  });
}

/** Files that could not be indexed plus what a scan could not read (folders, names), as listErrors gives them. */
export function countErrors(db: ReadDb): number {
  return countPhotos(db, { status: 'error' }) + (scanErrorCount(db).get() as number);
}

/** Replaces what the last scan of a folder could not read. */
export function setScanErrors(db: WriteDb, folderId: number, errors: readonly FileError[]): void {
  inTransaction(db, () => {
    scanErrorsClear(db).run(folderId);
    const add = scanErrorAdd(db);
    for (const e of errors) add.run(folderId, e.path, e.reason);
  });
}

/** Files that could not be indexed and what scans could not read, by path, each with the reason. */
export function listErrors(db: ReadDb): FileError[] {
  return (errorsStmt(db).all() as { path: string; error: string | null }[]).map((r) => ({
    path: r.path,
    reason: r.error ?? 'Unknown error',
  }));
}

/** Groups of indexed photos with identical content hashes (exact duplicates), by hash. */
export function photosByHash(db: ReadDb): HashGroup[] {
  const groups: HashGroup[] = [];
  for (const { hash, id } of hashGroups(db).iterate() as Iterable<{ hash: string; id: number }>) {
    const last = groups[groups.length - 1];
    if (last?.hash === hash) last.ids.push(id);
    else groups.push({ hash, ids: [id] });
  }
  return groups;
}
