// Acting on duplicates: moving library photos to the trash (logged, one file at a time) and undoing the last
// such action. Only photos of the library are ever touched, never one in a reference folder, never one that
// changed since it was indexed. A photo that a folder following links reached through a link to a file is moved
// as a file manager moves it: the link goes to the trash, never the file it leads to.
import fs from 'node:fs';
import path from 'node:path';
import { DoppelError, type FileError, type TrashedFile, type TrashReport } from '../../shared/api.js';
import type { ActionFile, Store } from '../store/repository.js';
import { lockFileFor, withActionLock } from './action-lock.js';
import { hashFile, holdsLoggedBytes, recordMoved, settleMove, settleMoves } from './journal.js';
import { isInside } from '../paths.js';
import { exists, RestoreConflict, type TrashRecord, type Trasher } from './trash.js';

export interface TrashOutcome extends TrashReport {
  /** Photo ids removed from the library (the search index must drop them too). */
  removedIds: number[];
}

interface Planned {
  photoId: number;
  folderId: number;
  path: string;
  hash: string | null;
  size: number;
  /** The link's target, when the photo is a link (see the top of this file). */
  linkTarget: string | null;
}

const CHANGED = 'Changed since it was indexed; index the folder again first';
const LINKED_FOLDER =
  'Reached through a linked folder: Doppel moves a link to the trash, never a file of the folder it leads to';

function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Checks every photo before anything moves. Unknown ids, photos outside their library folder and photos in
 * reference folders refuse the whole request; files that are gone or changed since indexing are skipped.
 */
