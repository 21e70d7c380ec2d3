// The library's folders (table folders): adding and removing them, nested folders as roots of their own, their flags.
import type { FolderInfo } from '../../shared/api.js';
import { inTransaction, inWriteTransaction, reads, writes, type ReadDb, type WriteDb } from './handles.js';
import { photosInFolder } from './photos.js';
import { sqlInside } from './sql.js';

interface FolderRow {
  id: number;
  path: string;
  added_at: number;
  status: 'online' | 'offline';
  reference: 0 | 1;
  follow_symlinks: 0 | 1;
}

const toFolder = (r: FolderRow): FolderInfo => ({
  id: r.id,
  path: r.path,
  addedAt: r.added_at,
  status: r.status,
  reference: r.reference === 1,
  followSymlinks: r.follow_symlinks === 1,
});

/** A folder is a reference folder when it is marked as one or lies inside one. */
const FOLDER_COLUMNS = `f.id, f.path, f.added_at, f.status, f.follow_symlinks,
  (f.reference = 1 OR EXISTS (
    SELECT 1 FROM folders a WHERE a.reference = 1 AND a.id != f.id AND ${sqlInside('f.path', 'a.path')})) AS reference`;

const folderInsert = writes('INSERT INTO folders (path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING');
const folderByPath = reads(`SELECT ${FOLDER_COLUMNS} FROM folders f WHERE f.path = ?`);
const folderById = reads(`SELECT ${FOLDER_COLUMNS} FROM folders f WHERE f.id = ?`);
const folderList = reads(`SELECT ${FOLDER_COLUMNS} FROM folders f ORDER BY f.path`);
const folderDelete = writes('DELETE FROM folders WHERE id = ?');
// The deepest other folder that holds this one: it takes over this folder's photos when this one is removed.
const folderCovering = reads(
  `
  SELECT a.id FROM folders a, folders f
  WHERE f.id = ? AND a.id != f.id AND ${sqlInside('f.path', 'a.path')}
  ORDER BY length(a.path) DESC LIMIT 1`,
  'pluck',
);
// A folder added inside another takes over the photos below it that a folder above it held.
const folderClaim = writes(`
  UPDATE photos SET folder_id = @id
  WHERE ${sqlInside('path', '@path')}
    AND folder_id IN (SELECT id FROM folders WHERE length(path) < length(@path))`);
const folderClaimScanErrors = writes(`
  UPDATE OR REPLACE scan_errors SET folder_id = @id
  WHERE ${sqlInside('path', '@path')}
    AND folder_id IN (SELECT id FROM folders WHERE length(path) < length(@path))`);
const folderHandOver = writes('UPDATE photos SET folder_id = ? WHERE folder_id = ?');
const folderSubfolders = reads(
  `SELECT s.path FROM folders s, folders f WHERE f.id = ? AND s.id != f.id AND ${sqlInside('s.path', 'f.path')}`,
  'pluck',
);
const folderStatus = writes('UPDATE folders SET status = ? WHERE id = ?');
const folderReference = writes('UPDATE folders SET reference = ? WHERE id = ?');
const folderFollowSymlinks = writes('UPDATE folders SET follow_symlinks = ? WHERE id = ?');

/**
 * Adds a folder, or returns the existing one with that exact path. A folder inside another one becomes a root
 * of its own: the photos below it that the outer folder held are its photos from now on (not new ones).
 */
export function addFolder(db: WriteDb, path: string): FolderInfo {
  return inTransaction(db, () => {
    const added = folderInsert(db).run(path, Date.now()).changes > 0;
    const folder = toFolder(folderByPath(db).get(path) as FolderRow);
    if (added) {
      folderClaim(db).run({ id: folder.id, path });
      folderClaimScanErrors(db).run({ id: folder.id, path });
    }
    return folder;
  });
}

/** The library folders inside this one (roots of their own, which a scan of this one passes over). */
export function subfolders(db: ReadDb, id: number): string[] {
  return folderSubfolders(db).all(id) as string[];
}

/** The ids of the photos that removing this folder removes: none when a folder around it takes them over. */
export function photosRemovedWith(db: ReadDb, id: number): number[] {
  if (folderCovering(db).get(id) !== undefined) return [];
  return photosInFolder(db, id).map((p) => p.id);
}

export function listFolders(db: ReadDb): FolderInfo[] {
  return (folderList(db).all() as FolderRow[]).map(toFolder);
}

export function getFolder(db: ReadDb, id: number): FolderInfo | null {
  const row = folderById(db).get(id) as FolderRow | undefined;
  return row ? toFolder(row) : null;
}

export function getFolderByPath(db: ReadDb, path: string): FolderInfo | null {
  const row = folderByPath(db).get(path) as FolderRow | undefined;
  return row ? toFolder(row) : null;
}

/**
 * Removes a folder with its photos and their vectors; when it lies inside another library folder, that folder
 * keeps its photos. Returns whether it existed.
 */
export function removeFolder(db: WriteDb, id: number): boolean {
  return inWriteTransaction(db, () => {
    const covering = folderCovering(db).get(id) as number | undefined;
    if (covering !== undefined) folderHandOver(db).run(covering, id);
    return folderDelete(db).run(id).changes > 0;
  });
}

export function setFolderStatus(db: WriteDb, id: number, status: FolderInfo['status']): void {
  folderStatus(db).run(status, id);
}

/**
 * Marks or unmarks a reference folder; null when there is no such folder. A folder inside a reference folder
 * stays one (its `reference` is true) whatever its own mark.
 */
export function setFolderReference(db: WriteDb, id: number, reference: boolean): FolderInfo | null {
  folderReference(db).run(reference ? 1 : 0, id);
  return getFolder(db, id);
}

/**
 * Saves whether scans of a folder follow symbolic links (to files and folders); null when there is no such
 * folder. Each folder has its own: a folder inside one that follows links does not follow them unless told.
 */
export function setFolderFollowSymlinks(db: WriteDb, id: number, follow: boolean): FolderInfo | null {
  folderFollowSymlinks(db).run(follow ? 1 : 0, id);
  return getFolder(db, id);
}
