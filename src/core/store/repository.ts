import nodePath from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { DoppelError } from '../../shared/api.js';
import type { FileError, FolderInfo, PhotoInfo, PhotoPage, PhotoStatus } from '../../shared/api.js';
import { openDatabase } from './db.js';
import { DuplicateScans } from './duplicate-scans.js';
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

export interface ModelSpec {
  name: string;
  dim: number;
  inputSize: number;
}

export interface VectorSet {
  dim: number;
  /** Photo ids, ascending; row i of `vectors` belongs to ids[i]. */
  ids: Int32Array;
  /** Row-major, ids.length * dim. */
  vectors: Float32Array;
}

export interface HashGroup {
  hash: string;
  /** Ascending photo ids, at least two. */
  ids: number[];
}

export type PhotoSort = 'name' | 'date' | 'path';

/** One file an action moved to the trash, as the action log keeps it. */
export interface ActionFile {
  id: number;
  actionId: number;
  /** Null once the folder has left the library. */
  folderId: number | null;
  path: string;
  hash: string | null;
  size: number;
  /** Where the trash put the file, when the trash can tell. */
  trashPath: string | null;
  /** The freedesktop .trashinfo file that describes it, when there is one. */
  infoPath: string | null;
  /** DeletionDate as the trash recorded it. */
  deletedAt: string | null;
  restoredAt: number | null;
  /** 'moving' from just before the file moves until the move is recorded (duplicates/journal.ts). */
  state: ActionFileState;
  /** When the row was written (ms). */
  createdAt: number | null;
  /**
   * Set when what moved is a symbolic link (of a folder that follows links): the link's target, as readlink gave
   * it. The link itself moves, and the journal knows it by this target, never by the bytes it leads to.
   */
  linkTarget: string | null;
}

export type ActionFileState = 'moving' | 'trashed';

export interface ActionRecord {
  id: number;
  kind: 'trash';
  /** Name of the Trasher that moved the files. */
  trasher: string;
  createdAt: number;
  undoneAt: number | null;
  files: ActionFile[];
}

export interface NotDuplicatePair {
  hashA: string;
  hashB: string;
}

interface FolderRow {
  id: number;
  path: string;
  added_at: number;
  status: 'online' | 'offline';
  reference: 0 | 1;
  follow_symlinks: 0 | 1;
}

interface ActionRow {
  id: number;
  kind: 'trash';
  trasher: string;
  created_at: number;
  undone_at: number | null;
}

interface ActionFileRow {
  id: number;
  action_id: number;
  folder_id: number | null;
  path: string;
  hash: string | null;
  size: number;
  trash_path: string | null;
  info_path: string | null;
  deleted_at: string | null;
  restored_at: number | null;
  state: ActionFileState;
  created_at: number | null;
  link_target: string | null;
}

interface PhotoRow {
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

const toFolder = (r: FolderRow): FolderInfo => ({
  id: r.id,
  path: r.path,
  addedAt: r.added_at,
  status: r.status,
  reference: r.reference === 1,
  followSymlinks: r.follow_symlinks === 1,
});

const toActionFile = (r: ActionFileRow): ActionFile => ({
  id: r.id,
  actionId: r.action_id,
  folderId: r.folder_id,
  path: r.path,
  hash: r.hash,
  size: r.size,
  trashPath: r.trash_path,
  infoPath: r.info_path,
  deletedAt: r.deleted_at,
  restoredAt: r.restored_at,
  state: r.state,
  createdAt: r.created_at,
  linkTarget: r.link_target,
});

/** Not-a-duplicate pairs are stored once, the smaller hash first. */
const orderedPair = (a: string, b: string): [string, string] => (a <= b ? [a, b] : [b, a]);

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

const toStoredPhoto = (r: PhotoRow): StoredPhoto => ({
  ...toPhoto(r),
  dev: r.dev,
  ino: r.ino,
  indexedAt: r.indexed_at,
});

// Sort keys for listPhotos. 'date' uses the EXIF capture date and falls back to the file's mtime (UTC).
const ORDER_BY: Record<PhotoSort, string> = {
  name: 'doppel_basename(path) COLLATE NOCASE, path, id',
  date: `COALESCE(taken_at, strftime('%Y-%m-%dT%H:%M:%S', mtime_ms / 1000, 'unixepoch')), path, id`,
  path: 'path, id',
};

/**
 * A photo belongs to the deepest library folder it is inside (a folder added inside another one is a root of its
 * own), whichever folder's scan wrote it; @folderId when no folder holds its path.
 */
const OWNER_OF_PATH = `COALESCE(
    (SELECT f.id FROM folders f WHERE ${sqlInside('@path', 'f.path')} ORDER BY length(f.path) DESC LIMIT 1),
    @folderId)`;

/** A folder is a reference folder when it is marked as one or lies inside one. */
const FOLDER_COLUMNS = `f.id, f.path, f.added_at, f.status, f.follow_symlinks,
  (f.reference = 1 OR EXISTS (
    SELECT 1 FROM folders a WHERE a.reference = 1 AND a.id != f.id AND ${sqlInside('f.path', 'a.path')})) AS reference`;

const PHOTO_UPSERT = `
  INSERT INTO photos (folder_id, path, size, mtime_ms, dev, ino, hash, width, height, format, taken_at,
                      orientation, status, error, indexed_at)
  VALUES (${OWNER_OF_PATH}, @path, @size, @mtimeMs, @dev, @ino, @hash, @width, @height, @format, @takenAt,
          @orientation, @status, @error, @indexedAt)
  ON CONFLICT(path) DO UPDATE SET
    folder_id = excluded.folder_id, size = excluded.size, mtime_ms = excluded.mtime_ms, dev = excluded.dev,
    ino = excluded.ino, hash = excluded.hash, width = excluded.width, height = excluded.height,
    format = excluded.format, taken_at = excluded.taken_at, orientation = excluded.orientation,
    status = excluded.status, error = excluded.error, indexed_at = excluded.indexed_at
  RETURNING id`;

/** Float32Array <-> BLOB without sharing memory with SQLite's buffers (whose alignment is not guaranteed). */
function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}
/** Vectors quantised to signed bytes, each scaled so its largest value is 127 (its direction is what counts). */
function viewsToBlob(views: readonly Float32Array[], dim: number): Buffer {
  const out = Buffer.alloc(views.length * dim);
  views.forEach((v, i) => {
    let max = 0;
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(v[j]!));
    const scale = max > 0 ? 127 / max : 0;
    for (let j = 0; j < dim; j++) out.writeInt8(Math.round(v[j]! * scale), i * dim + j);
  });
  return out;
}