function plan(store: Store, photoIds: readonly number[]): { planned: Planned[]; skipped: FileError[] } {
  const planned: Planned[] = [];
  const skipped: FileError[] = [];
  const inReference: string[] = [];
  const ids = [...new Set(photoIds)];
  const gone = ids.filter((id) => !store.getPhoto(id));
  if (ids.length > 0 && gone.length === ids.length) {
    throw new DoppelError(
      'not-found',
      gone.length === 1
        ? `No photo with id ${gone[0]} in the library`
        : `None of these ${gone.length} photos is in the library (moved to the trash or removed since they were listed?)`,
    );
  }
  for (const id of ids) {
    const photo = store.getStoredPhoto(id);
    if (!photo) {
      // Another action (say, a second window or process) moved it since the list was made.
      skipped.push({ path: `photo ${id}`, reason: 'No longer in the library' });
      continue;
    }
    const folder = store.getFolder(photo.folderId);
    if (!folder || !isInside(photo.path, folder.path)) {
      throw new DoppelError('invalid-argument', `Refusing to move ${photo.path}: it is not inside a library folder`);
    }
    if (folder.reference) {
      inReference.push(photo.path);
      continue;
    }
    let stat: fs.Stats;
    let linkTarget: string | null = null;
    try {
      stat = fs.lstatSync(photo.path);
      if (!isInside(fs.realpathSync(path.dirname(photo.path)), folder.path)) {
        // Reached through a linked folder: moving the photo would move a file of the folder the link leads to.
        if (folder.followSymlinks) {
          skipped.push({ path: photo.path, reason: LINKED_FOLDER });
          continue;
        }
        // A folder on the way replaced by a link to somewhere else would lead outside the library.
        throw new DoppelError(
          'invalid-argument',
          `Refusing to move ${photo.path}: its folder now leads outside the library`,
        );
      }
      if (stat.isSymbolicLink()) {
        if (!folder.followSymlinks) {
          skipped.push({ path: photo.path, reason: 'Is now a symbolic link, and its folder does not follow links' });
          continue;
        }
        // The link moves; what it leads to must still be the file indexed, unchanged.
        linkTarget = fs.readlinkSync(photo.path);
        const target = fs.statSync(photo.path);
        if (!target.isFile() || target.dev !== photo.dev || target.ino !== photo.ino) {
          skipped.push({ path: photo.path, reason: CHANGED });
          continue;
        }
        stat = target;
      }
    } catch (err) {
      if (err instanceof DoppelError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      skipped.push({ path: photo.path, reason: code === 'ENOENT' ? 'No longer exists' : `Cannot read it: ${code}` });
      continue;
    }
    if (stat.size !== photo.size || Math.abs(stat.mtimeMs - photo.mtimeMs) > 1) {
      skipped.push({ path: photo.path, reason: CHANGED });
      continue;
    }
    planned.push({
      photoId: id,
      folderId: folder.id,
      path: photo.path,
      hash: photo.hash,
      size: photo.size,
      linkTarget,
    });
  }
  if (inReference.length > 0) {
    throw new DoppelError(
      'invalid-argument',
      `Refusing to move photos in reference folders: ${inReference.join(', ')}`,
    );
  }
  return { planned, skipped };
}

/** Moves photos to the trash; a dry run only reports what would move. */
export function trashPhotos(
  store: Store,
  trasher: Trasher,
  photoIds: readonly number[],
  opts: { dryRun?: boolean } = {},
): Promise<TrashOutcome> {
  return withActionLock(lockFileFor(store.path), async () => {
    await settleMoves(store, trasher);
    return trashLocked(store, trasher, photoIds, opts);
  });
}

async function trashLocked(
  store: Store,
  trasher: Trasher,
  photoIds: readonly number[],
  opts: { dryRun?: boolean },
): Promise<TrashOutcome> {
  const { planned, skipped } = plan(store, photoIds);
  const dryRun = opts.dryRun ?? false;
  const files: TrashedFile[] = [];
  let undoable = trasher.restoreUnsupported === null;
  if (dryRun) {
    for (const p of planned) files.push({ photoId: p.photoId, path: p.path });
    return {
      actionId: null,
      dryRun,
      files,
      skipped,
      undoable,
      undoNote: trasher.restoreUnsupported,
      removedIds: [],
    };
  }
  let actionId: number | null = planned.length > 0 ? store.beginAction('trash', trasher.name) : null;
  for (const p of planned) {
    // Journal first: a process killed from here on leaves a row the next trash or undo settles (journal.ts).
    const rowId = store.addActionFile({
      actionId: actionId!,
      folderId: p.folderId,
      path: p.path,
      hash: p.hash,
      size: p.size,
      trashPath: null,
      infoPath: null,
      deletedAt: null,
      state: 'moving',
      linkTarget: p.linkTarget,
    });
    const row = store.getActionFile(rowId)!;
    let record: TrashRecord;
    try {
      record = await trasher.trash(p.path);
    } catch (err) {
      // Failed, perhaps halfway: settle the row as a later run would (it is in its place, or it moved).
      const settled = await settleMove(store, trasher, row).catch(() => 'in-place' as const);
      if (settled === 'moved') {
        if (store.getActionFile(rowId)?.trashPath === null) undoable = false;
        files.push({ photoId: p.photoId, path: p.path });
      } else skipped.push({ path: p.path, reason: reasonOf(err) });
      continue;
    }
    if (record.trashPath === null) undoable = false;
    // The move's record and the removal from the library commit together, right after the move.
    recordMoved(store, row, record, p.photoId);
    files.push({ photoId: p.photoId, path: p.path });
  }
  if (actionId !== null && files.length === 0) {
    store.dropEmptyAction(actionId);
    actionId = null;
  }
  const undoNote = undoable
    ? null
    : (trasher.restoreUnsupported ??
      'Doppel could not tell where the trash put some files: restore them from the trash');
  return { actionId, dryRun, files, skipped, undoable, undoNote, removedIds: files.map((f) => f.photoId) };
}

/** Whether a logged file is back in its place, with its bytes, and gone from the trash. */
async function alreadyBack(f: ActionFile): Promise<boolean> {
  if (f.trashPath === null) return false;
  return !(await exists(f.trashPath)) && (await holdsLoggedBytes(f.path, f));
}

export interface UndoOutcome {
  actionId: number;
  restored: string[];
  failed: FileError[];
  /** Failed files the next undo retries (the action stays open for them). */
  retried: number;
  /** Library folders that got files back (to index again). */
  folderIds: number[];
}

/**
 * Whether a file that failed to come back can never come back through undo: the trash no longer has it, nobody
 * knows where the trash put it, or a file of the user's is in its place (never replaced). Other failures (a
 * permission, an I/O error) may pass: the action stays open for them.
 */
function cannotComeBack(err: unknown): boolean {
  return (
    err instanceof RestoreConflict ||
    (err instanceof DoppelError && (err.kind === 'not-found' || err.kind === 'unsupported'))
  );
}

/**
 * Puts back the files of the last action not yet undone. Files that may still come back (a transient error) keep
 * the action open for the next undo; when every file is back or can never come back, the action is closed, the
 * failures reported, and the next undo goes on to the action before it.
 */
export function undoLastAction(store: Store, trasher: Trasher): Promise<UndoOutcome> {
  return withActionLock(lockFileFor(store.path), async () => {
    await settleMoves(store, trasher);
    return undoLocked(store, trasher);
  });
}

async function undoLocked(store: Store, trasher: Trasher): Promise<UndoOutcome> {
  const action = store.lastOpenAction();
  if (!action) throw new DoppelError('not-found', 'Nothing to undo: no action on files is waiting to be undone');
  if (trasher.restoreUnsupported) throw new DoppelError('unsupported', trasher.restoreUnsupported);
  const restored: string[] = [];
  const restoredIds = new Set<number>();
  const failed: FileError[] = [];
  const folderIds = new Set<number>();
  const gone = new Set<number>();
  for (const f of action.files) {
    if (f.restoredAt !== null) continue;
    try {
      if (await alreadyBack(f)) {
        // Put back by an undo killed before it could say so: only its .trashinfo may be left.
        if (f.infoPath) await fs.promises.rm(f.infoPath, { force: true });
      } else
        await trasher.restore({
          originalPath: f.path,
          trashPath: f.trashPath,
          infoPath: f.infoPath,
          deletedAt: f.deletedAt,
        });
    } catch (err) {
      if (cannotComeBack(err)) {
        gone.add(f.id);
        failed.push({ path: f.path, reason: `${reasonOf(err)}; undo no longer tries it (restore it from the trash)` });
      } else failed.push({ path: f.path, reason: reasonOf(err) });
      continue;
    }
    store.markActionFileRestored(f.id);
    restoredIds.add(f.id);
    restored.push(f.path);
    if (f.folderId !== null) folderIds.add(f.folderId);
    // The action log knows what the file was: check that what came back is the same bytes (a link: the same link).
    if (f.linkTarget !== null) {
      if (!(await holdsLoggedBytes(f.path, f)))
        failed.push({ path: f.path, reason: 'Put back, but it is not the link that was moved' });
    } else if (f.hash !== null) {
      if ((await hashFile(f.path)) !== f.hash) {
        failed.push({ path: f.path, reason: 'Put back, but its content differs from the file that was moved' });
      }
    }
  }
  if (action.files.every((f) => f.restoredAt !== null || restoredIds.has(f.id) || gone.has(f.id)))
    store.markActionUndone(action.id);
  const retried = failed.length - gone.size;
  return { actionId: action.id, restored, failed, retried, folderIds: [...folderIds] };
}