function blobToViews(blob: Buffer, dim: number): Float32Array[] {
  const bytes = new Int8Array(blob.buffer, blob.byteOffset, blob.byteLength);
  return Array.from({ length: blob.byteLength / dim }, (_, i) =>
    Float32Array.from(bytes.subarray(i * dim, (i + 1) * dim)),
  );
}

export function blobToVector(blob: Buffer): Float32Array {
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

/** Prepared once per connection. Statements used with pluck() return the first column only. */
function prepareStatements(db: Database) {
  const prepare = (sql: string) => db.prepare(sql);
  return {
    folderInsert: prepare('INSERT INTO folders (path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING'),
    folderByPath: prepare(`SELECT ${FOLDER_COLUMNS} FROM folders f WHERE f.path = ?`),
    folderById: prepare(`SELECT ${FOLDER_COLUMNS} FROM folders f WHERE f.id = ?`),
    folderList: prepare(`SELECT ${FOLDER_COLUMNS} FROM folders f ORDER BY f.path`),
    folderDelete: prepare('DELETE FROM folders WHERE id = ?'),
    // The deepest other folder that holds this one: it takes over this folder's photos when this one is removed.
    folderCovering: prepare(`
      SELECT a.id FROM folders a, folders f
      WHERE f.id = ? AND a.id != f.id AND ${sqlInside('f.path', 'a.path')}
      ORDER BY length(a.path) DESC LIMIT 1`).pluck(),
    // A folder added inside another takes over the photos below it that a folder above it held.
    folderClaim: prepare(`
      UPDATE photos SET folder_id = @id
      WHERE ${sqlInside('path', '@path')}
        AND folder_id IN (SELECT id FROM folders WHERE length(path) < length(@path))`),
    folderClaimScanErrors: prepare(`
      UPDATE OR REPLACE scan_errors SET folder_id = @id
      WHERE ${sqlInside('path', '@path')}
        AND folder_id IN (SELECT id FROM folders WHERE length(path) < length(@path))`),
    folderHandOver: prepare('UPDATE photos SET folder_id = ? WHERE folder_id = ?'),
    folderSubfolders: prepare(`
      SELECT s.path FROM folders s, folders f WHERE f.id = ? AND s.id != f.id AND ${sqlInside('s.path', 'f.path')}`).pluck(),
    folderStatus: prepare('UPDATE folders SET status = ? WHERE id = ?'),
    folderReference: prepare('UPDATE folders SET reference = ? WHERE id = ?'),
    folderFollowSymlinks: prepare('UPDATE folders SET follow_symlinks = ? WHERE id = ?'),
    photoById: prepare('SELECT * FROM photos WHERE id = ?'),
    photoByPath: prepare('SELECT * FROM photos WHERE path = ?'),
    photosInFolder: prepare('SELECT * FROM photos WHERE folder_id = ? ORDER BY path'),
    photoUpsert: prepare(PHOTO_UPSERT),
    photoMissing: prepare("UPDATE photos SET status = 'missing' WHERE id = ?"),
    photoDelete: prepare('DELETE FROM photos WHERE id = ?'),
    photoCount: prepare('SELECT count(*) FROM photos').pluck(),
    photoCountStatus: prepare('SELECT count(*) FROM photos WHERE status = ?').pluck(),
    errors: prepare(`
      SELECT path, error FROM photos WHERE status = 'error'
      UNION ALL SELECT path, reason AS error FROM scan_errors
      ORDER BY path`),
    scanErrorCount: prepare('SELECT count(*) FROM scan_errors').pluck(),
    scanErrorsClear: prepare('DELETE FROM scan_errors WHERE folder_id = ?'),
    scanErrorAdd: prepare(
      'INSERT INTO scan_errors (folder_id, path, reason) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET reason = excluded.reason',
    ),
    hashGroups: prepare(`
      SELECT hash, id FROM photos
      WHERE status = 'indexed' AND hash IN (
        SELECT hash FROM photos WHERE status = 'indexed' AND hash IS NOT NULL GROUP BY hash HAVING count(*) >= 2)
      ORDER BY hash, id`),
    modelByName: prepare('SELECT id, dim, input_size FROM models WHERE name = ?'),
    modelById: prepare('SELECT dim FROM models WHERE id = ?').pluck(),
    modelInsert: prepare('INSERT INTO models (name, dim, input_size, created_at) VALUES (?, ?, ?, ?) RETURNING id'),
    modelUpdate: prepare('UPDATE models SET dim = ?, input_size = ? WHERE id = ?'),
    vectorPut: prepare('INSERT OR REPLACE INTO vectors (photo_id, model_id, vector) VALUES (?, ?, ?)'),
    vectorGet: prepare('SELECT vector FROM vectors WHERE photo_id = ? AND model_id = ?').pluck(),
    vectorCount: prepare(`
      SELECT count(*) FROM vectors v JOIN photos p ON p.id = v.photo_id
      WHERE v.model_id = ? AND p.status = 'indexed'`).pluck(),
    vectorAll: prepare(`
      SELECT v.photo_id, v.vector FROM vectors v JOIN photos p ON p.id = v.photo_id
      WHERE v.model_id = ? AND p.status = 'indexed' ORDER BY v.photo_id`),
    // Unordered, for streaming every vector into the search index (ORDER BY would sort the blobs in a temp b-tree).
    vectorEach: prepare(`
      SELECT v.photo_id, v.vector FROM vectors v JOIN photos p ON p.id = v.photo_id
      WHERE v.model_id = ? AND p.status = 'indexed'`).raw(),
    vectorDeleteModel: prepare('DELETE FROM vectors WHERE model_id = ?'),
    viewsPut: prepare(
      'INSERT OR REPLACE INTO view_vectors (photo_id, model_id, fraction, vectors) VALUES (?, ?, ?, ?)',
    ),
    viewsDeleteModel: prepare('DELETE FROM view_vectors WHERE model_id = ?'),
    viewsDelete: prepare('DELETE FROM view_vectors WHERE photo_id = ? AND model_id = ?'),
    viewsGet: prepare('SELECT vectors FROM view_vectors WHERE photo_id = ? AND model_id = ? AND fraction = ?').pluck(),
    viewsEach: prepare(`
      SELECT w.photo_id, w.vectors FROM view_vectors w JOIN photos p ON p.id = w.photo_id
      WHERE w.model_id = ? AND w.fraction = ? AND p.status = 'indexed'`).raw(),
    // Pages in photo id order through the views' primary key (CROSS JOIN keeps the views the outer loop; the unary
    // + keeps the model's index, which with one model is every row, out of the plan: either would sort the whole
    // table for each page).
    viewsPage: prepare(`
      SELECT w.photo_id, w.vectors FROM view_vectors w CROSS JOIN photos p ON p.id = w.photo_id
      WHERE w.photo_id > ? AND +w.model_id = ? AND w.fraction = ? AND +p.status = 'indexed'
      ORDER BY w.photo_id LIMIT ?`).raw(),
    turnsPage: prepare(`
      SELECT t.photo_id, t.vectors FROM turn_vectors t CROSS JOIN photos p ON p.id = t.photo_id
      WHERE t.photo_id > ? AND +t.model_id = ? AND +p.status = 'indexed'
      ORDER BY t.photo_id LIMIT ?`).raw(),
    viewIdsInFolder: prepare(`
      SELECT p.id FROM photos p CROSS JOIN view_vectors w ON w.photo_id = p.id AND w.model_id = ? AND w.fraction = ?
      WHERE p.folder_id = ?`).pluck(),
    encodedPut: prepare(
      'INSERT OR REPLACE INTO encoded_views (photo_id, model_id, fraction, hash, vectors) VALUES (?, ?, ?, ?, ?)',
    ),
    encodedGet: prepare(
      'SELECT vectors FROM encoded_views WHERE photo_id = ? AND model_id = ? AND fraction = ? AND hash = ?',
    ).pluck(),
    turnsPut: prepare('INSERT OR REPLACE INTO turn_vectors (photo_id, model_id, vectors) VALUES (?, ?, ?)'),
    turnsGet: prepare('SELECT vectors FROM turn_vectors WHERE photo_id = ? AND model_id = ?').pluck(),
    turnIdsInFolder: prepare(`
      SELECT p.id FROM photos p CROSS JOIN turn_vectors t ON t.photo_id = p.id AND t.model_id = ?
      WHERE p.folder_id = ?`).pluck(),
    turnsDeleteModel: prepare('DELETE FROM turn_vectors WHERE model_id = ?'),
    encodedDeleteModel: prepare('DELETE FROM encoded_views WHERE model_id = ?'),
    verdictGet: prepare('SELECT measure FROM pair_verdicts WHERE hash_a = ? AND hash_b = ? AND version = ?').pluck(),
    verdictPut: prepare(
      'INSERT OR REPLACE INTO pair_verdicts (hash_a, hash_b, version, measure, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    // CROSS JOIN keeps photos the outer loop (SQLite never reorders it): found by hash or folder through their
    // index, then each vector by its primary key. A plain JOIN let the planner start from vectors_model, which
    // with one model is every row: a lookup read the whole table (60 ms at 23,000 photos, 200 ms at 100,000).
    // The unary + keeps photos_status (nearly every photo is indexed) out of the plan.
    vectorByHash: prepare(`
      SELECT p.*, v.vector FROM photos p CROSS JOIN vectors v ON v.photo_id = p.id AND v.model_id = ?
      WHERE p.hash = ? AND +p.status = 'indexed' LIMIT 1`),
    vectorIdsInFolder: prepare(`
      SELECT p.id FROM photos p CROSS JOIN vectors v ON v.photo_id = p.id AND v.model_id = ? WHERE p.folder_id = ?`).pluck(),
    notDuplicateAdd: prepare(
      'INSERT INTO not_duplicates (hash_a, hash_b, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    notDuplicateDelete: prepare('DELETE FROM not_duplicates WHERE hash_a = ? AND hash_b = ?'),
    notDuplicateAll: prepare('SELECT hash_a AS hashA, hash_b AS hashB FROM not_duplicates ORDER BY hash_a, hash_b'),
    actionInsert: prepare('INSERT INTO actions (kind, trasher, created_at) VALUES (?, ?, ?) RETURNING id').pluck(),
    actionFileInsert: prepare(`
      INSERT INTO action_files (action_id, folder_id, path, hash, size, trash_path, info_path, deleted_at, state,
                                created_at, link_target)
      VALUES (@actionId, @folderId, @path, @hash, @size, @trashPath, @infoPath, @deletedAt, @state, @createdAt,
              @linkTarget)
      RETURNING id`).pluck(),
    actionFileMoved: prepare(`
      UPDATE action_files SET state = 'trashed', trash_path = @trashPath, info_path = @infoPath,
        deleted_at = @deletedAt WHERE id = @id AND state = 'moving'`),
    actionFileById: prepare('SELECT * FROM action_files WHERE id = ?'),
    actionFileDelete: prepare("DELETE FROM action_files WHERE id = ? AND state = 'moving'"),
    actionFilesMoving: prepare("SELECT * FROM action_files WHERE state = 'moving' ORDER BY id"),
    actionTrashPaths: prepare(
      'SELECT trash_path FROM action_files WHERE trash_path IS NOT NULL AND restored_at IS NULL',
    ).pluck(),
    actionDeleteAllEmpty: prepare(`
      DELETE FROM actions WHERE undone_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM action_files WHERE action_id = actions.id)`),
    actionLastOpen: prepare('SELECT * FROM actions WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1'),
    actionById: prepare('SELECT * FROM actions WHERE id = ?'),
    actionFiles: prepare('SELECT * FROM action_files WHERE action_id = ? ORDER BY id'),
    actionFileRestored: prepare('UPDATE action_files SET restored_at = ? WHERE id = ?'),
    actionUndone: prepare('UPDATE actions SET undone_at = ? WHERE id = ?'),
    actionDeleteEmpty: prepare(
      'DELETE FROM actions WHERE id = ? AND NOT EXISTS (SELECT 1 FROM action_files WHERE action_id = actions.id)',
    ),
    settingGet: prepare('SELECT value FROM settings WHERE key = ?').pluck(),
    settingDelete: prepare('DELETE FROM settings WHERE key = ?'),
    settingSet: prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ),
  };
}

/** Typed access to a library database. Every SQL statement of the app lives in this folder. */
export class Store {
  readonly db: Database;
  private readonly s: ReturnType<typeof prepareStatements>;
  private readonly listStmts = new Map<PhotoSort, Statement>();
  private readonly modelDims = new Map<number, number>();

  static open(file: string): Store {
    return new Store(openDatabase(file));
  }

  constructor(db: Database) {
    this.db = db;
    db.function('doppel_basename', { deterministic: true }, (p: unknown) =>
      typeof p === 'string' ? nodePath.basename(p) : null,
    );
    this.s = prepareStatements(db);
  }

  private scans: DuplicateScans | null = null;
  /** The duplicate scan's kept groups and the library's generation (duplicate-scans.ts). */
  get duplicateScans(): DuplicateScans {
    return (this.scans ??= new DuplicateScans(this.db));
  }

  /** The database file (':memory:' for an in-memory one). */
  get path(): string {
    return this.db.name;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs fn in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- folders

  /**
   * Adds a folder, or returns the existing one with that exact path. A folder inside another one becomes a root
   * of its own: the photos below it that the outer folder held are its photos from now on (not new ones).
   */
  addFolder(path: string): FolderInfo {
    return this.transaction(() => {
      const added = this.s.folderInsert.run(path, Date.now()).changes > 0;
      const folder = toFolder(this.s.folderByPath.get(path) as FolderRow);
      if (added) {
        this.s.folderClaim.run({ id: folder.id, path });
        this.s.folderClaimScanErrors.run({ id: folder.id, path });
      }
      return folder;
    });
  }

  /** The library folders inside this one (roots of their own, which a scan of this one passes over). */
  subfolders(id: number): string[] {
    return this.s.folderSubfolders.all(id) as string[];
  }

  /** The ids of the photos that removing this folder removes: none when a folder around it takes them over. */
  photosRemovedWith(id: number): number[] {
    if (this.s.folderCovering.get(id) !== undefined) return [];
    return this.photosInFolder(id).map((p) => p.id);
  }

  listFolders(): FolderInfo[] {
    return (this.s.folderList.all() as FolderRow[]).map(toFolder);
  }

  getFolder(id: number): FolderInfo | null {
    const row = this.s.folderById.get(id) as FolderRow | undefined;
    return row ? toFolder(row) : null;
  }

  getFolderByPath(path: string): FolderInfo | null {
    const row = this.s.folderByPath.get(path) as FolderRow | undefined;
    return row ? toFolder(row) : null;
  }

  /**
   * Removes a folder with its photos and their vectors; when it lies inside another library folder, that folder
   * keeps its photos. Returns whether it existed.
   */
  removeFolder(id: number): boolean {
    return this.transaction(() => {
      const covering = this.s.folderCovering.get(id) as number | undefined;
      if (covering !== undefined) this.s.folderHandOver.run(covering, id);
      return this.s.folderDelete.run(id).changes > 0;
    });
  }

  setFolderStatus(id: number, status: FolderInfo['status']): void {
    this.s.folderStatus.run(status, id);
  }

  /**
   * Marks or unmarks a reference folder; null when there is no such folder. A folder inside a reference folder
   * stays one (its `reference` is true) whatever its own mark.
   */
  setFolderReference(id: number, reference: boolean): FolderInfo | null {
    this.s.folderReference.run(reference ? 1 : 0, id);
    return this.getFolder(id);
  }

  /**
   * Saves whether scans of a folder follow symbolic links (to files and folders); null when there is no such
   * folder. Each folder has its own: a folder inside one that follows links does not follow them unless told.
   */
  setFolderFollowSymlinks(id: number, follow: boolean): FolderInfo | null {
    this.s.folderFollowSymlinks.run(follow ? 1 : 0, id);
    return this.getFolder(id);
  }

  // ---- photos

  getPhoto(id: number): PhotoInfo | null {
    const row = this.s.photoById.get(id) as PhotoRow | undefined;
    return row ? toPhoto(row) : null;
  }

  /** getPhoto with what only the engine needs: the device and inode the scan saw, when it was indexed. */
  getStoredPhoto(id: number): StoredPhoto | null {
    const row = this.s.photoById.get(id) as PhotoRow | undefined;
    return row ? toStoredPhoto(row) : null;
  }

  getPhotoByPath(path: string): StoredPhoto | null {
    const row = this.s.photoByPath.get(path) as PhotoRow | undefined;
    return row ? toStoredPhoto(row) : null;
  }

  /** Every photo of a folder, whatever its status, by path. */
  photosInFolder(folderId: number): StoredPhoto[] {
    return (this.s.photosInFolder.all(folderId) as PhotoRow[]).map(toStoredPhoto);
  }

  /** Inserts the photo or updates the row with the same path (keeping its id); returns the id. */
  upsertPhoto(rec: PhotoRecord): number {
    const row = this.s.photoUpsert.get({
      ...rec,
      dev: rec.dev ?? null,
      ino: rec.ino ?? null,
      indexedAt: rec.indexedAt ?? Date.now(),
    }) as { id: number };
    return row.id;
  }

  markMissing(ids: readonly number[]): void {
    this.transaction(() => ids.forEach((id) => this.s.photoMissing.run(id)));
  }

  /** Deletes photos and (by cascade) their vectors. */
  deletePhotos(ids: readonly number[]): void {
    this.transaction(() => ids.forEach((id) => this.s.photoDelete.run(id)));
  }

  countPhotos(query: { status?: PhotoStatus } = {}): number {
    return (query.status ? this.s.photoCountStatus.get(query.status) : this.s.photoCount.get()) as number;
  }

  /** A page of indexed photos. 'name' sorts by file name (case-insensitive), 'date' by capture date then mtime. */
  listPhotos(query: { offset?: number; limit?: number; sort?: PhotoSort } = {}): PhotoPage {
    const sort = query.sort ?? 'path';
    const offset = Math.max(0, Math.trunc(query.offset ?? 0));
    const limit = Math.max(0, Math.trunc(query.limit ?? 100));
    let stmt = this.listStmts.get(sort);
    if (!stmt) {
      const order = ORDER_BY[sort];
      if (!order) throw new DoppelError('invalid-argument', `Unknown sort order: ${String(sort)}`);
      stmt = this.db.prepare(`SELECT * FROM photos WHERE status = 'indexed' ORDER BY ${order} LIMIT ? OFFSET ?`);
      this.listStmts.set(sort, stmt);
    }
    return this.transaction(() => ({
      total: this.countPhotos({ status: 'indexed' }),
      photos: (stmt.all(limit, offset) as PhotoRow[]).map(toPhoto),
    }));
  }

  /** Files that could not be indexed plus what a scan could not read (folders, names), as listErrors gives them. */
  countErrors(): number {
    return this.countPhotos({ status: 'error' }) + (this.s.scanErrorCount.get() as number);
  }

  /** Replaces what the last scan of a folder could not read. */
  setScanErrors(folderId: number, errors: readonly FileError[]): void {
    this.transaction(() => {
      this.s.scanErrorsClear.run(folderId);
      for (const e of errors) this.s.scanErrorAdd.run(folderId, e.path, e.reason);
    });
  }

  /** Files that could not be indexed and what scans could not read, by path, each with the reason. */
  listErrors(): FileError[] {
    return (this.s.errors.all() as { path: string; error: string | null }[]).map((r) => ({
      path: r.path,
      reason: r.error ?? 'Unknown error',
    }));
  }

  /** Groups of indexed photos with identical content hashes (exact duplicates), by hash. */
  photosByHash(): HashGroup[] {
    const groups: HashGroup[] = [];
    for (const { hash, id } of this.s.hashGroups.iterate() as Iterable<{ hash: string; id: number }>) {
      const last = groups[groups.length - 1];
      if (last?.hash === hash) last.ids.push(id);
      else groups.push({ hash, ids: [id] });
    }
    return groups;
  }

  // ---- models and vectors

  /**
   * Returns the id of the named model, creating it if needed. If the stored model has a different shape
   * its vectors are from an incompatible network: they are deleted and the shape updated.
   */
  ensureModel(spec: ModelSpec): number {
    return this.transaction(() => {
      const row = this.s.modelByName.get(spec.name) as { id: number; dim: number; input_size: number } | undefined;
      let id: number;
      if (!row) {
        id = (this.s.modelInsert.get(spec.name, spec.dim, spec.inputSize, Date.now()) as { id: number }).id;
      } else {
        id = row.id;
        if (row.dim !== spec.dim || row.input_size !== spec.inputSize) {
          this.s.vectorDeleteModel.run(id);
          this.s.modelUpdate.run(spec.dim, spec.inputSize, id);
        }
      }
      this.modelDims.set(id, spec.dim);
      return id;
    });
  }

  private modelDim(modelId: number): number {
    let dim = this.modelDims.get(modelId);
    if (dim === undefined) {
      dim = this.s.modelById.get(modelId) as number | undefined;
      if (dim === undefined) throw new DoppelError('not-found', `No model with id ${modelId}`);
      this.modelDims.set(modelId, dim);
    }
    return dim;
  }

  putVector(photoId: number, modelId: number, vector: Float32Array): void {
    const dim = this.modelDim(modelId);
    if (vector.length !== dim) {
      throw new DoppelError('invalid-argument', `Vector has ${vector.length} values; the model expects ${dim}`);
    }
    this.s.vectorPut.run(photoId, modelId, vectorToBlob(vector));
  }

  getVector(photoId: number, modelId: number): Float32Array | null {
    const blob = this.s.vectorGet.get(photoId, modelId) as Buffer | undefined;
    return blob ? blobToVector(blob) : null;
  }

  /** Every vector of indexed photos for a model, packed for brute-force search. */
  allVectors(modelId: number): VectorSet {
    const dim = this.modelDim(modelId);
    return this.transaction(() => {
      const n = this.s.vectorCount.get(modelId) as number;
      const ids = new Int32Array(n);
      const vectors = new Float32Array(n * dim);
      const bytes = new Uint8Array(vectors.buffer);
      let i = 0;
      for (const row of this.s.vectorAll.iterate(modelId) as Iterable<{ photo_id: number; vector: Buffer }>) {
        if (row.vector.byteLength !== dim * 4) {
          throw new DoppelError('database', `Stored vector of photo ${row.photo_id} has the wrong length`);
        }
        ids[i] = row.photo_id;
        bytes.set(row.vector, i * dim * 4);
        i++;
      }
      return { dim, ids, vectors };
    });
  }

  /** How many indexed photos have a vector for the model. */
  countVectors(modelId: number): number {
    return this.s.vectorCount.get(modelId) as number;
  }

  /**
   * Every vector of indexed photos for a model, one at a time in no particular order, without a packed copy of
   * them all. `fn` gets the same buffer each time: copy what it keeps.
   */
  forEachVector(modelId: number, fn: (photoId: number, vector: Float32Array) => void): void {
    const dim = this.modelDim(modelId);
    const vector = new Float32Array(dim);
    const bytes = new Uint8Array(vector.buffer);
    for (const [photoId, blob] of this.s.vectorEach.iterate(modelId) as Iterable<[number, Buffer]>) {
      if (blob.byteLength !== dim * 4) {
        throw new DoppelError('database', `Stored vector of photo ${photoId} has the wrong length`);
      }
      bytes.set(blob);
      fn(photoId, vector);
    }
  }

  /** A vector the model already has for this content (a moved, renamed or copied file), with its photo. */
  vectorByHash(hash: string, modelId: number): { photo: StoredPhoto; vector: Float32Array } | null {
    const row = this.s.vectorByHash.get(modelId, hash) as (PhotoRow & { vector: Buffer }) | undefined;
    return row ? { photo: toStoredPhoto(row), vector: blobToVector(row.vector) } : null;
  }

  /** Ids of a folder's photos that have a vector for the model. */
  photoIdsWithVector(folderId: number, modelId: number): Set<number> {
    return new Set(this.s.vectorIdsInFolder.all(modelId, folderId) as number[]);
  }

  // ---- corner views ("find cropped copies"; search/crop-views.ts)

  /** Stores a photo's corner views (made keeping `fraction` of each side), replacing any it had. */
  putViews(photoId: number, modelId: number, fraction: number, views: readonly Float32Array[]): void {
    const dim = this.modelDim(modelId);
    if (views.length === 0 || views.some((v) => v.length !== dim)) {
      throw new DoppelError('invalid-argument', `Views must be vectors of the model's ${dim} values`);
    }
    this.s.viewsPut.run(photoId, modelId, fraction, viewsToBlob(views, dim));
  }

  deleteViews(photoId: number, modelId: number): void {
    this.s.viewsDelete.run(photoId, modelId);
  }

  /** A photo's corner views made with this fraction (their direction: compare by cosine), or null. */
  getViews(photoId: number, modelId: number, fraction: number): Float32Array[] | null {
    const blob = this.s.viewsGet.get(photoId, modelId, fraction) as Buffer | undefined;
    return blob ? blobToViews(blob, this.modelDim(modelId)) : null;
  }

  /** The corner views of every indexed photo that has them for this fraction. */
  /**
   * The views of photos a page at a time: the views of at most `limit` photos after photo id `after`, in id order (for a
   * scan that gives the event loop a turn between pages; an open iteration would hold the connection).
   */
  viewsPage(modelId: number, fraction: number, after: number, limit: number): [number, Float32Array[]][] {
    const dim = this.modelDim(modelId);
    const rows = this.s.viewsPage.all(pageAfter(after), modelId, fraction, limit) as [number, Buffer][];
    return rows.map(([photoId, blob]) => [photoId, blobToViews(blob, dim)]);
  }

  /** Every indexed photo's views as stored: each photo's views as one int8 array (view after view, dim values each). */
  forEachViewBytes(modelId: number, fraction: number, fn: (photoId: number, bytes: Int8Array) => void): void {
    for (const [photoId, blob] of this.s.viewsEach.iterate(modelId, fraction) as Iterable<[number, Buffer]>) {
      fn(photoId, new Int8Array(blob.buffer, blob.byteOffset, blob.byteLength));
    }
  }

  /** Ids of a folder's photos that have corner views of this fraction for the model. */
  photoIdsWithViews(folderId: number, modelId: number, fraction: number): Set<number> {
    return new Set(this.s.viewIdsInFolder.all(modelId, fraction, folderId) as number[]);
  }

  // ---- views encoded from thumbnail crops (the duplicate scan's second stage; duplicates/encoded-views.ts)

  /**
   * Stores the views encoded from crops of the thumbnail of content `hash`, replacing any the photo had. Returns
   * them as stored (quantised), as getEncodedViews will read them.
   */
  putEncodedViews(
    photoId: number,
    modelId: number,
    fraction: number,
    hash: string,
    views: readonly Float32Array[],
  ): Float32Array[] {
    const dim = this.modelDim(modelId);
    if (views.length === 0 || views.some((v) => v.length !== dim)) {
      throw new DoppelError('invalid-argument', `Views must be vectors of the model's ${dim} values`);
    }
    const blob = viewsToBlob(views, dim);
    this.s.encodedPut.run(photoId, modelId, fraction, hash, blob);
    return blobToViews(blob, dim);
  }

  /** The views encoded for this photo from the thumbnail of content `hash`, or null (none, or made from other content). */
  getEncodedViews(photoId: number, modelId: number, fraction: number, hash: string): Float32Array[] | null {
    const blob = this.s.encodedGet.get(photoId, modelId, fraction, hash) as Buffer | undefined;
    return blob ? blobToViews(blob, this.modelDim(modelId)) : null;
  }

  // ---- turned views (rotated copies; search/turn-views.ts)

  /** Stores a photo's turned views (its picture turned 90 and 180 degrees), replacing any it had. */
  putTurns(photoId: number, modelId: number, turns: readonly Float32Array[]): void {
    const dim = this.modelDim(modelId);
    if (turns.length === 0 || turns.some((v) => v.length !== dim)) {
      throw new DoppelError('invalid-argument', `Turned views must be vectors of the model's ${dim} values`);
    }
    this.s.turnsPut.run(photoId, modelId, viewsToBlob(turns, dim));
  }

  /** A photo's turned views (compare by cosine), or null. */
  getTurns(photoId: number, modelId: number): Float32Array[] | null {
    const blob = this.s.turnsGet.get(photoId, modelId) as Buffer | undefined;
    return blob ? blobToViews(blob, this.modelDim(modelId)) : null;
  }

  /** The turned views of photos a page at a time, as viewsPage. */
  turnsPage(modelId: number, after: number, limit: number): [number, Float32Array[]][] {
    const dim = this.modelDim(modelId);
    const rows = this.s.turnsPage.all(pageAfter(after), modelId, limit) as [number, Buffer][];
    return rows.map(([photoId, blob]) => [photoId, blobToViews(blob, dim)]);
  }

  /** Ids of a folder's photos that have turned views for the model. */
  photoIdsWithTurns(folderId: number, modelId: number): Set<number> {
    return new Set(this.s.turnIdsInFolder.all(modelId, folderId) as number[]);
  }

  // ---- the duplicate verifier's verdicts, by content-hash pair

  /** The measure stored for two contents (in either order) by this verifier version, as stored (JSON), or null. */
  getVerdict(hashA: string, hashB: string, version: number): string | null {
    const [a, b] = orderedPair(hashA, hashB);
    return (this.s.verdictGet.get(a, b, version) as string | undefined) ?? null;
  }

  /** Stores measures (JSON, for the ordered pair hashA < hashB), in one transaction. */
  putVerdicts(verdicts: readonly { hashA: string; hashB: string; measure: string }[], version: number): void {
    const now = Date.now();
    this.transaction(() => {
      for (const v of verdicts) {
        if (!(v.hashA < v.hashB)) throw new DoppelError('invalid-argument', 'A verdict needs hashA < hashB');
        this.s.verdictPut.run(v.hashA, v.hashB, version, v.measure, now);
      }
    });
  }

  deleteVectorsForModel(modelId: number): void {
    this.s.turnsDeleteModel.run(modelId);
    this.s.encodedDeleteModel.run(modelId);
    this.s.viewsDeleteModel.run(modelId);
    this.s.vectorDeleteModel.run(modelId);
  }

  // ---- "not a duplicate" answers

  /** Remembers that photos with these content hashes are not duplicates of each other (in either order). */
  addNotDuplicate(hashA: string, hashB: string): void {
    this.s.notDuplicateAdd.run(...orderedPair(hashA, hashB), Date.now());
  }

  /** Forgets an answer; returns whether there was one. */
  removeNotDuplicate(hashA: string, hashB: string): boolean {
    return this.s.notDuplicateDelete.run(...orderedPair(hashA, hashB)).changes > 0;
  }

  /** Every answer, hashA <= hashB. */
  notDuplicatePairs(): NotDuplicatePair[] {
    return this.s.notDuplicateAll.all() as NotDuplicatePair[];
  }

  // ---- action log

  /** Starts an action; files are added one by one as they move, so a crash loses at most the file in flight. */
  beginAction(kind: ActionRecord['kind'], trasher: string): number {
    return this.s.actionInsert.get(kind, trasher, Date.now()) as number;
  }

  /**
   * Logs a file of an action. The journal writes it as 'moving' before the file moves (see
   * duplicates/journal.ts); a file logged after the fact is 'trashed' (the default).
   */
  addActionFile(
    file: Omit<ActionFile, 'id' | 'restoredAt' | 'state' | 'createdAt' | 'linkTarget'> & {
      state?: ActionFileState;
      linkTarget?: string | null;
    },
  ): number {
    return this.s.actionFileInsert.get({
      state: 'trashed',
      linkTarget: null,
      ...file,
      createdAt: Date.now(),
    }) as number;
  }

  /** Records where a 'moving' file went (null fields: the trash cannot tell); returns whether the row was moving. */
  markActionFileMoved(
    fileId: number,
    where: { trashPath: string | null; infoPath: string | null; deletedAt: string | null },
  ): boolean {
    const { trashPath, infoPath, deletedAt } = where;
    return this.s.actionFileMoved.run({ id: fileId, trashPath, infoPath, deletedAt }).changes > 0;
  }

  getActionFile(fileId: number): ActionFile | null {
    const row = this.s.actionFileById.get(fileId) as ActionFileRow | undefined;
    return row ? toActionFile(row) : null;
  }

  /** Forgets a 'moving' file that never left its place. */
  dropMovingActionFile(fileId: number): boolean {
    return this.s.actionFileDelete.run(fileId).changes > 0;
  }

  /** Files whose move was begun and never recorded as done or undone (a process killed in between). */
  movingActionFiles(): ActionFile[] {
    return (this.s.actionFilesMoving.all() as ActionFileRow[]).map(toActionFile);
  }

  /** The trash paths of every logged file not yet put back. */
  loggedTrashPaths(): Set<string> {
    return new Set(this.s.actionTrashPaths.all() as string[]);
  }

  /** Deletes every open action without files (begun by a process that moved nothing); returns how many. */
  dropEmptyActions(): number {
    return this.s.actionDeleteAllEmpty.run().changes;
  }

  /** Deletes an action that ended up moving nothing; returns whether it did. */
  dropEmptyAction(id: number): boolean {
    return this.s.actionDeleteEmpty.run(id).changes > 0;
  }

  getAction(id: number): ActionRecord | null {
    const row = this.s.actionById.get(id) as ActionRow | undefined;
    return row ? this.toAction(row) : null;
  }

  /** The most recent action not yet undone, with its files. */
  lastOpenAction(): ActionRecord | null {
    const row = this.s.actionLastOpen.get() as ActionRow | undefined;
    return row ? this.toAction(row) : null;
  }

  private toAction(row: ActionRow): ActionRecord {
    return {
      id: row.id,
      kind: row.kind,
      trasher: row.trasher,
      createdAt: row.created_at,
      undoneAt: row.undone_at,
      files: (this.s.actionFiles.all(row.id) as ActionFileRow[]).map(toActionFile),
    };
  }

  markActionFileRestored(fileId: number, at = Date.now()): void {
    this.s.actionFileRestored.run(at, fileId);
  }

  markActionUndone(id: number, at = Date.now()): void {
    this.s.actionUndone.run(at, id);
  }

  // ---- settings

  getSetting(key: string): string | null {
    return (this.s.settingGet.get(key) as string | undefined) ?? null;
  }

  setSetting(key: string, value: string): void {
    this.s.settingSet.run(key, value);
  }

  deleteSetting(key: string): void {
    this.s.settingDelete.run(key);
  }
}

/** A page's lower bound as SQLite compares it: ids are integers, and -Infinity is before them all. */
const pageAfter = (after: number): number => (Number.isFinite(after) ? after : -1);
